// Autoregressive decoding with a KV cache (or full recomputation, to check the cache), batched
// with left padding, mirroring HF generate + ChatGLM's prepare_inputs / update_model_kwargs:
// each step appends 1 to the attention mask and last position + 1 to the position ids.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';
import type { KeyValues } from './attention.ts';
import type { GlmModel, IdMatrix } from './glm.ts';
import { checkMatrix, leftPadPositionIds } from './masks.ts';
import { checkWasmMemory } from './memory.ts';
import { Rng } from './random.ts';
import { chooseToken, type SamplingOptions } from './sampling.ts';
import { lastRows } from './select.ts';

export interface GenerateOptions extends SamplingOptions {
  readonly maxNewTokens: number;
  /** 1 = token, 0 = left padding. */
  readonly attentionMask?: IdMatrix;
  /** Default: the tokenizer's left-padding positions derived from the mask (0..n-1 without one). */
  readonly positionIds?: IdMatrix;
  /** Tokens that end a row (not included in the output). Default: config.json's eos_token_id; [] = never stop. */
  readonly eosTokenId?: number | readonly number[];
  /** More tokens that end a row, e.g. ChatGLM3's <|user|> / <|observation|>. */
  readonly stopTokenIds?: readonly number[];
  readonly seed?: number;
  /** false recomputes the whole sequence every step (slow; for checking the cache). */
  readonly useCache?: boolean;
  /** Called for every new token of every row as soon as it is chosen (streaming). */
  readonly onToken?: (tokenId: number, row: number) => void;
}

function matrix(m: IdMatrix): number[][] {
  return m instanceof tf.Tensor ? (m.arraySync() as number[][]) : m.map((r) => [...r]);
}

function disposeCache(cache: readonly KeyValues[] | undefined): void {
  for (const kv of cache ?? []) tf.dispose([...kv.kT, ...kv.v]);
}

/** New token ids per row (prompt excluded, stopping token excluded). */
export async function generate(model: GlmModel, promptIds: IdMatrix, o: GenerateOptions): Promise<number[][]> {
  const c = model.config;
  let ids = matrix(promptIds);
  const B = ids.length;
  const n = ids[0]?.length ?? 0;
  if (B === 0 || n === 0) throw new GlmflowError('generate needs a non-empty prompt');
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new GlmflowError(`maxNewTokens must be a non-negative integer, got ${o.maxNewTokens}`);
  let mask = o.attentionMask ? matrix(o.attentionMask) : ids.map((r) => r.map(() => 1));
  checkMatrix('attentionMask', mask, B, n);
  let positions = o.positionIds ? matrix(o.positionIds) : leftPadPositionIds(mask);
  checkMatrix('positionIds', positions, B, n);
  const stops = new Set([...(o.eosTokenId === undefined ? c.eosTokenIds : [o.eosTokenId].flat()), ...(o.stopTokenIds ?? [])]);
  const rng = new Rng(o.seed ?? 0);
  const useCache = o.useCache ?? true;
  const P = model.prefixEncoder ? c.preSeqLen! : 0;
  checkWasmMemory(c, { batch: B, length: n + o.maxNewTokens, past: P, logitRows: B, backward: false }, 'generation');

  const out: number[][] = ids.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let cache: KeyValues[] | undefined;
  try {
    for (let step = 0; step < o.maxNewTokens && done.includes(false); step++) {
      const cached = useCache && cache !== undefined;
      const input = cached
        ? { inputIds: ids.map((r) => r.slice(-1)), positionIds: positions.map((r) => r.slice(-1)), attentionMask: mask.map((r) => [...new Array<number>(P).fill(1), ...r]) }
        : { inputIds: ids, positionIds: positions, attentionMask: mask };
      const p = model.prepare(input, cached ? P + ids[0]!.length - 1 : 0);
      const past = cached ? cache : undefined;
      const [logitsT, ...flatKv] = tf.tidy(() => {
        const { h, presents } = model.hidden(p, past);
        return [model.outputLayer.apply(lastRows(h, p.batch, p.length)), ...(useCache ? presents.flatMap((kv) => [...kv.kT, ...kv.v]) : [])];
      });
      disposeCache(cache);
      const n = p.batch * c.numGroups;
      cache = useCache ? Array.from({ length: flatKv.length / (2 * n) }, (_, l) => ({ kT: flatKv.slice(2 * l * n, (2 * l + 1) * n) as tf.Tensor2D[], v: flatKv.slice((2 * l + 1) * n, (2 * l + 2) * n) as tf.Tensor2D[] })) : undefined;
      const logits = (await logitsT!.data()) as Float32Array;
      logitsT!.dispose();
      const V = c.vocabSize;
      const next = ids.map((row, b) => {
        if (done[b]) return c.padTokenId;
        const seen = [...row.filter((_, t) => mask[b]![t] !== 0)];
        const token = chooseToken(logits.subarray(b * V, (b + 1) * V), seen, o, rng);
        if (stops.has(token)) done[b] = true;
        else {
          out[b]!.push(token);
          o.onToken?.(token, b);
        }
        return token;
      });
      ids = ids.map((row, b) => [...row, next[b]!]);
      mask = mask.map((row) => [...row, 1]);
      positions = positions.map((row) => [...row, row[row.length - 1]! + 1]);
    }
  } finally {
    disposeCache(cache);
  }
  return out;
}
