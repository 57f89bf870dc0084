// SwiGLU MLP: dense_4h_to_h(silu(gate) * up), where dense_h_to_4h's rows are [gate | up].
import * as tf from '@tensorflow/tfjs';
import type { GlmConfig } from './config.ts';
import { type Linear, namedLinear, splitLinear } from './linear.ts';
import type { ParamBuilder } from './params.ts';

export class MLP {
  readonly gate: Linear;
  readonly up: Linear;
  readonly dense4hToH: Linear;

  constructor(b: ParamBuilder, name: string, c: GlmConfig) {
    const ffn = c.ffnHiddenSize;
    [this.gate, this.up] = splitLinear(b, `${name}.dense_h_to_4h`, [ffn, ffn], c.hiddenSize, false) as [Linear, Linear];
    this.dense4hToH = namedLinear(b, `${name}.dense_4h_to_h`, c.hiddenSize, ffn, false);
  }

  /** x (N, H) -> (N, H) */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const gate = this.gate.apply(x);
    return this.dense4hToH.apply(tf.mul(tf.mul(gate, tf.sigmoid(gate)), this.up.apply(x)));
  }
}
