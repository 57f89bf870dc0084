// Autoregressive decoding with a KV cache (or full recomputation, to check the cache), batched
// with left padding, mirroring HF generate + ChatGLM's prepare_inputs / update_model_kwargs:
// each step appends 1 to the attention mask and last position + 1 to the position ids.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';
import { type DecodeCache, type DecodeInputs, type KeyValues, toDecodeCache } from './attention.ts';
import type { GlmModel } from './glm.ts';
import { checkMatrix, type IdMatrix, idRows, leftPadPositionIds } from './masks.ts';
import { checkWasmMemory } from './memory.ts';
import { Rng } from './random.ts';
import { ropeArrays, swapArray } from './rotary.ts';
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

function disposeCache(cache: readonly KeyValues[] | undefined): void {
  for (const kv of cache ?? []) tf.dispose([...kv.kT, ...kv.v]);
}

/** Same as masks.ts: exp(score + MASKED - max) underflows to exactly 0. */
const MASKED = -1e9;

/**
 * Batch-1 decoding after the prompt pass, one token per step with the fewest tfjs ops
 * (see decodeAttention): each layer's cache in the DecodeCache layout, the dense weights
 * zero-padded once per generate call (they may be trainable, so not at load).
 */
class Decoder {
  private readonly dense: tf.Tensor2D[];
  private readonly swap: tf.Tensor2D;
  private caches: DecodeCache[];

  constructor(
    private readonly model: GlmModel,
    presents: readonly KeyValues[],
  ) {
    const c = model.config;
    const width = (c.numHeads + 2 * c.numGroups) * c.kvChannels;
    this.dense = model.layers.map((l) => l.selfAttention.denseExpanded());
    this.swap = tf.tensor2d(swapArray(c.numHeads + c.numGroups, c.kvChannels, width), [width, width]);
    const flat = tf.tidy(() => presents.flatMap((kvs) => {
      const d = toDecodeCache(kvs);
      return [d.kT, d.v];
    }));
    this.caches = presents.map((_, l) => ({ kT: flat[2 * l]!, v: flat[2 * l + 1]! }));
  }

  /** Logits (1, V) for `token` at `position`; mask: 1/0 for the prefix, the tokens so far and this one. */
  step(token: number, position: number, mask: readonly number[]): tf.Tensor2D {
    const c = this.model.config;
    const { numHeads: heads, numGroups: G, kvChannels: kv } = c;
    if (position >= c.seqLength) throw new GlmflowError(`position ids must lie in [0, ${c.seqLength}) (seq_length in config.json); got ${position}`);
    const pos = Int32Array.of(position);
    const q = ropeArrays(pos, heads, kv, c.ropeRatio, 1 / Math.sqrt(kv));
    const k = ropeArrays(pos, G, kv, c.ropeRatio);
    const width = (heads + 2 * G) * kv;
    const cos = new Float32Array(width).fill(1);
    const sin = new Float32Array(width);
    cos.set(q.cos), cos.set(k.cos, heads * kv), sin.set(q.sin), sin.set(k.sin, heads * kv);
    const rows = heads + 2 * G;
    const S = mask.length;
    const bias = new Float32Array(rows * S * G);
    for (let r = 0; r < rows; r++) {
      const group = r < heads ? Math.floor(r / (heads / G)) : 0; // k/v rows: any finite row
      for (let s = 0; s < S; s++) for (let g = 0; g < G; g++) if (g !== group || mask[s] === 0) bias[(r * S + s) * G + g] = MASKED;
    }
    const [logits, ...next] = tf.tidy(() => {
      const d: DecodeInputs = { cos: tf.tensor2d(cos, [1, width]), sin: tf.tensor2d(sin, [1, width]), swap: this.swap, bias: tf.tensor2d(bias, [rows, S * G]) };
      let x = this.model.embedding.apply(tf.tensor1d([token], 'int32'));
      const caches = this.model.layers.map((layer, i) => {
        const { out, cache } = layer.decode(x, d, this.dense[i]!, this.caches[i]!);
        x = out;
        return cache;
      });
      const h = this.model.finalLayernorm ? this.model.finalLayernorm.apply(x) : x;
      return [this.model.outputLayer.apply(h), ...caches.flatMap((kvs) => [kvs.kT, kvs.v])];
    });
    this.disposeCaches();
    this.caches = Array.from({ length: next.length / 2 }, (_, l) => ({ kT: next[2 * l] as tf.Tensor2D, v: next[2 * l + 1] as tf.Tensor2D }));
    return logits as tf.Tensor2D;
  }

  /** The cache tensors (to tell the caller which of its own it must keep). */
  tensors(): tf.Tensor[] {
    return this.caches.flatMap((kvs) => [kvs.kT, kvs.v]);
  }

  private disposeCaches(): void {
    for (const kvs of this.caches) tf.dispose([kvs.kT, kvs.v]);
  }

  dispose(): void {
    this.disposeCaches();
    tf.dispose([...this.dense, this.swap]);
  }
}

/** New token ids per row (prompt excluded, stopping token excluded). */
export async function generate(model: GlmModel, promptIds: IdMatrix, o: GenerateOptions): Promise<number[][]> {
  const c = model.config;
  let ids = await idRows(promptIds);
  const B = ids.length;
  const n = ids[0]?.length ?? 0;
  if (B === 0 || n === 0) throw new GlmflowError('generate needs a non-empty prompt');
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new GlmflowError(`maxNewTokens must be a non-negative integer, got ${o.maxNewTokens}`);
  let mask = o.attentionMask ? await idRows(o.attentionMask) : ids.map((r) => r.map(() => 1));
  checkMatrix('attentionMask', mask, B, n);
  let positions = o.positionIds ? await idRows(o.positionIds) : leftPadPositionIds(mask);
  checkMatrix('positionIds', positions, B, n);
  const stops = new Set([...(o.eosTokenId === undefined ? c.eosTokenIds : [o.eosTokenId].flat()), ...(o.stopTokenIds ?? [])]);
  const rng = new Rng(o.seed ?? 0);
  const useCache = o.useCache ?? true;
  const P = model.prefixEncoder ? c.preSeqLen! : 0;
  checkWasmMemory(c, { batch: B, length: n + o.maxNewTokens, past: P, logitRows: B, backward: false }, 'generation');

  const out: number[][] = ids.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let cache: KeyValues[] | undefined;
  let decoder: Decoder | undefined;
  try {
    for (let step = 0; step < o.maxNewTokens && done.includes(false); step++) {
      if (B === 1 && cache !== undefined && decoder === undefined) {
        decoder = new Decoder(model, cache);
        // G === 1 keeps the same tensors
        const kept = new Set<tf.Tensor>(decoder.tensors());
        tf.dispose(cache.flatMap((kv) => [...kv.kT, ...kv.v]).filter((t) => !kept.has(t)));
        cache = undefined;
      }
      const cached = useCache && (cache !== undefined || decoder !== undefined);
      const input = cached
        ? { inputIds: ids.map((r) => r.slice(-1)), positionIds: positions.map((r) => r.slice(-1)), attentionMask: mask.map((r) => [...new Array<number>(P).fill(1), ...r]) }
        : { inputIds: ids, positionIds: positions, attentionMask: mask };
      let logitsT: tf.Tensor | undefined;
      if (decoder) logitsT = decoder.step(ids[0]![ids[0]!.length - 1]!, positions[0]![positions[0]!.length - 1]!, input.attentionMask[0]!);
      else {
        const p = await model.prepare(input, cached ? P + ids[0]!.length - 1 : 0);
        const past = cached ? cache : undefined;
        const [l, ...flatKv] = tf.tidy(() => {
          const { h, presents } = model.hidden(p, past);
          return [model.outputLayer.apply(p.length === 1 ? h : lastRows(h, p.batch, p.length)), ...(useCache ? presents.flatMap((kv) => [...kv.kT, ...kv.v]) : [])];
        });
        logitsT = l;
        disposeCache(cache);
        const n = p.batch * c.numGroups;
        cache = useCache ? Array.from({ length: flatKv.length / (2 * n) }, (_, l) => ({ kT: flatKv.slice(2 * l * n, (2 * l + 1) * n) as tf.Tensor2D[], v: flatKv.slice((2 * l + 1) * n, (2 * l + 2) * n) as tf.Tensor2D[] })) : undefined;
      }
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
    decoder?.dispose();
  }
  return out;
}
