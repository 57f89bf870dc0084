// Multi-query self-attention: heads query heads share numGroups key/value groups (head h
// uses group h / rep). Every product is a 2-D matMul per (batch row, group) block: wasm runs
// batched or transposed products ~10x slower.
import * as tf from '@tensorflow/tfjs';
import type { GlmConfig } from './config.ts';
import { type Linear, namedLinear, splitLinear } from './linear.ts';
import { matMul2d } from './matmul.ts';
import type { ParamBuilder } from './params.ts';
import { applyRope, type RopeTables } from './rotary.ts';

/** Keys stored transposed so scores need no transpose: kT (B, G, kv, S); v (B, G, S, kv). */
export interface KeyValues {
  readonly kT: tf.Tensor4D;
  readonly v: tf.Tensor4D;
}

/** What every layer of one forward pass shares. */
export interface AttentionInputs {
  readonly batch: number;
  readonly length: number;
  /** Query tables carry the 1/sqrt(kv) scale. */
  readonly ropeQ: RopeTables;
  readonly ropeK: RopeTables;
  readonly swapQ: (x: tf.Tensor2D) => tf.Tensor2D;
  readonly swapK: (x: tf.Tensor2D) => tf.Tensor2D;
  /** Additive mask (B*G, T*rep, past+T). */
  readonly bias: tf.Tensor3D;
}

/** transformer.encoder.layers.N.self_attention.query_key_value: fused [q | k | v] rows, split on load. */
export class QueryKeyValue {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;

  constructor(b: ParamBuilder, name: string, c: GlmConfig) {
    const q = c.numHeads * c.kvChannels;
    const kv = c.numGroups * c.kvChannels;
    [this.query, this.key, this.value] = splitLinear(b, name, [q, kv, kv], c.hiddenSize, c.addQkvBias) as [Linear, Linear, Linear];
  }
}

export class SelfAttention {
  readonly queryKeyValue: QueryKeyValue;
  readonly dense: Linear;
  private readonly heads: number;
  private readonly groups: number;
  private readonly kv: number;

  constructor(b: ParamBuilder, name: string, c: GlmConfig) {
    this.queryKeyValue = new QueryKeyValue(b, `${name}.query_key_value`, c);
    this.dense = namedLinear(b, `${name}.dense`, c.hiddenSize, c.numHeads * c.kvChannels, false);
    this.heads = c.numHeads;
    this.groups = c.numGroups;
    this.kv = c.kvChannels;
  }

  /** x (B*T, H); past: prefix or cached keys/values (already rotated). Returns output and present keys/values. */
  apply(x: tf.Tensor2D, a: AttentionInputs, past: KeyValues | undefined): { out: tf.Tensor2D; present: KeyValues } {
    const { batch: B, length: T } = a;
    const G = this.groups;
    const kv = this.kv;
    const rep = this.heads / G;
    const qkv = this.queryKeyValue;
    const q = applyRope(qkv.query.apply(x), a.ropeQ, a.swapQ); // (B*T, heads*kv), scaled
    const k = applyRope(qkv.key.apply(x), a.ropeK, a.swapK); // (B*T, G*kv)
    const v = qkv.value.apply(x); // (B*T, G*kv)

    // query heads of group g are contiguous: (B, T, G, rep*kv) -> (B, G, T, rep*kv) -> (B*G, T*rep, kv)
    const qg = tf.reshape(tf.transpose(tf.reshape(q, [B, T, G, rep * kv]), [0, 2, 1, 3]), [B * G, T * rep, kv]);
    let kT = tf.transpose(tf.reshape(k, [B, T, G, kv]), [0, 2, 3, 1]) as tf.Tensor4D; // (B, G, kv, T)
    let vg = tf.transpose(tf.reshape(v, [B, T, G, kv]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, G, T, kv)
    if (past) {
      kT = tf.concat([past.kT, kT], 3);
      vg = tf.concat([past.v, vg], 2);
    }
    const S = kT.shape[3];
    const qs = tf.unstack(qg) as tf.Tensor2D[];
    const ks = tf.unstack(tf.reshape(kT, [B * G, kv, S])) as tf.Tensor2D[];
    const vs = tf.unstack(tf.reshape(vg, [B * G, S, kv])) as tf.Tensor2D[];
    const scores = tf.stack(qs.map((qi, i) => matMul2d(qi, ks[i]!))) as tf.Tensor3D; // (B*G, T*rep, S)
    const probs = tf.unstack(tf.softmax(tf.add(scores, a.bias))) as tf.Tensor2D[];
    const ctx = tf.stack(probs.map((p, i) => matMul2d(p, vs[i]!))); // (B*G, T*rep, kv)
    // (B, G, T, rep*kv) -> (B, T, G, rep*kv) -> (B*T, heads*kv)
    const merged: tf.Tensor2D = tf.reshape(tf.transpose(tf.reshape(ctx, [B, G, T, rep * kv]), [0, 2, 1, 3]), [B * T, this.heads * kv]);
    return { out: this.dense.apply(merged), present: { kT, v: vg } };
  }
}
