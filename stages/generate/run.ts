// The generate stage's work: open base + prefix, generate for every eval
// prompt in batches, measure each reference's loss, write one JSON line each.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { backendLabel, selectBackend } from '../../model/backend.ts';
import { loadTokenizer } from '../../tokenizer/artifact.ts';
import { readEvalExamples } from '../../tokenizer/examples-arrow.ts';
import type { GenerateContext } from '../generate.ts';
import { openBaseModel } from '../base/model-files.ts';
import { generateAll } from './batched.ts';
import { referenceLoss } from './loss.ts';
import { generateOptions } from './params.ts';
import type { Generation } from './record.ts';

export async function runGenerate(ctx: GenerateContext): Promise<void> {
  const p = ctx.params;
  const backend = await selectBackend();
  ctx.log(backend.description);
  const tokenizer = loadTokenizer(ctx.inputs.tokenizer);
  const prompts: number[][] = [];
  const references: number[][] = [];
  for await (const row of readEvalExamples(ctx.inputs.test)) {
    if (p.limit > 0 && prompts.length >= p.limit) break;
    // Rows are views into the batch buffer: copy them.
    prompts.push(Array.from(row.input_ids));
    references.push(Array.from(row.output_ids));
  }
  const model = await openBaseModel(
    { descriptor: ctx.inputs.base, config: ctx.inputs.baseConfig, weights: ctx.inputs.baseWeights },
    { prefix: ctx.inputs.prefix, trainable: 'none' },
  );
  try {
    const started = performance.now();
    const predictions = await generateAll(model, prompts, generateOptions(p, tokenizer), {
      size: p.batch_size,
      padId: tokenizer.padId,
      signal: ctx.signal,
      onBatch: ({ done, total, newTokens }) => ctx.progress(done, total, `${newTokens} new tokens`),
    });
    const seconds = (performance.now() - started) / 1000;
    const newTokens = predictions.reduce((n, ids) => n + ids.length, 0);
    const lines: string[] = [];
    for (let i = 0; i < prompts.length; i++) {
      ctx.signal.throwIfAborted();
      const reference = references[i]!;
      const prediction = predictions[i]!;
      const generation: Generation = {
        prompt: tokenizer.decode(prompts[i]!),
        reference: tokenizer.decode(reference, { skipSpecialTokens: true }),
        prediction: tokenizer.decode(prediction, { skipSpecialTokens: true }),
        prompt_tokens: prompts[i]!.length,
        reference_tokens: reference.length,
        prediction_tokens: prediction.length,
        loss: await referenceLoss(model, prompts[i]!, reference),
        finish: prediction.length >= p.max_new_tokens ? 'length' : 'stop',
        backend: backendLabel(backend),
      };
      lines.push(JSON.stringify(generation));
    }
    writeFileSync(ctx.outputs.generations, lines.map((l) => l + '\n').join(''));
    ctx.summary(`${prompts.length} examples, ${newTokens} new tokens in ${seconds.toFixed(1)} s (${(newTokens / seconds).toFixed(0)} tokens/s, batch ${p.batch_size})`);
    ctx.summary(backend.description);
    ctx.log(`tensors after generation: ${tf.memory().numTensors}`);
  } finally {
    model.dispose();
  }
}
