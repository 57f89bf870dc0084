// Causal-LM cross-entropy over the output layer, computed only at positions whose shifted
// label is not -100 and in chunks of positions, so a 65,024-token vocabulary never
// materialises a [B, T, V] logits tensor. The gradient is written by hand (softmax - onehot)
// and flows back through untransposed 2-D products.
import * as tf from '@tensorflow/tfjs';
import type { Linear } from './linear.ts';

export const IGNORE_INDEX = -100;

/** Positions (rows of the flattened [B*T] hidden states) that carry a target, and the targets. */
export interface LossTargets {
  readonly rows: Int32Array;
  readonly labels: Int32Array;
}

/** logits[b, t] predicts labels[b, t+1]; the last position of each row predicts nothing. */
export function shiftedTargets(labels: readonly (readonly number[])[], vocab: number): LossTargets {
  const rows: number[] = [];
  const targets: number[] = [];
  const T = labels[0]?.length ?? 0;
  labels.forEach((row, b) => {
    for (let t = 0; t + 1 < T; t++) {
      const y = row[t + 1]!;
      if (y === IGNORE_INDEX) continue;
      if (!Number.isInteger(y) || y < 0 || y >= vocab) throw new RangeError(`label ${y} at [${b}, ${t + 1}] is outside [0, ${vocab})`);
      rows.push(b * T + t);
      targets.push(y);
    }
  });
  return { rows: Int32Array.from(rows), labels: Int32Array.from(targets) };
}

/** Rows per chunk so that one chunk of logits stays near 64 MiB. */
function chunkRows(vocab: number): number {
  return Math.max(1, Math.floor((16 << 20) / vocab));
}

function chunks(count: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < count; start += size) out.push([start, Math.min(size, count - start)]);
  return out;
}

/**
 * Sum over chunks of -log softmax(logits)[label]. wasm's Softmax is one native kernel, far
 * cheaper than logSumExp's five passes over a (rows, 65,024) chunk; a probability that
 * underflows to 0 (a loss over ~87 nats) falls back to logsumexp - logit for that chunk.
 * Optionally keeps each chunk's softmax for the backward pass.
 */
function lossSum(h: tf.Tensor2D, labels: Int32Array, output: Linear, keep: tf.Tensor2D[] | undefined): number {
  const V = output.wT.shape[1];
  let total = 0;
  for (const [start, size] of chunks(labels.length, chunkRows(V))) {
    total += tf.tidy(() => {
      const logits = output.apply(tf.slice(h, [start, 0], [size, -1]) as tf.Tensor2D); // (size, V)
      const probs = tf.softmax(logits);
      const flat = tf.tensor1d(Int32Array.from(labels.subarray(start, start + size), (y, i) => i * V + y), 'int32');
      let sum = tf.sum(tf.neg(tf.log(tf.gather(tf.reshape(probs, [-1]), flat)))).dataSync()[0]!;
      if (!Number.isFinite(sum)) sum = tf.sum(tf.sub(tf.logSumExp(logits, 1), tf.gather(tf.reshape(logits, [-1]), flat))).dataSync()[0]!;
      if (keep) keep.push(tf.keep(probs));
      return sum;
    });
  }
  return total;
}

/**
 * Mean cross-entropy of the output layer applied to h (B*T, H) at `targets`; NaN when no
 * position carries a label (as PyTorch). Differentiable w.r.t. h and, when the output layer
 * is trainable, its weight.
 */
export function causalLmLoss(h: tf.Tensor2D, targets: LossTargets, output: Linear): tf.Scalar {
  const { rows, labels } = targets;
  const M = labels.length;
  if (M === 0) return tf.scalar(NaN);
  const V = output.wT.shape[1];
  const forward = (hAll: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const hSel = tf.gather(hAll, tf.tensor1d(rows, 'int32')); // (M, H): gather is fine here, the gradient is ours
    const probs: tf.Tensor2D[] = [];
    const value = tf.scalar(lossSum(hSel, labels, output, probs) / M);
    save([hSel, ...probs]);
    probs.forEach((p) => p.dispose());
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sel, ...kept] = saved as tf.Tensor2D[];
        const scale = tf.div(dy, M);
        const wBack = output.weightForBackward(); // (V, H)
        const dh: tf.Tensor2D[] = [];
        let dwT: tf.Tensor2D | undefined;
        chunks(M, chunkRows(V)).forEach(([start, size], i) => {
          const ids = tf.tensor1d(labels.subarray(start, start + size), 'int32');
          // (softmax - onehot) @ W = softmax @ W - W[labels]: no vocabulary-wide subtraction
          dh.push(tf.mul(tf.sub(tf.matMul(kept[i]!, wBack), tf.gather(wBack, ids)), scale));
          if (output.trainable) {
            // wasm's OneHot returns all zeros when asked for float32 directly: build int32, then cast
            const dlogits = tf.mul(tf.sub(kept[i]!, tf.cast(tf.oneHot(ids, V), 'float32')), scale) as tf.Tensor2D; // (size, V)
            const hc = tf.slice(sel!, [start, 0], [size, -1]) as tf.Tensor2D;
            const g: tf.Tensor2D = tf.matMul(tf.transpose(hc), dlogits); // (H, V)
            dwT = dwT ? (tf.add(dwT, g) as tf.Tensor2D) : g;
          }
        });
        // scatter the selected rows back to all B*T rows (rows are distinct; tensors of the
        // forward scope are gone by now, so the indices are rebuilt)
        const dAll = tf.scatterND(tf.tensor2d(rows, [M, 1], 'int32'), tf.concat(dh, 0), hAll.shape);
        return dwT ? [dAll, dwT] : [dAll];
      },
    };
  };
  if (output.trainable)
    return (tf.customGrad((hAll, _wT, save) => forward(hAll as tf.Tensor2D, save as tf.GradSaveFunc)) as (a: tf.Tensor, b: tf.Tensor) => tf.Scalar)(
      h,
      output.wT,
    );
  return (tf.customGrad((hAll, save) => forward(hAll as tf.Tensor2D, save as tf.GradSaveFunc)) as (a: tf.Tensor) => tf.Scalar)(h);
}

/** The same loss without gradient bookkeeping (evaluation). */
export function evalLoss(h: tf.Tensor2D, targets: LossTargets, output: Linear): tf.Scalar {
  if (targets.labels.length === 0) return tf.scalar(NaN);
  return tf.tidy(() => {
    const hSel = tf.gather(h, tf.tensor1d(targets.rows, 'int32'));
    return tf.scalar(lossSum(hSel, targets.labels, output, undefined) / targets.labels.length);
  });
}
