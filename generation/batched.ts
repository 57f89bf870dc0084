// Generation over many prompts: batches of similar length (less padding),
// left-padded as ChatGLM3's tokenizer pads, results in the prompts' order.
import { generate, type GenerateOptions } from '../model/generate.ts';
import type { GlmModel } from '../model/glm.ts';

export interface Padded {
  readonly inputIds: number[][];
  readonly attentionMask: number[][];
}

export function leftPad(prompts: readonly (readonly number[])[], padId: number): Padded {
  const longest = Math.max(...prompts.map((p) => p.length));
  return {
    inputIds: prompts.map((p) => [...new Array<number>(longest - p.length).fill(padId), ...p]),
    attentionMask: prompts.map((p) => [...new Array<number>(longest - p.length).fill(0), ...new Array<number>(p.length).fill(1)]),
  };
}

export interface BatchProgress {
  readonly done: number;
  readonly total: number;
  readonly newTokens: number;
}

/** New ids for every prompt, each ending with its stop token where it stopped (as generate returns them). `signal` is checked between batches. */
export async function generateAll(
  model: GlmModel,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
  batch: { readonly size: number; readonly padId: number; readonly signal?: AbortSignal; readonly onBatch?: (p: BatchProgress) => void },
): Promise<number[][]> {
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a]!.length - prompts[b]!.length);
  const out: number[][] = new Array(prompts.length);
  let newTokens = 0;
  for (let start = 0; start < order.length; start += batch.size) {
    batch.signal?.throwIfAborted();
    const rows = order.slice(start, start + batch.size);
    const { inputIds, attentionMask } = leftPad(rows.map((i) => prompts[i]!), batch.padId);
    const generated = await generate(model, inputIds, { ...options, attentionMask });
    rows.forEach((i, r) => {
      out[i] = generated[r]!;
      newTokens += generated[r]!.length;
    });
    batch.onBatch?.({ done: start + rows.length, total: prompts.length, newTokens });
  }
  return out;
}
