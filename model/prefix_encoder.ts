// P-tuning v2 prefix encoder: pre_seq_len virtual tokens -> per-layer key/value prefixes.
// Output width L*2*G*kv, laid out [layer][key=0 / value=1][group][channel]. Every prefix id
// is used once in order, so embedding(arange(P)) is the table itself: no gather on a
// trainable tensor (its gradient needs a kernel wasm lacks).
import * as tf from '@tensorflow/tfjs';
import type { KeyValues } from './attention.ts';
import type { GlmConfig } from './config.ts';
import { type Linear, namedLinear } from './linear.ts';
import type { ParamBuilder } from './params.ts';

export class PrefixEncoder {
  readonly embedding: tf.Tensor2D;
  /** trans.0 (kv_size -> hidden), tanh, trans.2 (hidden -> kv_size); only with prefix_projection. */
  readonly trans: readonly [Linear, Linear] | undefined;
  private readonly c: GlmConfig;

  constructor(b: ParamBuilder, c: GlmConfig, preSeqLen: number) {
    const name = 'transformer.prefix_encoder';
    const kvSize = c.numLayers * 2 * c.numGroups * c.kvChannels;
    this.embedding = b.plain(`${name}.embedding.weight`, [preSeqLen, kvSize]) as tf.Tensor2D;
    this.trans = c.prefixProjection
      ? [namedLinear(b, `${name}.trans.0`, c.hiddenSize, kvSize, true), namedLinear(b, `${name}.trans.2`, kvSize, c.hiddenSize, true)]
      : undefined;
    this.c = c;
  }

  /** The raw prefix (P, L*2*G*kv), as the reference's prefix_encoder(ids) for one row. */
  encode(): tf.Tensor2D {
    if (!this.trans) return this.embedding;
    const [t0, t2] = this.trans;
    return t2.apply(tf.tanh(t0.apply(this.embedding)));
  }

  /** Per-layer keys/values for a batch of B rows (every row shares the same tensors); prefix keys are never rotated. */
  keyValues(batch: number, dropout = 0, seed?: number): KeyValues[] {
    const { numLayers: L, numGroups: G } = this.c;
    let pkv: tf.Tensor2D = this.encode();
    if (dropout > 0) pkv = tf.dropout(pkv, dropout, undefined, seed) as tf.Tensor2D;
    // columns are [layer][key / value][group][channel]: transposed, each (layer, k/v, group)
    // is a contiguous (kv, P) row block
    const blocks = tf.split(tf.transpose(pkv), 2 * L * G, 0) as tf.Tensor2D[];
    return Array.from({ length: L }, (_, l) => {
      const kT = blocks.slice(2 * l * G, (2 * l + 1) * G);
      const v = blocks.slice((2 * l + 1) * G, (2 * l + 2) * G).map((t) => tf.transpose(t));
      return { kT: Array.from({ length: batch * G }, (_, i) => kT[i % G]!), v: Array.from({ length: batch * G }, (_, i) => v[i % G]!) };
    });
  }
}
