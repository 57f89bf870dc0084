// The generate stage's work: open base + prefix, generate for every eval
// prompt in batches, measure each reference's loss, write one JSON line each.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { backendLabel, selectBackend } from '../../model/backend.ts';
import { stopTokenSet, withoutStopToken } from '../../model/generate.ts';
import { loadTokenizer } from '../../tokenizer/artifact.ts';
import { readEvalExamples } from '../../tokenizer/examples-arrow.ts';
import type { GenerateContext } from '../generate.ts';
import { openBaseModel } from '../../model/base-model.ts';
import { generateAll } from '../../generation/batched.ts';
import { referenceLoss } from './loss.ts';
import { generateOptions } from '../../generation/params.ts';
import type { Generation } from '../../formats/generation.ts';

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
    ctx.inputs.base,
    { prefix: ctx.inputs.prefix, trainable: 'none' },
  );
  try {
    const started = performance.now();
    const options = generateOptions(p, tokenizer);
    const stops = stopTokenSet(model.config, options);
    const generated = await generateAll(model, prompts, options, {
      size: p.batch_size,
      padId: tokenizer.padId,
      signal: ctx.signal,
      onBatch: ({ done, total, newTokens }) => ctx.progress(done, total, `${newTokens} new tokens`),
    });
    const seconds = (performance.now() - started) / 1000;
    const newTokens = generated.reduce((n, ids) => n + ids.length, 0);
    const lines: string[] = [];
    for (let i = 0; i < prompts.length; i++) {
      ctx.signal.throwIfAborted();
      const reference = references[i]!;
      // The answer is what came before the stop token; a row without one ran out of max_new_tokens.
      const prediction = withoutStopToken(generated[i]!, stops);
      const generation: Generation = {
        prompt: tokenizer.decode(prompts[i]!),
        reference: tokenizer.decode(reference, { skipSpecialTokens: true }),
        prediction: tokenizer.decode(prediction, { skipSpecialTokens: true }),
        prompt_tokens: prompts[i]!.length,
        reference_tokens: reference.length,
        prediction_tokens: prediction.length,
        loss: await referenceLoss(model, prompts[i]!, reference),
        finish: prediction.length < generated[i]!.length ? 'stop' : 'length',
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
