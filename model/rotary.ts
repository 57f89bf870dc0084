// ChatGLM's rotary embedding: only the first kv/2 channels of each head rotate, in
// interleaved pairs (x[2i], x[2i+1]) with theta_i = base^(-2i/(kv/2)), base = 10000 * rope_ratio.
// Written as rope(x) = x * C + swap(x) * S with per-position tables C, S and swap(x) a constant
// signed pair permutation applied as a 2-D product (no slicing or strided ops in the hot loop).
import * as tf from '@tensorflow/tfjs';
import { constMatMul } from './matmul.ts';

/** cos / sin tables for `heads` heads of `kv` channels, one row per token: [N, heads*kv]. */
export interface RopeTables {
  readonly cos: tf.Tensor2D;
  readonly sin: tf.Tensor2D;
}

/**
 * Tables for flattened positions (row-major [B, T]); `scale` multiplies both, which folds
 * the attention's 1/sqrt(kv) into the queries for free.
 */
export function ropeTables(positions: Int32Array, heads: number, kv: number, ropeRatio: number, scale = 1): RopeTables {
  const { cos, sin } = ropeArrays(positions, heads, kv, ropeRatio, scale);
  return { cos: tf.tensor2d(cos, [positions.length, heads * kv]), sin: tf.tensor2d(sin, [positions.length, heads * kv]) };
}

/** ropeTables' values as plain arrays, [N * heads * kv] each. */
export function ropeArrays(positions: Int32Array, heads: number, kv: number, ropeRatio: number, scale = 1): { cos: Float32Array; sin: Float32Array } {
  const rot = kv / 2;
  const base = 10000 * ropeRatio;
  const f = Math.fround;
  // fp32 like the reference, so large positions round the same way
  const theta = Array.from({ length: rot / 2 }, (_, i) => f(1 / f(base ** f((2 * i) / rot))));
  const width = heads * kv;
  const cos = new Float32Array(positions.length * width);
  const sin = new Float32Array(positions.length * width);
  const headCos = new Float32Array(kv);
  const headSin = new Float32Array(kv);
  for (let n = 0; n < positions.length; n++) {
    const p = positions[n]!;
    for (let i = 0; i < rot / 2; i++) {
      const angle = f(p * theta[i]!);
      headCos[2 * i] = headCos[2 * i + 1] = f(Math.cos(angle)) * scale;
      headSin[2 * i] = headSin[2 * i + 1] = f(Math.sin(angle)) * scale;
    }
    headCos.fill(scale, rot); // pass-through half
    for (let h = 0; h < heads; h++) {
      cos.set(headCos, n * width + h * kv);
      sin.set(headSin, n * width + h * kv);
    }
  }
  return { cos, sin };
}

/** swap(x)[2i] = -x[2i+1], swap(x)[2i+1] = x[2i] on rotary channels; 0 on the pass-through half. */
export function ropeSwap(heads: number, kv: number): { readonly matrix: tf.Tensor2D; readonly transposed: tf.Tensor2D; readonly apply: (x: tf.Tensor2D) => tf.Tensor2D } {
  const width = heads * kv;
  const matrix = tf.tensor2d(swapArray(heads, kv, width), [width, width]);
  const transposed = tf.transpose(matrix);
  return { matrix, transposed, apply: constMatMul(matrix, transposed) };
}

/** The swap matrix for the first `heads` heads of a `width`-wide row (the rest maps to 0), row-major [width, width]. */
export function swapArray(heads: number, kv: number, width: number): Float32Array {
  const r = new Float32Array(width * width); // r[j, c]: input channel j -> output channel c
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < kv / 4; i++) {
      const c0 = h * kv + 2 * i;
      r[(c0 + 1) * width + c0] = -1;
      r[c0 * width + c0 + 1] = 1;
    }
  return r;
}

/** x [N, heads*kv] -> rotated, same shape. */
export function applyRope(x: tf.Tensor2D, t: RopeTables, swap: (x: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.mul(x, t.cos), tf.mul(swap(x), t.sin));
}
