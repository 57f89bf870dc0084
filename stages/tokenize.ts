// tokenize: conversations (train/dev/test JSONL) → model-ready examples in Arrow
// files, exactly as ChatGLM3's finetune_demo preprocesses them, plus the
// tokenizer artifact every later stage loads. Schemas: stages/tokenize/README.md.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineStage, output, type StageContext } from '../engine/stage.ts';

export const tokenizeParams = z.object({
  /** ChatGLM3 model folder or its tokenizer.model; empty: a character-level tokenizer built from train. */
  tokenizer: z.string().default(''),
  // The embedded small model is trained on 256-token batches; these fit it with room for the answer.
  max_input_length: z.number().int().min(0).default(128),
  max_output_length: z.number().int().min(0).default(128),
  /**
   * Encode workers for the SentencePiece tokenizer (0: the stage's own thread). Does not change results.
   * 0 by default: on short customer-service messages the in-thread memo encoder measured faster than
   * 2 workers (bench/tokenizer.bench.ts), and workers take about a second to load the model.
   */
  workers: z.number().int().min(0).max(availableParallelism()).default(0),
});

export const tokenizeStage = defineStage({
  name: 'tokenize',
  module: import.meta.url,
  description: 'Tokenize conversations into training and evaluation examples (ChatGLM3 finetune_demo layout)',
  params: tokenizeParams,
  untracked: ['workers'],
  inputs: { train: 'conversations', dev: 'conversations', test: 'conversations' },
  // The tokenizer file's content hash is part of the cache key: ids made by another tokenizer are never reused.
  // For a model folder only its tokenizer.model counts, not gigabytes of weights.
  files: (p, projectDir) => ({ tokenizer: p.tokenizer ? tokenizerModelFile(projectDir, p.tokenizer) : [] }),
  outputs: {
    train: output('train-examples', 'train.arrow', 'training examples: input_ids, labels (Arrow IPC stream)'),
    dev: output('train-examples', 'dev.arrow', 'dev examples: input_ids, labels (Arrow IPC stream)'),
    test: output('eval-examples', 'test.arrow', 'evaluation pairs: input_ids (prompt), output_ids (reference answer)'),
    tokenizer: output('tokenizer', 'tokenizer.json', 'the tokenizer the ids were made with (load with tokenizer/artifact.ts loadTokenizer)'),
    rejected: output('rejected', 'rejected.jsonl', 'conversations left out, with split, file, line and reason'),
  },
  packages: ['apache-arrow'],
  async run(ctx) {
    // Loaded here, not at the top: Arrow and the tokenizers are heavy, and a no-op run should not pay for them.
    const { runTokenize } = await import('./tokenize/run.ts');
    await runTokenize(ctx);
  },
});

/** The tokenizer.model file the `tokenizer` param names: itself, or the one in the model folder it names. */
export function tokenizerModelFile(projectDir: string, tokenizer: string): string {
  const file = path.resolve(projectDir, tokenizer);
  return existsSync(file) && statSync(file).isDirectory() ? path.join(file, 'tokenizer.model') : file;
}

export type TokenizeContext = StageContext<z.output<typeof tokenizeParams>, (typeof tokenizeStage)['inputs'], (typeof tokenizeStage)['outputs'], 'tokenizer'>;
