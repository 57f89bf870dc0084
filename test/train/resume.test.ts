// kill -9 during training, then the same command again: it continues from the
// last checkpoint and ends exactly where an uninterrupted run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Checkpoints } from '../../train/checkpoint.ts';
import { train, type TrainResult } from '../../train/trainer.ts';
import { KILL_TEST_OPTIONS, killTestData, silentHooks, tinyModel } from './tiny.ts';

const CHILD = fileURLToPath(new URL('./train-child.ts', import.meta.url));

test('a training killed with SIGKILL resumes from its last checkpoint and reaches the same final loss', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-resume-'));
  const checkpoints = new Checkpoints(dir);
  const out = path.join(dir, 'result.json');
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, out], { stdio: 'ignore' });
  for (let i = 0; i < 1200 && !checkpoints.steps().some((s) => s >= 15); i++) await sleep(25);
  child.kill('SIGKILL');
  await once(child, 'exit');
  const killedAt = checkpoints.steps().at(-1)!;
  assert.ok(killedAt >= 15 && killedAt < 60, `killed mid-run (last checkpoint ${killedAt})`);

  const rerun = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir, out], { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  const resumed = JSON.parse(readFileSync(out, 'utf8')) as TrainResult;
  assert.ok(resumed.resumedFrom !== null && resumed.resumedFrom >= killedAt, `resumed from ${resumed.resumedFrom}, not step 0`);

  const model = await tinyModel();
  const straight = await train(model, killTestData(), KILL_TEST_OPTIONS, new Checkpoints(mkdtempSync(path.join(tmpdir(), 'glmflow-straight-'))), silentHooks);
  model.dispose();
  assert.equal(resumed.steps, 60);
  assert.equal(resumed.lastTrainLoss, straight.lastTrainLoss);
  assert.equal(resumed.lastEvalLoss, straight.lastEvalLoss);
  assert.deepEqual(readFileSync(path.join(resumed.checkpoint, 'weights.safetensors')), readFileSync(path.join(straight.checkpoint, 'weights.safetensors')));
});
