// Multi-query self-attention: query heads share numGroups key/value groups (head h uses group
// h / rep, so a group's query heads are contiguous columns of q). Projections run on all B*T
// rows; attention then runs per (batch row, group) on 2-D blocks of them: wasm runs batched
// or transposed products ~10x slower, and unstacking a (B*G, T*rep, S) tensor copied it
// whole (0.7 s of a 5 s training step).
import * as tf from '@tensorflow/tfjs';
import type { GlmConfig } from './config.ts';
import { type Linear, namedLinear } from './linear.ts';
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
  /** Query tables carry the 1/sqrt(kv) scale. */
  readonly ropeQ: RopeTables;
  readonly ropeK: RopeTables;
  readonly swapQ: (x: tf.Tensor2D) => tf.Tensor2D;
  readonly swapK: (x: tf.Tensor2D) => tf.Tensor2D;
  /** Additive mask per batch row: (T*rep, past+T), query rows ordered (t, r). */
  readonly bias: readonly tf.Tensor2D[];
}

/**
 * transformer.encoder.layers.N.self_attention.query_key_value: one product for the fused
 * [q | k | v] rows, then one split into queries, keys and each group's values (fewer ops per
 * generated token than a product per group).
 */
export class QueryKeyValue {
  readonly fused: Linear;
  private readonly sizes: number[];

  constructor(b: ParamBuilder, name: string, c: GlmConfig) {
    const G = c.numGroups;
    const kv = c.kvChannels;
    this.sizes = [c.numHeads * kv, G * kv, ...new Array<number>(G).fill(kv)];
    this.fused = namedLinear(b, name, this.sizes.reduce((a, n) => a + n), c.hiddenSize, c.addQkvBias);
  }

  /** x (N, H) -> q (N, heads*kv), k (N, G*kv), per-group v (N, kv) */
  apply(x: tf.Tensor2D): { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D[] } {
    const [q, k, ...v] = tf.split(this.fused.apply(x), this.sizes, 1) as tf.Tensor2D[];
    return { q: q!, k: k!, v };
  }
}

/** The n equal column blocks of x. */
function columnBlocks(x: tf.Tensor2D, n: number): tf.Tensor2D[] {
  return n === 1 ? [x] : (tf.split(x, n, 1) as tf.Tensor2D[]);
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

  get dims(): { heads: number; groups: number; kv: number } {
    return { heads: this.heads, groups: this.groups, kv: this.kv };
  }

  /** dense's wT with 2G*kv zero rows appended (decodeAttention); the caller disposes it. */
  denseExpanded(): tf.Tensor2D {
    return tf.tidy(() => tf.concat([this.dense.wT, tf.zeros([2 * this.groups * this.kv, this.dense.wT.shape[1]])], 0));
  }

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
    const qkv = this.queryKeyValue.apply(x);
    const qGroups = columnBlocks(applyRope(qkv.q, a.ropeQ, a.swapQ), G); // scaled
    const kGroups = columnBlocks(applyRope(qkv.k, a.ropeK, a.swapK), G);
    const kT: tf.Tensor2D[] = [];
    const v: tf.Tensor2D[] = [];
    const ctx: tf.Tensor2D[][] = Array.from({ length: B }, () => []); // [b][g]: (T, rep*kv)
    for (let g = 0; g < G; g++) {
      const qs = rowBlocks(qGroups[g]!, B);
      const ks = rowBlocks(kGroups[g]!, B);
      const vs = rowBlocks(qkv.v[g]!, B);
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

/**
 * One layer's cache for single-token decoding at batch 1, all groups together with column
 * (kT) / row (v) s * G + g for position s and group g, so a step appends G columns / rows
 * with one concat per layer: kT (kv, S*G), v (S*G, kv).
 */
export interface DecodeCache {
  readonly kT: tf.Tensor2D;
  readonly v: tf.Tensor2D;
}

/** What every layer of one decoding step shares (see SelfAttention.decode). */
export interface DecodeInputs {
  /** Rope tables over the fused [q | k | v] row: queries scaled by 1/sqrt(kv), values untouched. */
  readonly cos: tf.Tensor2D;
  readonly sin: tf.Tensor2D;
  /** The swap matrix over the fused row (0 on values). */
  readonly swap: tf.Tensor2D;
  /** (heads + 2G, S*G) additive: each query head sees only its group's columns (and unmasked positions). */
  readonly bias: tf.Tensor2D;
}

/** The per-group keys/values of a batch-1 pass (KeyValues) in the DecodeCache layout. */
export function toDecodeCache(kv: KeyValues): DecodeCache {
  const G = kv.kT.length;
  const [d, S] = kv.kT[0]!.shape;
  return {
    kT: G === 1 ? kv.kT[0]! : tf.reshape(tf.stack(kv.kT as tf.Tensor2D[], 2), [d, S * G]),
    v: G === 1 ? kv.v[0]! : tf.reshape(tf.stack(kv.v as tf.Tensor2D[], 1), [S * G, d]),
  };
}

/**
 * Single-token decoding at batch 1 with the fewest ops (each wasm op costs ~40 µs at one row):
 * rope on the fused qkv row at once, its (heads + 2G, kv) reshape as the query rows (the k/v
 * rows ride along; the dense weight's zero rows drop them), one product for every group's
 * scores with the other groups' columns masked, one softmax, one product for the values.
 * denseExpanded: dense's wT with 2G*kv zero rows appended.
 */
export function decodeAttention(a: SelfAttention, x: tf.Tensor2D, d: DecodeInputs, denseExpanded: tf.Tensor2D, cache: DecodeCache): { out: tf.Tensor2D; cache: DecodeCache } {
  const { heads, groups: G, kv } = a.dims;
  const rows = heads + 2 * G;
  const qkv = a.queryKeyValue.fused.apply(x); // (1, rows*kv)
  const r = tf.reshape(tf.add(tf.mul(qkv, d.cos), tf.mul(tf.matMul(qkv, d.swap), d.sin)), [rows, kv]);
  const kT = tf.concat([cache.kT, tf.transpose(tf.slice(r, [heads, 0], [G, kv]))], 1) as tf.Tensor2D;
  const v = tf.concat([cache.v, tf.slice(r, [heads + G, 0], [G, kv])], 0) as tf.Tensor2D;
  const probs = tf.softmax(tf.add(tf.matMul(r, kT), d.bias)) as tf.Tensor2D;
  const ctx = tf.reshape(tf.matMul(probs, v), [1, rows * kv]);
  return { out: tf.matMul(ctx, denseExpanded), cache: { kT, v } };
}
