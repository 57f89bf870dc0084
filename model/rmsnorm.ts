// RMSNorm: x * rsqrt(mean(x^2) + eps) * weight (no mean subtraction, no bias).
import * as tf from '@tensorflow/tfjs';
import type { ParamBuilder } from './params.ts';

export class RMSNorm {
  readonly weight: tf.Tensor;

  constructor(b: ParamBuilder, name: string, dim: number, private readonly eps: number) {
    this.weight = b.plain(`${name}.weight`, [dim]);
  }

  /** x [N, H] -> [N, H] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const inv = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), this.eps)); // (N, 1)
    return tf.mul(tf.mul(x, inv), this.weight);
  }
}
