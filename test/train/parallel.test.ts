// Data-parallel training and evaluation over worker threads: the same loss, gradients,
// trained prefix and eval loss as on one thread, up to the order of summation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { collate } from '../../train/batches.ts';
import { Checkpoints } from '../../train/checkpoint.ts';
import { DataParallel } from '../../train/parallel/pool.ts';
import { countTargets, shardRows } from '../../train/parallel/shards.ts';
import { train } from '../../train/trainer.ts';
import { options, REPLY, silentHooks, syntheticRows, tinyModel } from './tiny.ts';

const data = { train: syntheticRows(32, 1), dev: syntheticRows(11, 2), padId: 0 };
const scratch = (): Checkpoints => new Checkpoints(mkdtempSync(path.join(tmpdir(), 'glmflow-parallel-')));

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / scale;
}

/** The prefix's values, flattened; disposes the model. */
async function prefixOf(model: Awaited<ReturnType<typeof tinyModel>>): Promise<number[]> {
  const prefix = model.prefixWeights();
  const values = await Promise.all([...prefix.values()].map(async (t) => Array.from(await t.data())));
  tf.dispose([...prefix.values()]);
  model.dispose();
  return values.flat();
}

test('a batch is cut into row shards that keep their padding, each with its share of the targets', () => {
  const batch = collate(syntheticRows(5, 3), 0);
  const shards = shardRows(batch, 2);
  assert.deepEqual(shards.map((s) => s.batch.inputIds.length), [3, 2]);
  assert.deepEqual(shards.flatMap((s) => s.batch.inputIds), batch.inputIds);
  assert.deepEqual(shards.flatMap((s) => s.batch.attentionMask!), batch.attentionMask);
  assert.equal(shards[0]!.targets + shards[1]!.targets, countTargets(batch.labels));
  // each example's labelled tokens are its reply
  assert.equal(countTargets(batch.labels), 5 * REPLY.length);
  assert.deepEqual(shardRows(collate(syntheticRows(1, 3), 0), 4).map((s) => s.batch.inputIds.length), [1]);
});

test('loss and prefix gradients on 2 threads equal one thread\'s, a shard without targets included', async () => {
  const model = await tinyModel();
  const parallel = await DataParallel.start(model, 2);
  try {
    const rows = syntheticRows(4, 5);
    // the second half of the batch has no labels: its shard is left out, not averaged in as NaN
    const unlabelled = rows.slice(2).map((r) => ({ input_ids: r.input_ids, labels: new Int32Array(r.labels.length).fill(-100) }));
    for (const batch of [collate(syntheticRows(5, 4), 0), collate([...rows.slice(0, 2), ...unlabelled], 0)]) {
      const one = await model.lossAndGrads(batch);
      const two = await parallel.lossAndGrads(batch);
      const [l1, l2] = [(await one.loss.data())[0]!, (await two.loss.data())[0]!];
      assert.ok(Math.abs(l1 - l2) <= 1e-6 * Math.abs(l1), `loss ${l1} vs ${l2}`);
      for (const v of model.trainableVariables()) {
        const diff = maxRelDiff(await two.grads.get(v)!.data(), await one.grads.get(v)!.data());
        assert.ok(diff < 1e-5, `gradient of ${v.name}: relative difference ${diff}`);
      }
      tf.dispose([one.loss, two.loss, ...one.grads.values(), ...two.grads.values()]);
    }
  } finally {
    await parallel.close();
    model.dispose();
  }
});

test('evaluation on 2 threads gives each batch one thread\'s loss, also for a single batch split by rows', async () => {
  const model = await tinyModel();
  const parallel = await DataParallel.start(model, 2);
  try {
    for (const batches of [[collate(syntheticRows(5, 6), 0)], [4, 3, 5].map((n, i) => collate(syntheticRows(n, 7 + i), 0))]) {
      const expected = await Promise.all(batches.map(async (b) => (await model.forward(b, { logits: 'none' })).loss!));
      const actual = await parallel.evalLosses(batches);
      actual.forEach((l, i) => assert.ok(Math.abs(l - expected[i]!) <= 1e-6 * expected[i]!, `batch ${i} of ${batches.length}: ${l} vs ${expected[i]}`));
    }
  } finally {
    await parallel.close();
    model.dispose();
  }
});

test('training and evaluation on 2 threads end where one thread does: same prefix, losses and eval losses', async () => {
  const run = async (workers: number) => {
    const model = await tinyModel();
    const evals: number[] = [];
    const trains: number[] = [];
    const before = tf.memory().numTensors;
    await train(model, data, options({ max_steps: 8, eval_steps: 4, logging_steps: 1, per_device_eval_batch_size: 3, workers }), scratch(), {
      ...silentHooks,
      metric: (series, _step, values) => (series === 'eval' ? evals : trains).push(values['loss']!),
    });
    assert.equal(tf.memory().numTensors, before, `training on ${workers + 1} thread(s) leaks no tensors`);
    return { evals, trains, prefix: await prefixOf(model) };
  };
  const one = await run(0);
  const two = await run(1);
  assert.equal(two.evals.length, 3);
  assert.equal(two.trains.length, 8);
  two.evals.forEach((e, i) => assert.ok(Math.abs(e - one.evals[i]!) <= 1e-5 * one.evals[i]!, `eval ${i}: ${e} vs ${one.evals[i]}`));
  two.trains.forEach((l, i) => assert.ok(Math.abs(l - one.trains[i]!) <= 1e-5 * one.trains[i]!, `train loss ${i}: ${l} vs ${one.trains[i]}`));
  const diff = maxRelDiff(two.prefix, one.prefix);
  assert.ok(diff < 1e-4, `trained prefix: relative difference ${diff}`);
  assert.ok(maxRelDiff(two.prefix, await prefixOf(await tinyModel())) > 1e-3, 'the prefix trained at all');
});
