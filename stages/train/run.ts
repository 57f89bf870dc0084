// The train stage's work: open the base model with a fresh (or resumed) prefix,
// train, and hand on the best or last prefix with a record of the run.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../model/backend.ts';
import { loadTokenizer } from '../../tokenizer/artifact.ts';
import { Checkpoints } from '../../train/checkpoint.ts';
import { readTrainRows } from '../../train/rows.ts';
import { train } from '../../train/trainer.ts';
import type { TrainContext } from '../train.ts';
import { openBaseModel } from '../base/model-files.ts';
import { timingRecord, trainingRecord } from './record.ts';
import { reportTraining } from './report.ts';

/** Changing these continues the same training rather than starting another. */
const LENGTH_PARAMS = ['max_steps', 'num_train_epochs'];

export async function runTraining(ctx: TrainContext): Promise<void> {
  const p = ctx.params;
  const backend = await selectBackend();
  ctx.log(backend.description);
  const tokenizer = loadTokenizer(ctx.inputs.tokenizer);
  const data = { train: await readTrainRows(ctx.inputs.train), dev: await readTrainRows(ctx.inputs.dev), padId: tokenizer.padId };
  // the longest example at the training batch size: what the memory check before loading plans for
  const length = data.train.reduce((n, r) => Math.max(n, r.input_ids.length), 1);
  const model = await openBaseModel(
    { descriptor: ctx.inputs.base, config: ctx.inputs.baseConfig, weights: ctx.inputs.baseWeights },
    { preSeqLen: p.pre_seq_len, prefixProjection: p.prefix_projection, seed: p.seed, trainable: 'prefix', pass: { batch: p.per_device_train_batch_size, length, training: true } },
  );
  try {
    const checkpoints = new Checkpoints(path.join(ctx.workDir, ctx.keyWithout(LENGTH_PARAMS)));
    const started = Date.now();
    const result = await train(model, data, p, checkpoints, {
      signal: ctx.signal,
      log: ctx.log,
      metric: ctx.metric,
      progress: (step, total, detail) => ctx.progress(step, total, detail),
    });
    copyFileSync(path.join(result.checkpoint, 'weights.safetensors'), ctx.outputs.prefix);
    writeFileSync(ctx.outputs.record, JSON.stringify(trainingRecord(p, backend, result), null, 1) + '\n');
    writeFileSync(ctx.outputs.timings, JSON.stringify(timingRecord(backend, result, (Date.now() - started) / 1000), null, 1) + '\n');
    ctx.summary(backend.description);
    for (const line of reportTraining(result)) ctx.summary(line);
  } finally {
    model.dispose();
  }
}
