// tokenize: conversations (train/dev/test JSONL) → model-ready examples in Arrow
// files, exactly as ChatGLM3's finetune_demo preprocesses them, plus the
// tokenizer artifact every later stage loads. Schemas: stages/tokenize/README.md.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineStage, output } from '../engine/stage.ts';
import { JsonlWriter } from '../formats/jsonl.ts';
import { writeTokenizerArtifact } from '../tokenizer/artifact.ts';
import { ChatGLM3Tokenizer, loadChatGLM3Tokenizer } from '../tokenizer/chatglm3.ts';
import { EncodePool } from '../tokenizer/encode-pool.ts';
import { MemoEncoder } from '../tokenizer/memo-encoder.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { buildCharTokenizer } from './tokenize/char-vocab.ts';
import { tokenizeSplit } from './tokenize/split.ts';
import { describeEvalSplit, describeTrainSplit } from './tokenize/stats.ts';

const params = z.object({
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
  params,
  untracked: ['workers'],
  inputs: { train: 'conversations', dev: 'conversations', test: 'conversations' },
  // The tokenizer file's content hash is part of the cache key: ids made by another tokenizer are never reused.
  // For a model folder only its tokenizer.model counts, not gigabytes of weights.
  files: (p) => ({ tokenizer: p.tokenizer ? tokenizerModelPattern(p.tokenizer) : [] }),
  outputs: {
    train: output('train-examples', 'train.arrow', 'training examples: input_ids, labels (Arrow IPC stream)'),
    dev: output('train-examples', 'dev.arrow', 'dev examples: input_ids, labels (Arrow IPC stream)'),
    test: output('eval-examples', 'test.arrow', 'evaluation pairs: input_ids (prompt), output_ids (reference answer)'),
    tokenizer: output('tokenizer', 'tokenizer.json', 'the tokenizer the ids were made with (load with tokenizer/artifact.ts loadTokenizer)'),
    rejected: output('rejected', 'rejected.jsonl', 'conversations left out, with split, file, line and reason'),
  },
  packages: ['apache-arrow'],
  async run(ctx) {
    const { max_input_length: maxInputLength, max_output_length: maxOutputLength } = ctx.params;
    const limits = { maxInputLength, maxOutputLength };
    const tokenizer: Tokenizer = ctx.params.tokenizer ? loadChatGLM3Tokenizer(ctx.files.tokenizer[0] ?? ctx.params.tokenizer) : await buildCharTokenizer(ctx.inputs.train);
    ctx.log(tokenizer.kind === 'char' ? `character-level tokenizer built from train: ${tokenizer.vocabSize} ids` : `ChatGLM3 tokenizer ${ctx.params.tokenizer}: ${tokenizer.vocabSize} ids`);
    writeTokenizerArtifact(ctx.outputs.tokenizer, tokenizer);

    // The character tokenizer is a map lookup per character: workers would only add copying.
    const pool = tokenizer instanceof ChatGLM3Tokenizer && ctx.params.workers > 0 ? await EncodePool.start(tokenizer.file, ctx.params.workers) : undefined;
    const encoder = new MemoEncoder(tokenizer, pool);
    const rejected = new JsonlWriter(ctx.outputs.rejected);
    try {
      let done = 0;
      for (const split of ['train', 'dev', 'test'] as const) {
        const mode = split === 'test' ? 'eval' : 'train';
        const stats = await tokenizeSplit({
          split,
          input: ctx.inputs[split],
          output: ctx.outputs[split],
          mode,
          encoder,
          limits,
          rejected,
          signal: ctx.signal,
          onProgress: (n) => ctx.progress(done + n, undefined, split),
        });
        done += stats.conversations;
        ctx.summary(mode === 'train' ? describeTrainSplit(split, stats, maxInputLength + maxOutputLength + 1) : describeEvalSplit(split, stats));
      }
      const saved = encoder.requested === 0 ? 0 : 1 - encoder.encoded / encoder.requested;
      ctx.summary(`tokenizer: ${tokenizer.kind}, ${tokenizer.vocabSize} ids; ${rejected.count} conversations rejected; memo saved ${(100 * saved).toFixed(1)}% of encodes`);
    } finally {
      await rejected.close();
      await pool?.close();
    }
  },
});

function tokenizerModelPattern(tokenizer: string): string {
  return existsSync(tokenizer) && statSync(tokenizer).isDirectory() ? path.join(tokenizer, 'tokenizer.model') : tokenizer;
}
