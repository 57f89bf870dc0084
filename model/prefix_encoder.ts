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

  /** Per-layer keys/values for a batch of B rows; prefix keys are never rotated. */
  keyValues(batch: number, dropout = 0, seed?: number): KeyValues[] {
    const { numLayers: L, numGroups: G, kvChannels: kv } = this.c;
    let pkv: tf.Tensor = this.encode();
    if (dropout > 0) pkv = tf.dropout(pkv, dropout, undefined, seed);
    const P = pkv.shape[0]!;
    const grouped = tf.reshape(pkv, [P, 2 * L, G, kv]); // (P, 2L, G, kv)
    const keysT = tf.unstack(tf.transpose(grouped, [1, 2, 3, 0])) as tf.Tensor3D[]; // 2L x (G, kv, P)
    const values = tf.unstack(tf.transpose(grouped, [1, 2, 0, 3])) as tf.Tensor3D[]; // 2L x (G, P, kv)
    const tile = (t: tf.Tensor3D) => tf.tile(tf.expandDims(t, 0), [batch, 1, 1, 1]) as tf.Tensor4D;
    return Array.from({ length: L }, (_, i) => ({ kT: tile(keysT[2 * i]!), v: tile(values[2 * i + 1]!) }));
  }
}
