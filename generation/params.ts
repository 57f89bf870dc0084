// Generation settings shared by the generate and infer stages and the chat
// command, named as in Hugging Face's GenerationConfig. Light on purpose (zod
// only): stage modules import it at load time.
import { z } from 'zod';
import type { GenerateOptions } from '../model/generate.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';

export const generationShape = {
  // finetune_demo's ptuning_v2.yaml says 512; the embedded model's answers are cut at 128 tokens (tokenize.max_output_length).
  max_new_tokens: z.number().int().min(0).default(128),
  // Greedy by default, as the demo's evaluation (HF GenerationConfig's do_sample=false): results repeat exactly.
  do_sample: z.boolean().default(false),
  temperature: z.number().positive().default(0.8),
  top_p: z.number().gt(0).max(1).default(0.8),
  /** 0: no top-k cut. */
  top_k: z.number().int().min(0).default(0),
  repetition_penalty: z.number().positive().default(1),
  seed: z.number().int().min(0).default(42),
  /**
   * Rows generated together (left-padded). Does not change greedy results. On the wasm backend one row
   * at a time is faster (eval set: 393 vs 319 new tokens/s at 16, bench/generate.bench.ts); raise it on a GPU.
   */
  batch_size: z.number().int().min(1).default(1),
};

export type GenerationParams = z.output<z.ZodObject<typeof generationShape>>;

/** The model's options for these params; a row ends at eos or where ChatGLM3 would hand the turn back (<|user|>, <|observation|>). */
export function generateOptions(p: GenerationParams, tokenizer: Tokenizer): GenerateOptions {
  return {
    maxNewTokens: p.max_new_tokens,
    doSample: p.do_sample,
    temperature: p.temperature,
    topP: p.top_p,
    ...(p.top_k > 0 ? { topK: p.top_k } : {}),
    repetitionPenalty: p.repetition_penalty,
    seed: p.seed,
    eosTokenId: tokenizer.eosId,
    stopTokenIds: [tokenizer.special.user, tokenizer.special.observation],
  };
}
