// Multi-query self-attention: query heads share numGroups key/value groups (head h uses group
// h / rep, so a group's query heads are contiguous rows of query_key_value). Projections run
// per group on all B*T rows; attention then runs per (batch row, group) on 2-D tensors cut
// from contiguous rows: wasm runs batched or transposed products ~10x slower, and unstacking
// a (B*G, T*rep, S) tensor copied it whole (0.7 s of a 5 s training step).
import * as tf from '@tensorflow/tfjs';
import type { GlmConfig } from './config.ts';
import { type Linear, namedLinear, splitLinear } from './linear.ts';
import { matMul2d } from './matmul.ts';
import type { ParamBuilder } from './params.ts';
import { applyRope, type RopeTables } from './rotary.ts';

/**
 * One layer's keys and values (already rotated), index b * G + g for batch row b and group g:
 * kT (kv, S) stored transposed so scores need no transpose, v (S, kv).
 */
export interface KeyValues {
  readonly kT: readonly tf.Tensor2D[];
  readonly v: readonly tf.Tensor2D[];
}

/** What every layer of one forward pass shares. */
export interface AttentionInputs {
  readonly batch: number;
  readonly length: number;
  /** Query tables (one group's heads, rep*kv wide) carry the 1/sqrt(kv) scale. */
  readonly ropeQ: RopeTables;
  readonly ropeK: RopeTables;
  readonly swapQ: (x: tf.Tensor2D) => tf.Tensor2D;
  readonly swapK: (x: tf.Tensor2D) => tf.Tensor2D;
  /** Additive mask per batch row: (T*rep, past+T), query rows ordered (t, r). */
  readonly bias: readonly tf.Tensor2D[];
}

/** transformer.encoder.layers.N.self_attention.query_key_value: fused [q | k | v] rows, split per group on load. */
export class QueryKeyValue {
  readonly query: readonly Linear[];
  readonly key: readonly Linear[];
  readonly value: readonly Linear[];

  constructor(b: ParamBuilder, name: string, c: GlmConfig) {
    const G = c.numGroups;
    const q = (c.numHeads / G) * c.kvChannels;
    const kv = c.kvChannels;
    const parts = splitLinear(b, name, [...new Array<number>(G).fill(q), ...new Array<number>(2 * G).fill(kv)], c.hiddenSize, c.addQkvBias);
    this.query = parts.slice(0, G);
    this.key = parts.slice(G, 2 * G);
    this.value = parts.slice(2 * G);
  }
}

/** The B row blocks (T rows each) of x (B*T, w). */
function rowBlocks(x: tf.Tensor2D, B: number): tf.Tensor2D[] {
  return B === 1 ? [x] : (tf.split(x, B, 0) as tf.Tensor2D[]);
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

  /** x (B*T, H); past: prefix or cached keys/values. Returns output and present keys/values. */
  apply(x: tf.Tensor2D, a: AttentionInputs, past: KeyValues | undefined): { out: tf.Tensor2D; present: KeyValues } {
    const { batch: B, length: T } = a;
    const G = this.groups;
    const kv = this.kv;
    const rep = this.heads / G;
    const qkv = this.queryKeyValue;
    const kT: tf.Tensor2D[] = [];
    const v: tf.Tensor2D[] = [];
    const ctx: tf.Tensor2D[][] = Array.from({ length: B }, () => []); // [b][g]: (T, rep*kv)
    for (let g = 0; g < G; g++) {
      const qs = rowBlocks(applyRope(qkv.query[g]!.apply(x), a.ropeQ, a.swapQ), B); // scaled
      const ks = rowBlocks(applyRope(qkv.key[g]!.apply(x), a.ropeK, a.swapK), B);
      const vs = rowBlocks(qkv.value[g]!.apply(x), B);
      for (let b = 0; b < B; b++) {
        const i = b * G + g;
        const newKT = tf.transpose(ks[b]!);
        kT[i] = past ? tf.concat([past.kT[i]!, newKT], 1) : newKT;
        v[i] = past ? tf.concat([past.v[i]!, vs[b]!], 0) : vs[b]!;
        // (T, rep*kv) -> (T*rep, kv): each query head is a row
        const scores = matMul2d(tf.reshape(qs[b]!, [T * rep, kv]), kT[i]!);
        const probs = tf.softmax(tf.add(scores, a.bias[b]!)) as tf.Tensor2D;
        ctx[b]!.push(tf.reshape(matMul2d(probs, v[i]!), [T, rep * kv]));
      }
    }
    const rows = ctx.map((c): tf.Tensor2D => (G === 1 ? c[0]! : tf.concat(c, 1)));
    const merged: tf.Tensor2D = B === 1 ? rows[0]! : tf.concat(rows, 0); // (B*T, heads*kv)
    return { out: this.dense.apply(merged), present: { kT, v } };
  }
}
