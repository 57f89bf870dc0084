// Attention masks and default position ids, built on the JS side from plain arrays
// (masks built with tfjs comparison ops on the gradient path have no gradient, and
// broadcasting selects are slow on wasm).
import type * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';

/** number[][] rows, or a 2-D tensor (read back to the CPU: masks and positions are built there). */
export type IdMatrix = readonly (readonly number[])[] | tf.Tensor2D;

/** Rows of an id matrix; a tensor is read with an awaited read (GPU backends in Node cannot read synchronously). */
export async function idRows(m: IdMatrix): Promise<number[][]> {
  return Array.isArray(m) ? m.map((r: readonly number[]) => [...r]) : ((await (m as tf.Tensor2D).array()) as number[][]);
}

/** Large enough that exp(score + MASKED - max) underflows to exactly 0, finite to keep softmax NaN-free. */
const MASKED = -1e9;

/**
 * Which key columns each query may attend to, as ChatGLM3's get_masks() + causal mask:
 * past columns (prefix, cache) are visible to every query, current tokens are causal, and
 * pad key columns (attentionMask 0) are blocked. Only when there is no past at all, pad query
 * rows are made fully visible (the reference's guard against all-blocked rows).
 *
 * attentionMask: [B][past + T] covering past columns too, or undefined (no padding).
 * Returns blocked[b][t][s] flattened: 1 = blocked.
 */
export function blockedPattern(attentionMask: readonly (readonly number[])[] | undefined, B: number, T: number, past: number): Uint8Array {
  const S = past + T;
  const blocked = new Uint8Array(B * T * S);
  for (let b = 0; b < B; b++) {
    const row = attentionMask?.[b];
    for (let t = 0; t < T; t++) {
      const queryIsPad = row !== undefined && row[past + t] === 0;
      for (let s = 0; s < S; s++) {
        const causal = s < past || s - past <= t;
        const keyVisible = row === undefined || row[s] !== 0;
        const allowed = (causal && keyVisible) || (past === 0 && queryIsPad);
        blocked[(b * T + t) * S + s] = allowed ? 0 : 1;
      }
    }
  }
  return blocked;
}

/**
 * The additive bias for scores laid out [B, T*rep, S]: each batch row's query rows ordered
 * (t, r), matching the attention's per-group layout (every group shares its batch row's mask).
 */
export function attentionBias(blocked: Uint8Array, B: number, T: number, S: number, rep: number): Float32Array {
  const bias = new Float32Array(B * T * rep * S);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * S;
      for (let r = 0; r < rep; r++) {
        const dst = ((b * T + t) * rep + r) * S;
        for (let s = 0; s < S; s++) if (blocked[src + s]) bias[dst + s] = MASKED;
      }
    }
  return bias;
}

/** The reference's default when no position ids are given: 0..T-1 in every row, ignoring padding. */
export function defaultPositionIds(B: number, T: number): number[][] {
  return Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => t));
}

/** Position ids as ChatGLM3's tokenizer makes them with left padding: 0 on pads, then 0, 1, 2, … */
export function leftPadPositionIds(attentionMask: readonly (readonly number[])[]): number[][] {
  return attentionMask.map((row) => {
    let next = 0;
    return row.map((m) => (m ? next++ : 0));
  });
}

/** Checks a [B][T] integer matrix, naming `what` in errors. */
export function checkMatrix(what: string, m: readonly (readonly number[])[], B: number, T: number): void {
  if (m.length !== B || m.some((row) => row.length !== T))
    throw new GlmflowError(`${what} must be ${B} rows of ${T} values (the shape of inputIds)`);
}
