// llm.c-style comparisons: one OK / NOT OK line per tensor with its max abs difference.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type Nested = number | Nested[];

export function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

/** Prints the comparison and returns the max abs difference (Infinity on a size mismatch). */
export function compare(name: string, actual: ArrayLike<number>, expected: Nested, tol: number): number {
  const e = flat(expected);
  let max = actual.length === e.length ? 0 : Infinity;
  for (let i = 0; i < e.length && max !== Infinity; i++) max = Math.max(max, Math.abs(actual[i]! - e[i]!));
  console.log(`${max <= tol ? 'OK    ' : 'NOT OK'} ${name.padEnd(58)} max abs diff ${max.toExponential(2)} (tol ${tol})`);
  return max;
}

export interface GlmCases {
  train_case: {
    input_ids: number[][];
    attention_mask: number[][];
    position_ids: number[][];
    labels: number[][];
    loss: number;
    loss_default_position_ids: number;
    logits?: Nested;
    logits_last?: number[][];
    logits_logsumexp: number[][];
    logits_max: number[][];
    logits_argmax: number[][];
    prefix_grads: Record<string, Nested>;
    prefix_kv: Nested;
    full_attention_mask_blocked: Nested;
    hidden_states: Nested[];
  };
  generation_case: { prompt_ids: number[][]; max_new_tokens: number; new_token_ids: number[][] };
  generation_batch_case: {
    prompt_ids: number[][];
    attention_mask: number[][];
    position_ids: number[][];
    max_new_tokens: number;
    new_token_ids: number[][];
  };
  adamw_case: {
    lr: number;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    steps: number;
    losses_before_each_step: number[];
    loss_after_last_step: number;
    final_prefix_params: Record<string, Nested>;
  };
}

export function readCases(dir: string): GlmCases {
  return JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as GlmCases;
}

/** The value of a scalar loss tensor from lossAndGrads, read with an awaited read (as the trainer does); disposes it. */
export async function lossValue(loss: { data(): Promise<ArrayLike<number>>; dispose(): void }): Promise<number> {
  const v = (await loss.data())[0]!;
  loss.dispose();
  return v;
}

/**
 * Counts the tensor read-backs from now on: `async` (data(), array()) and `sync` (dataSync(),
 * arraySync(), which GPU backends cannot serve in Node). Counted at the engine, where a tensor's
 * reads go (the wasm backend's kernels read their own host memory directly; those are not counted).
 * `stop()` puts the engine back.
 */
export function countReads(tf: typeof import('@tensorflow/tfjs')): { sync: number; async: number; stop(): void } {
  const engine = tf.engine();
  const { read, readSync } = engine;
  const counts = {
    sync: 0,
    async: 0,
    stop() {
      engine.read = read;
      engine.readSync = readSync;
    },
  };
  engine.read = (dataId) => (counts.async++, read.call(engine, dataId));
  engine.readSync = (dataId) => (counts.sync++, readSync.call(engine, dataId));
  return counts;
}
