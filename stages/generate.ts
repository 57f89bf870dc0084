// generate: the tuned model's answers to the test split's evaluation prompts,
// plus each reference answer's loss under teacher forcing. The first half of
// evaluation: its output is cached per checkpoint (prefix, base, tokenizer, test
// examples) and generation params, so changing how answers are scored
// (the score stage) never generates again.
import { z } from 'zod';
import { defineStage, output, type StageContext } from '../engine/stage.ts';
import { generationShape } from '../generation/params.ts';

export const generateParams = z.object({
  ...generationShape,
  /** Evaluate only the first N examples (0: all), for a quick look. */
  limit: z.number().int().min(0).default(0),
});

export const generateStage = defineStage({
  name: 'generate',
  module: import.meta.url,
  description: "Generate answers to the test split's prompts with the trained prefix; teacher-forced loss of each reference",
  params: generateParams,
  untracked: ['batch_size'],
  inputs: { test: 'eval-examples', tokenizer: 'tokenizer', prefix: 'prefix', base: 'base-model' },
  outputs: {
    generations: output('generations', 'generations.jsonl', 'per example: prompt, reference, prediction (texts and token counts), reference loss, why generation stopped'),
  },
  packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  resources: ['device'],
  async run(ctx) {
    // Loaded here, not at the top: the model code pulls in tfjs, and a no-op run should not pay for it.
    const { runGenerate } = await import('./generate/run.ts');
    await runGenerate(ctx);
  },
});

export type GenerateContext = StageContext<z.output<typeof generateParams>, (typeof generateStage)['inputs'], (typeof generateStage)['outputs'], never>;
