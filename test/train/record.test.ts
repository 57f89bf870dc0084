// training.json is reproducible: a continued run in one folder and an uninterrupted run in
// another write the same bytes; wall times, speeds and paths go to timings.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { currentBackend } from '../../model/backend.ts';
import { timingRecord, trainingRecord } from '../../stages/train/record.ts';
import { Checkpoints } from '../../train/checkpoint.ts';
import { train } from '../../train/trainer.ts';
import { options, silentHooks, syntheticRows, tinyModel } from './tiny.ts';

const data = { train: syntheticRows(32, 1), dev: syntheticRows(8, 2), padId: 0 };
const scratch = (): Checkpoints => new Checkpoints(mkdtempSync(path.join(tmpdir(), 'glmflow-record-')));

async function trained(checkpoints: Checkpoints, maxSteps: number) {
  const model = await tinyModel();
  try {
    return await train(model, data, options({ lr_scheduler_type: 'constant', max_steps: maxSteps }), checkpoints, silentHooks);
  } finally {
    model.dispose();
  }
}

test('training.json: a continued run and an uninterrupted one write the same bytes, with no path or timing in them', async () => {
  const a = scratch();
  await trained(a, 8);
  const continued = await trained(a, 12);
  const straight = await trained(scratch(), 12);
  assert.equal(continued.resumedFrom, 8);
  const p = options({ lr_scheduler_type: 'constant', max_steps: 12 });
  const backend = currentBackend()!;
  const text = (r: typeof straight) => JSON.stringify(trainingRecord(p, backend, r), null, 1);
  assert.equal(text(continued), text(straight));
  const record = text(straight);
  for (const word of [tmpdir(), 'tokens_per_s', 'seconds', 'resumedFrom', 'checkpoint']) assert.ok(!record.includes(word), `training.json holds "${word}"`);
  assert.match(record, new RegExp(`"name": "${backend.name}"`));

  const timings = timingRecord(backend, continued, 1.5) as Record<string, unknown>;
  assert.equal(timings['resumedFrom'], 8);
  assert.equal(timings['checkpoint'], continued.checkpoint);
  assert.ok((timings['tokensPerSecond'] as unknown[]).length > 0);
});
