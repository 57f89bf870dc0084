// nn.Linear with HF weight [out, in], stored pre-transposed as wT [in, out] so the forward
// product x @ wT is an untransposed 2-D matMul (wasm's fast path). A frozen layer also keeps
// w [out, in] so the input gradient dy @ w is one too (on wasm and cpu only: GPUs multiply by a
// transpose at full speed, and the copy would double their memory); a trainable one holds wT as a variable.
// A weight over the device's binding limit (webgpu) is kept as row blocks, each its own product.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';
import { rowBlocks } from './limits.ts';
import { keepsBothLayouts } from './kernels/kernels.ts';
import { constMatMul, matMul2d } from './matmul.ts';
import { gradsOf, type ParamBuilder, toVariable, type VariableGrads } from './params.ts';

/** One row block of the HF weight, stored as wT [in, rows] (and, frozen, w [rows, in]). */
interface Piece {
  readonly wT: tf.Tensor2D;
  readonly w: tf.Tensor2D | undefined;
  readonly product: (x: tf.Tensor2D) => tf.Tensor2D;
}

export class Linear {
  readonly bias: tf.Tensor1D | undefined;
  readonly trainable: boolean;
  /** Row blocks of the HF weight, each within the device's binding limit (one, except on small-limit GPUs). */
  private readonly pieces: readonly Piece[];

  /** weight: row-major [out, in] data (may be a row block of a fused HF tensor); `name` is for errors. */
  constructor(b: ParamBuilder, trainable: boolean, weight: Float32Array, out: number, inFeatures: number, bias: Float32Array | undefined, name: string) {
    this.trainable = trainable;
    let row = 0;
    this.pieces = rowBlocks(name, out, inFeatures).map((rows) => {
      const w = tf.tensor2d(weight.subarray(row * inFeatures, (row + rows) * inFeatures), [rows, inFeatures]);
      row += rows;
      const wT = tf.transpose(w);
      if (trainable) {
        w.dispose();
        const v = b.own(toVariable(wT));
        return { wT: v, w: undefined, product: (x: tf.Tensor2D) => matMul2d(x, v) };
      }
      if (!keepsBothLayouts()) {
        w.dispose();
        return { wT: b.own(wT), w: undefined, product: constMatMul(wT, undefined) };
      }
      return { wT: b.own(wT), w: b.own(w), product: constMatMul(wT, w) };
    });
    this.bias = bias ? b.own(trainable ? toVariable(tf.tensor1d(bias)) : tf.tensor1d(bias)) : undefined;
  }

  /** The stored weight wT [in, out]; only for a layer kept in one piece (every layer below the device limit). */
  get wT(): tf.Tensor2D {
    if (this.pieces.length !== 1) throw new GlmflowError(`this layer is stored in ${this.pieces.length} row blocks (device limit); its whole weight is not available as one tensor`);
    return this.pieces[0]!.wT;
  }

  /** x [N, in] -> [N, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y = this.pieces.length === 1 ? this.pieces[0]!.product(x) : tf.concat(this.pieces.map((p) => p.product(x)), 1);
    return this.bias ? tf.add(y, this.bias) : y;
  }

  /** w [out, in] for products in a backward pass: stored when frozen, else a new transpose. */
  weightForBackward(): tf.Tensor2D {
    const wT = this.wT;
    return this.pieces[0]!.w ?? tf.transpose(wT);
  }

  /** The variables holding the weight (empty when frozen). */
  weightVariables(): tf.Variable[] {
    return this.pieces.flatMap((p) => (p.wT instanceof tf.Variable ? [p.wT] : []));
  }

  variables(): tf.Variable[] {
    return [...this.weightVariables(), ...(this.bias instanceof tf.Variable ? [this.bias] : [])];
  }

  /** The weight in HF layout [out, in] (a new tensor). */
  hf(): tf.Tensor2D {
    return tf.tidy(() => (this.pieces.length === 1 ? tf.transpose(this.pieces[0]!.wT) : tf.concat(this.pieces.map((p) => tf.transpose(p.wT)), 0)));
  }

  /** The weight's gradient in HF layout [out, in] from gradients keyed by variable, if trainable. */
  hfGrad(grads: VariableGrads): tf.Tensor2D | undefined {
    const g = gradsOf(grads, this.weightVariables());
    return g && tf.tidy(() => (g.length === 1 ? tf.transpose(g[0]!) : tf.concat(g.map((x) => tf.transpose(x)), 0)) as tf.Tensor2D);
  }
}

/** A Linear with its own HF names `${name}.weight` [out, in] and optionally `${name}.bias`. */
export function namedLinear(b: ParamBuilder, name: string, out: number, inFeatures: number, withBias: boolean): Linear {
  const weightName = `${name}.weight`;
  const biasName = `${name}.bias`;
  const trainable = b.isTrainable(weightName);
  const layer = new Linear(b, trainable, b.read(weightName, [out, inFeatures]), out, inFeatures, withBias ? b.read(biasName, [out]) : undefined, weightName);
  b.params.push({
    name: weightName,
    shape: [out, inFeatures],
    variables: layer.weightVariables(),
    hf: () => layer.hf(),
    hfGrad: (grads) => layer.hfGrad(grads),
  });
  if (layer.bias) {
    const bias = layer.bias;
    const bVars = bias instanceof tf.Variable ? [bias] : [];
    b.params.push({ name: biasName, shape: [out], variables: bVars, hf: () => tf.clone(bias), hfGrad: (grads) => gradsOf(grads, bVars)?.[0]?.clone() });
  }
  return layer;
}

/**
 * Several Linears reading consecutive row blocks of one fused HF weight (query_key_value,
 * dense_h_to_4h), so the hot loop never slices activations; saving concatenates them back.
 */
export function splitLinear(b: ParamBuilder, name: string, rows: readonly number[], inFeatures: number, withBias: boolean): Linear[] {
  const out = rows.reduce((a, r) => a + r, 0);
  const weightName = `${name}.weight`;
  const biasName = `${name}.bias`;
  const trainable = b.isTrainable(weightName);
  const weight = b.read(weightName, [out, inFeatures]);
  const bias = withBias ? b.read(biasName, [out]) : undefined;
  const parts: Linear[] = [];
  let row = 0;
  for (const r of rows) {
    parts.push(new Linear(b, trainable, weight.subarray(row * inFeatures, (row + r) * inFeatures), r, inFeatures, bias?.subarray(row, row + r), weightName));
    row += r;
  }
  b.params.push({
    name: weightName,
    shape: [out, inFeatures],
    variables: parts.flatMap((p) => p.weightVariables()),
    hf: () => tf.tidy(() => tf.concat(parts.map((p) => p.hf()), 0)),
    hfGrad: (grads) => {
      const g = parts.map((p) => p.hfGrad(grads));
      if (g.some((x) => x === undefined)) return tf.dispose(g as tf.Tensor[]), undefined;
      return tf.tidy(() => tf.concat(g as tf.Tensor2D[], 0));
    },
  });
  if (withBias) {
    const bVars = trainable ? parts.map((p) => p.bias as tf.Variable) : [];
    b.params.push({
      name: biasName,
      shape: [out],
      variables: bVars,
      hf: () => tf.concat(parts.map((p) => p.bias!), 0),
      hfGrad: (grads) => {
        const g = gradsOf(grads, bVars);
        return g && tf.concat(g, 0);
      },
    });
  }
  return parts;
}
