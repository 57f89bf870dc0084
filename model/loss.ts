// Causal-LM cross-entropy over the output layer, computed only at positions whose shifted
// label is not -100 and one vocabulary block at a time (output_layer.ts), so a 65,024-token
// vocabulary never materialises a [B, T, V] logits tensor. Per block j, wasm's native softmax
// gives the block's probabilities p_j and its logsumexp lse_j = max(logits_j) - log(max(p_j))
// (the largest probability is exp(0) / sum); a row's lse combines the blocks'. The gradient is
// written by hand: dlogits_j = c_j * p_j - onehot with c_j = exp(lse_j - lse), so
// dh = sum_j c_j * (p_j @ W_j) - W[label]: the row scale applies to small (M, H) products,
// never to the (M, V) probabilities, and every product is an untransposed 2-D one.
import * as tf from '@tensorflow/tfjs';
import { matMul, rowMax } from './kernels/kernels.ts';
import type { OutputLayer } from './output_layer.ts';

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

/** The labels grouped by vocabulary block. */
interface BlockLabels {
  /** Per block: the positions (indices into labels) whose label it holds, and the label's column in it. */
  readonly positions: Int32Array[];
  readonly columns: Int32Array[];
  /** Index of each label in the block-ordered concatenation of `positions`. */
  readonly order: Int32Array;
}

function groupByBlock(labels: Int32Array, output: OutputLayer): BlockLabels {
  const positions: number[][] = output.blocks.map(() => []);
  const columns: number[][] = output.blocks.map(() => []);
  labels.forEach((y, i) => {
    const [j, column] = output.locate(y);
    positions[j]!.push(i);
    columns[j]!.push(column);
  });
  const order = new Int32Array(labels.length);
  let k = 0;
  for (const ps of positions) for (const i of ps) order[i] = k++;
  return { positions: positions.map((p) => Int32Array.from(p)), columns: columns.map((c) => Int32Array.from(c)), order };
}

/** Per-block values (one tensor per block holding labels), put back in label order. */
function inLabelOrder(g: BlockLabels, perBlock: (j: number) => tf.Tensor): tf.Tensor {
  const parts = g.positions.flatMap((p, j) => (p.length > 0 ? [perBlock(j)] : []));
  return tf.gather(parts.length === 1 ? parts[0]! : tf.concat(parts, 0), tf.tensor1d(g.order, 'int32'));
}

interface VocabPass {
  /** Sum over rows of lse - logit[label]. */
  readonly lossSum: tf.Scalar;
  /** Per block: softmax within the block (M, size) and exp(lse_j - lse) (M, 1). */
  readonly probs: tf.Tensor2D[];
  readonly rescale: tf.Tensor2D[];
}

/** Every vocabulary block's logits for h (M, H), reduced to the loss (and what its gradient needs). */
function vocabPass(h: tf.Tensor2D, labels: BlockLabels, output: OutputLayer): VocabPass {
  const M = h.shape[0];
  const probs: tf.Tensor2D[] = [];
  const lses: tf.Tensor1D[] = [];
  const picked: tf.Tensor1D[] = [];
  output.blocks.forEach((block, j) => {
    const logits = block.apply(h); // (M, size)
    const p = tf.softmax(logits);
    lses.push(tf.sub(rowMax(logits), tf.log(rowMax(p))));
    probs.push(p);
    const rows = labels.positions[j]!;
    if (rows.length > 0) {
      const size = logits.shape[1];
      const flat = Int32Array.from(rows, (i, n) => i * size + labels.columns[j]![n]!);
      picked.push(tf.gather(tf.reshape(logits, [-1]), tf.tensor1d(flat, 'int32')));
    }
  });
  const blockLse = lses.length === 1 ? tf.reshape(lses[0]!, [M, 1]) : tf.stack(lses, 1); // (M, blocks)
  const lse = tf.logSumExp(blockLse, 1, true); // (M, 1)
  const rescale = tf.split(tf.exp(tf.sub(blockLse, lse)), lses.length, 1) as tf.Tensor2D[];
  let k = 0;
  const labelLogits = inLabelOrder(labels, () => picked[k++]!);
  return { lossSum: tf.sum(tf.sub(tf.reshape(lse, [M]), labelLogits)), probs, rescale };
}

/** W[label] (M, H): rows of the output weight in HF layout. */
function labelWeights(labels: BlockLabels, output: OutputLayer): tf.Tensor2D {
  return inLabelOrder(labels, (j) => tf.gather(output.blocks[j]!.weightForBackward(), tf.tensor1d(labels.columns[j]!, 'int32'))) as tf.Tensor2D;
}

/**
 * Mean cross-entropy of the output layer applied to h (B*T, H) at `targets`; NaN when no
 * position carries a label (as PyTorch). Differentiable w.r.t. h and, when the output layer
 * is trainable, its weight. The backward pass disposes the block probabilities it keeps; they
 * are also pushed to `kept` so the caller can free them if no backward pass runs.
 */
export function causalLmLoss(h: tf.Tensor2D, targets: LossTargets, output: OutputLayer, kept: tf.Tensor[]): tf.Scalar {
  const { rows, labels } = targets;
  const M = labels.length;
  if (M === 0) return tf.scalar(NaN);
  const groups = groupByBlock(labels, output);
  const weights = output.trainable ? output.blocks.map((b) => b.wT) : [];
  const f = tf.customGrad((...args) => {
    const hAll = args[0] as tf.Tensor2D;
    const hSel = tf.gather(hAll, tf.tensor1d(rows, 'int32')); // (M, H): gather is fine here, the gradient is ours
    const pass = vocabPass(hSel, groups, output);
    // kept by closure rather than save(), which would copy every (M, size) block
    const held = [...pass.probs, ...pass.rescale, ...(output.trainable ? [hSel] : [])].map((t) => tf.keep(t));
    kept.push(...held);
    return {
      value: tf.div(pass.lossSum, M),
      gradFunc: (dy: tf.Tensor) => {
        const scale = tf.div(dy, M);
        let sum: tf.Tensor2D | undefined; // sum_j c_j * (p_j @ W_j)
        const dwT: tf.Tensor2D[] = [];
        output.blocks.forEach((block, j) => {
          const p = pass.probs[j]!;
          const c = pass.rescale[j]!;
          const term = tf.mul(matMul(p, block.weightForBackward()), c) as tf.Tensor2D;
          sum = sum ? (tf.add(sum, term) as tf.Tensor2D) : term;
          if (output.trainable) {
            // wasm's OneHot returns all zeros when asked for float32 directly: build int32, then cast;
            // -1 (a label in another block) gives a zero row
            const cols = new Int32Array(M).fill(-1);
            groups.positions[j]!.forEach((i, n) => (cols[i] = groups.columns[j]![n]!));
            const oneHot = tf.cast(tf.oneHot(tf.tensor1d(cols, 'int32'), p.shape[1]), 'float32');
            dwT.push(tf.matMul(tf.transpose(hSel), tf.mul(tf.sub(tf.mul(p, c), oneHot), scale)));
          }
        });
        const dh = tf.mul(tf.sub(sum!, labelWeights(groups, output)), scale);
        // scatter the selected rows back to all B*T rows (rows are distinct)
        const dAll = tf.scatterND(tf.tensor2d(rows, [M, 1], 'int32'), dh, hAll.shape);
        tf.dispose(held);
        return [dAll, ...dwT];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Scalar;
  return f(h, ...weights);
}

/** The same loss without gradient bookkeeping (evaluation). */
export function evalLoss(h: tf.Tensor2D, targets: LossTargets, output: OutputLayer): tf.Scalar {
  if (targets.labels.length === 0) return tf.scalar(NaN);
  return tf.tidy(() => {
    const hSel = tf.gather(h, tf.tensor1d(targets.rows, 'int32'));
    return tf.div(vocabPass(hSel, groupByBlock(targets.labels, output), output).lossSum, targets.labels.length);
  });
}
