// The trainer on a tiny model: learning, determinism, checkpoints, early stopping, failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../../model/adamw.ts';
import { SafetensorsFile } from '../../model/safetensors.ts';
import { Checkpoints } from '../../train/checkpoint.ts';
import { train, type TrainHooks } from '../../train/trainer.ts';
import { countReads } from '../model/helpers.ts';
import { options, silentHooks, syntheticRows, tinyModel } from './tiny.ts';

const CHILD = fileURLToPath(new URL('./train-child.ts', import.meta.url));
const data = { train: syntheticRows(32, 1), dev: syntheticRows(8, 2), padId: 0 };
const scratch = (): Checkpoints => new Checkpoints(mkdtempSync(path.join(tmpdir(), 'glmflow-train-')));

test('training lowers train and eval loss, logs metrics, and keeps checkpoints within the limit', async () => {
  const model = await tinyModel();
  const metrics: { series: string; step: number; values: Record<string, number> }[] = [];
  const hooks: TrainHooks = { ...silentHooks, metric: (series, step, values) => metrics.push({ series, step, values: { ...values } }) };
  const checkpoints = scratch();
  const before = tf.memory().numTensors;
  const r = await train(model, data, options({ learning_rate: 0.2, max_steps: 24, save_total_limit: 2, load_best_model_at_end: false }), checkpoints, hooks);
  assert.equal(tf.memory().numTensors, before, 'the training loop leaks no tensors');
  const trainLoss = metrics.filter((m) => m.series === 'train').map((m) => m.values['loss']!);
  const evalLoss = metrics.filter((m) => m.series === 'eval').map((m) => m.values['loss']!);
  assert.equal(r.steps, 24);
  assert.ok(trainLoss.at(-1)! < trainLoss[0]! * 0.9, `train loss should fall: ${trainLoss.join(', ')}`);
  assert.ok(evalLoss.at(-1)! < evalLoss[0]!, `eval loss should fall: ${evalLoss.join(', ')}`);
  for (const m of metrics.filter((m) => m.series === 'train')) {
    for (const key of ['loss', 'learning_rate', 'grad_norm', 'tokens_per_s', 'epoch']) assert.ok(Number.isFinite(m.values[key]), `${key} at step ${m.step}`);
  }
  // Linear decay to zero over 24 steps: the last step's rate is 1/24 of the peak.
  assert.ok(Math.abs(metrics.filter((m) => m.series === 'train').at(-1)!.values['learning_rate']! - 0.2 / 24) < 1e-9);
  assert.deepEqual(checkpoints.steps(), [20, 24]);
  assert.equal(r.checkpoint, checkpoints.path(24));
  for (const file of ['trainable.safetensors', 'optimizer.safetensors', 'weights.safetensors', 'trainer_state.json']) assert.ok(existsSync(path.join(r.checkpoint, file)), file);
  model.dispose();
});

for (const workers of [0, 1]) {
  const how = workers === 0 ? 'on one thread' : 'data-parallel, with the new prefix for the workers';
  test(`a training step reads the device back once (loss and gradient norm together) and never synchronously: ${how}`, async () => {
    const model = await tinyModel();
    // no dev set and no save before the last step: what a step reads is all that is read between steps
    const readsAt: number[] = [];
    const reads = countReads(tf);
    try {
      await train(model, { ...data, dev: [] }, options({ max_steps: 6, gradient_accumulation_steps: 2, save_steps: 100, logging_steps: 1, workers }), scratch(), {
        ...silentHooks,
        progress: () => readsAt.push(reads.async),
      });
    } finally {
      reads.stop();
      model.dispose();
    }
    assert.equal(reads.sync, 0, 'no synchronous read');
    // the first step also holds the start-up's reads (the model copied to the workers), the last the checkpoint's
    assert.deepEqual(readsAt.slice(1, 5).map((n, i) => n - readsAt[i]!), [1, 1, 1, 1], `reads per step: ${readsAt}`);
  });
}

test("training every weight (trainable 'all', as the base stage pretrains): the loss falls and the gradient norm covers every tensor", async () => {
  const model = await tinyModel(1, 'all', 2);
  const metrics: Record<string, number>[] = [];
  try {
    // more variables than a GPU shader may bind at once (16 on lavapipe): the norm must not sum them in one kernel
    assert.ok(model.trainableVariables().length > 16, `${model.trainableVariables().length} variables`);
    await train(model, { ...data, dev: [] }, options({ max_steps: 6, logging_steps: 1, learning_rate: 1e-2 }), scratch(), { ...silentHooks, metric: (series, step, values) => metrics.push({ ...values }) });
  } finally {
    model.dispose();
  }
  assert.ok(metrics.every((m) => Number.isFinite(m['loss']) && m['grad_norm']! > 0));
  assert.ok(metrics.at(-1)!['loss']! < metrics[0]!['loss']!, `loss should fall: ${metrics.map((m) => m['loss']).join(', ')}`);
});

test('same seed and data give the same loss curve', async () => {
  const run = async (): Promise<number[]> => {
    const model = await tinyModel();
    const r = await train(model, data, options(), scratch(), silentHooks);
    model.dispose();
    return r.history.map((e) => e.values['loss']!);
  };
  assert.deepEqual(await run(), await run());
});

test('a longer run continues from the shorter one and matches an uninterrupted run', async () => {
  const checkpoints = scratch();
  let model = await tinyModel();
  await train(model, data, options({ max_steps: 8 }), checkpoints, silentHooks);
  model.dispose();
  model = await tinyModel();
  const logs: string[] = [];
  const continued = await train(model, data, options({ max_steps: 12 }), checkpoints, { ...silentHooks, log: (l) => logs.push(l) });
  model.dispose();
  assert.equal(continued.resumedFrom, 8);
  assert.ok(logs.some((l) => l.startsWith('resumed from')));
  // A straight 12-step run differs only in its schedule before step 8 (linear decay over 8 vs 12 steps);
  // with a constant rate the two must agree exactly.
  const constant = { lr_scheduler_type: 'constant' as const };
  const a = scratch();
  model = await tinyModel();
  await train(model, data, options({ ...constant, max_steps: 8 }), a, silentHooks);
  model.dispose();
  model = await tinyModel();
  const resumed = await train(model, data, options({ ...constant, max_steps: 12 }), a, silentHooks);
  model.dispose();
  model = await tinyModel();
  const straight = await train(model, data, options({ ...constant, max_steps: 12 }), scratch(), silentHooks);
  model.dispose();
  assert.equal(resumed.lastTrainLoss, straight.lastTrainLoss);
  assert.equal(resumed.lastEvalLoss, straight.lastEvalLoss);
});

test('early stopping on an overfitting run keeps the best checkpoint, which rotation never deletes', async () => {
  // Dev has another reply than train: the better the model fits train, the worse dev gets.
  const overfit = { train: syntheticRows(8, 3), dev: syntheticRows(8, 4, [40, 41, 42, 43, 44, 45]), padId: 0 };
  const model = await tinyModel();
  const checkpoints = scratch();
  const r = await train(model, overfit, options({ max_steps: 200, eval_steps: 2, save_steps: 2, save_total_limit: 1, early_stopping_patience: 3, lr_scheduler_type: 'constant' }), checkpoints, silentHooks);
  model.dispose();
  assert.ok(r.stoppedEarly, 'stopped early');
  assert.ok(r.steps < 200);
  assert.ok(r.bestStep !== null && r.bestStep < r.steps);
  assert.equal(r.steps - r.bestStep, 3 * 2, 'three evaluations without improvement');
  assert.equal(r.checkpoint, checkpoints.path(r.bestStep));
  assert.deepEqual(checkpoints.steps(), [r.bestStep, r.steps]);
});

test('a loss that becomes NaN or Infinity stops training with the step and what to try, keeping the last good checkpoint', async () => {
  const checkpoints = scratch();
  let model = await tinyModel();
  await train(model, data, options({ max_steps: 4 }), checkpoints, silentHooks);
  model.dispose();
  model = await tinyModel();
  // Continuing with an absurd rate: the parameters blow up on the first step after the checkpoint.
  const absurd = { ...options({ max_steps: 8, lr_scheduler_type: 'constant', max_grad_norm: 0 }), learning_rate: Infinity };
  await assert.rejects(train(model, data, absurd, checkpoints, silentHooks), (e: Error & { hint?: string }) => {
    assert.match(e.message, /training loss became (NaN|Infinity) at step 6 \(learning rate Infinity\)/);
    assert.match(e.hint ?? '', /lower the learning rate \(e\.g\. --set train\.learning_rate=/);
    assert.ok((e.hint ?? '').includes(`the last good checkpoint is ${checkpoints.path(4)}`), e.hint);
    return true;
  });
  model.dispose();
  assert.deepEqual(checkpoints.steps(), [4]);
});

test('checkpoints are written whole or not at all: a process killed with SIGKILL while saving every step leaves only complete checkpoints', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-whole-'));
  const checkpoints = new Checkpoints(dir);
  const files = ['trainable.safetensors', 'optimizer.safetensors', 'weights.safetensors', 'trainer_state.json'];
  // Three kills, each once a few more checkpoints exist; wherever in a save each lands, what steps() lists must be whole.
  for (const target of [3, 8, 13]) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, path.join(dir, 'result.json'), 'every-step'], { stdio: 'ignore' });
    for (let i = 0; i < 2400 && checkpoints.steps().length < target; i++) await sleep(25);
    child.kill('SIGKILL');
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL', 'the child was killed mid-run, not finished');
    assert.ok(checkpoints.steps().length >= target, `${checkpoints.steps().length} checkpoints`);
    for (const step of checkpoints.steps()) {
      for (const file of files) assert.ok(existsSync(path.join(checkpoints.path(step), file)), `checkpoint ${step} lacks ${file}`);
      for (const file of files.filter((f) => f.endsWith('.safetensors'))) {
        const st = new SafetensorsFile(path.join(checkpoints.path(step), file));
        for (const name of st.entries.keys()) st.read(name); // every tensor's bytes are there
      }
      assert.equal(checkpoints.state(step).step, step);
    }
  }
  // and the latest one restores
  const model = await tinyModel();
  const optimizer = new AdamW({ lr: 1e-3 });
  const latest = checkpoints.steps().at(-1)!;
  assert.equal(checkpoints.restore(latest, model, optimizer).step, latest);
  optimizer.dispose();
  model.dispose();
});
