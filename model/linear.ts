// nn.Linear with HF weight [out, in], stored pre-transposed as wT [in, out] so the forward
// product x @ wT is an untransposed 2-D matMul (wasm's fast path). A frozen layer also keeps
// w [out, in] so the input gradient dy @ w is one too; a trainable one holds wT as a variable.
import * as tf from '@tensorflow/tfjs';
import { constMatMul, matMul2d } from './matmul.ts';
import { gradsOf, type ParamBuilder, toVariable } from './params.ts';

export class Linear {
  readonly wT: tf.Tensor2D;
  readonly bias: tf.Tensor1D | undefined;
  readonly trainable: boolean;
  private readonly w: tf.Tensor2D | undefined;
  private readonly product: (x: tf.Tensor2D) => tf.Tensor2D;

  /** weight: row-major [out, in] data (may be a row block of a fused HF tensor). */
  constructor(b: ParamBuilder, trainable: boolean, weight: Float32Array, out: number, inFeatures: number, bias?: Float32Array) {
    this.trainable = trainable;
    const w = tf.tensor2d(weight, [out, inFeatures]);
    const wT = tf.transpose(w);
    if (trainable) {
      w.dispose();
      this.wT = b.own(toVariable(wT));
      this.w = undefined;
      this.product = (x) => matMul2d(x, this.wT);
    } else {
      this.wT = b.own(wT);
      this.w = b.own(w);
      this.product = constMatMul(this.wT, this.w);
    }
    this.bias = bias ? b.own(trainable ? toVariable(tf.tensor1d(bias)) : tf.tensor1d(bias)) : undefined;
  }

  /** x [N, in] -> [N, out] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y = this.product(x);
    return this.bias ? tf.add(y, this.bias) : y;
  }

  /** w [out, in] for products in a backward pass: stored when frozen, else a new transpose. */
  weightForBackward(): tf.Tensor2D {
    return this.w ?? tf.transpose(this.wT);
  }

  variables(): tf.Variable[] {
    return [this.wT, this.bias].filter((t) => t instanceof tf.Variable) as tf.Variable[];
  }
}

/** A Linear with its own HF names `${name}.weight` [out, in] and optionally `${name}.bias`. */
export function namedLinear(b: ParamBuilder, name: string, out: number, inFeatures: number, withBias: boolean): Linear {
  const weightName = `${name}.weight`;
  const biasName = `${name}.bias`;
  const trainable = b.isTrainable(weightName);
  const layer = new Linear(b, trainable, b.read(weightName, [out, inFeatures]), out, inFeatures, withBias ? b.read(biasName, [out]) : undefined);
  const vars = layer.variables();
  const wVars = vars.filter((v) => v === layer.wT);
  b.params.push({
    name: weightName,
    shape: [out, inFeatures],
    variables: wVars,
    hf: () => tf.transpose(layer.wT),
    hfGrad: (grads) => gradsOf(grads, wVars)?.map((g) => tf.transpose(g))[0],
  });
  if (layer.bias) {
    const bias = layer.bias;
    const bVars = vars.filter((v) => v === bias);
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
    parts.push(new Linear(b, trainable, weight.subarray(row * inFeatures, (row + r) * inFeatures), r, inFeatures, bias?.subarray(row, row + r)));
    row += r;
  }
  const wVars = trainable ? parts.map((p) => p.wT as tf.Variable) : [];
  b.params.push({
    name: weightName,
    shape: [out, inFeatures],
    variables: wVars,
    hf: () => tf.tidy(() => tf.concat(parts.map((p) => tf.transpose(p.wT)), 0)),
    hfGrad: (grads) => {
      const g = gradsOf(grads, wVars);
      return g && tf.tidy(() => tf.concat(g.map((x) => tf.transpose(x)), 0));
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
