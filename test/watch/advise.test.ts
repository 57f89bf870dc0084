// The tuning advisor on synthetic curves of every shape it knows, and on a real
// overfitting run of the tiny model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Checkpoints } from '../../train/checkpoint.ts';
import { trainParams } from '../../train/params.ts';
import { train } from '../../train/trainer.ts';
import { adviseTraining, nextCommand, setFlag } from '../../watch/advise/advice.ts';
import { diagnose, type Diagnosis, type DiagnosisKind } from '../../watch/advise/diagnose.ts';
import type { LossCurves, Point } from '../../watch/advise/loss-curves.ts';
import { options, silentHooks, syntheticRows, tinyModel } from '../train/tiny.ts';

const params = trainParams.parse({ learning_rate: 0.02, max_steps: 200 });

/** Points every `every` steps up to `steps`, valued by f(step). */
function curve(steps: number, every: number, f: (step: number) => number): Point[] {
  return Array.from({ length: steps / every }, (_, i) => ({ step: (i + 1) * every, value: f((i + 1) * every) }));
}

const kinds = (ds: readonly Diagnosis[]): DiagnosisKind[] => ds.map((d) => d.kind);
const find = (ds: readonly Diagnosis[], kind: DiagnosisKind): Diagnosis => {
  const d = ds.find((x) => x.kind === kind);
  assert.ok(d, `expected a "${kind}" diagnosis, got ${kinds(ds).join(', ') || 'none'}`);
  return d;
};
const sets = (d: Diagnosis): string[] => d.suggestions.map((s) => s.set);

test('a healthy run (train and eval falling together, then levelling) gets no diagnosis', () => {
  const healthy: LossCurves = { train: curve(200, 10, (s) => 1 + 3 * Math.exp(-s / 40)), eval: curve(200, 40, (s) => 0.95 + 3.2 * Math.exp(-s / 40)) };
  assert.deepEqual(diagnose(healthy, params), []);
});

test('loss falling too slowly: raise the learning rate, with the drop and slope as evidence', () => {
  const slow: LossCurves = { train: curve(200, 10, (s) => 4 - 0.001 * s), eval: curve(200, 40, (s) => 3.9 - 0.001 * s) };
  const d = find(diagnose(slow, params), 'slow');
  assert.match(d.evidence.join('\n'), /fell only 4.8% \(3.99 → 3.8\) over steps 10–200/);
  assert.match(d.evidence.join('\n'), /slope −0.1 per 100 steps/);
  assert.deepEqual(sets(d), ['train.learning_rate=0.06']);
});

test('overfitting: train loss falling far below a flat or rising eval loss → weight decay, more data, stop earlier', () => {
  const overfit: LossCurves = { train: curve(200, 10, (s) => 4 * Math.exp(-s / 50)), eval: curve(200, 20, (s) => 3 + 0.004 * (s - 60) ** 2 / 60) };
  const ds = diagnose(overfit, params);
  const d = find(ds, 'overfitting');
  assert.match(d.title, /rising/);
  assert.match(d.evidence.join('\n'), /train loss fell 98% \(3.27 → 0.0733\) by step 200/);
  assert.match(d.evidence.join('\n'), /at step 200 eval loss is 58.8× the train loss/);
  assert.deepEqual(sets(d), ['train.weight_decay=0.01', 'split.subset=1', 'train.max_steps=60']);
  // A decay already in use is raised tenfold; none is suggested past 0.1.
  assert.deepEqual(sets(find(diagnose(overfit, { ...params, weight_decay: 0.02 }), 'overfitting'))[0], 'train.weight_decay=0.1');
  assert.ok(!sets(find(diagnose(overfit, { ...params, weight_decay: 0.1 }), 'overfitting')).some((s) => s.startsWith('train.weight_decay')));
  const flat = find(diagnose({ ...overfit, eval: curve(200, 20, (s) => (s < 100 ? 3 - s / 200 : 2.5)) }, params), 'overfitting');
  assert.match(flat.title, /flat/);
});

test('eval minimum followed by a rise: the best step, early stopping and the best checkpoint', () => {
  const rise: LossCurves = { train: curve(200, 10, (s) => 3 - s / 200), eval: curve(200, 20, (s) => 2.5 + ((s - 80) / 100) ** 2) };
  const d = find(diagnose(rise, params), 'eval-minimum');
  assert.equal(d.title, 'eval loss was lowest at step 80, then rose');
  assert.match(d.evidence.join('\n'), /lowest at step 80: 2.5 \(evaluation 4 of 10\)/);
  assert.match(d.evidence.join('\n'), /then rose to 3.94 by step 200 \(\+58% over 6 evaluations\)/);
  assert.deepEqual(sets(d), ['train.early_stopping_patience=3', 'train.max_steps=80']);
  const noBest = diagnose(rise, { ...params, load_best_model_at_end: false, early_stopping_patience: 2 });
  assert.deepEqual(sets(find(noBest, 'eval-minimum')), ['train.load_best_model_at_end=true', 'train.max_steps=80']);
  // Noise after the minimum (under 3%) is not a rise.
  const wobble = { ...rise, eval: curve(200, 20, (s) => (s === 100 ? 2.49 : 2.5)) };
  assert.ok(!kinds(diagnose(wobble, params)).includes('eval-minimum'));
});

test('NaN or Infinity in a curve: diverged, at the first bad step → lower the rate, raise the batch, clip', () => {
  const nan: LossCurves = { train: [...curve(50, 10, (s) => 3 - s / 100), { step: 60, value: Number.NaN }], eval: curve(40, 20, () => 3) };
  const d = find(diagnose(nan, params), 'diverged');
  assert.equal(d.title, 'train loss became NaN: training diverged');
  assert.deepEqual(d.evidence, ['train loss was NaN at step 60 (2.5 at step 50)']);
  assert.deepEqual(sets(d), ['train.learning_rate=0.005', 'train.per_device_train_batch_size=16']);
  assert.deepEqual(sets(find(diagnose(nan, { ...params, max_grad_norm: 0 }), 'diverged')).at(-1), 'train.max_grad_norm=1');
  const infEval = find(diagnose({ train: curve(50, 10, () => 2), eval: [{ step: 20, value: Infinity }] }, params), 'diverged');
  assert.match(infEval.title, /eval loss became Infinity/);
});

test('loss rising again after falling: diverging; and no "too slow" advice on an unstable run', () => {
  const blowUp: LossCurves = { train: curve(100, 10, (s) => (s <= 50 ? 3 - s / 25 : 1 + (s - 50) / 10)), eval: [] };
  const ds = diagnose(blowUp, params);
  assert.deepEqual(kinds(ds), ['diverged']);
  assert.match(ds[0]!.evidence[0]!, /fell to 1 at step 50, then rose to 6 by step 100 \(×6\)/);
});

test('oscillation: train loss swinging up and down with no net progress → lower the rate or raise the batch', () => {
  const zigzag: LossCurves = { train: curve(200, 10, (s) => 3 + (s % 20 === 0 ? 0.6 : -0.6)), eval: [] };
  const ds = diagnose(zigzag, params);
  assert.deepEqual(kinds(ds), ['oscillating']);
  assert.match(ds[0]!.evidence.join('\n'), /changed direction 18 times in 20 logged points \(steps 10–200\)/);
  assert.match(ds[0]!.evidence.join('\n'), /average swing 1.2 \(40% of its mean level 3\)/);
  assert.deepEqual(sets(ds[0]!), ['train.learning_rate=0.005', 'train.per_device_train_batch_size=16']);
  // Minibatch noise (about 10% swings around a flat level, as the embedded run logs) is not oscillation.
  const minibatch = { train: curve(150, 10, (s) => 0.2 + (s % 20 === 0 ? 0.01 : -0.01)), eval: [] };
  assert.ok(!kinds(diagnose(minibatch, params)).includes('oscillating'));
  // Small noise around a falling trend is not oscillation.
  const noisy = { train: curve(200, 10, (s) => 4 * Math.exp(-s / 100) + (s % 20 === 0 ? 0.03 : -0.03)), eval: [] };
  assert.ok(!kinds(diagnose(noisy, params)).includes('oscillating'));
});

test('train loss above eval loss: dev set too small or easy, or not converged (then more steps)', () => {
  const above: LossCurves = { train: curve(200, 10, (s) => 3 - s / 100), eval: curve(200, 40, (s) => 2.2 - s / 150) };
  const d = find(diagnose(above, params), 'train-above-eval');
  assert.match(d.evidence[0]!, /^at steps 120, 160, 200: train loss 1.8, 1.4, 1 vs eval 1.4, 1.13, 0.867$/);
  assert.deepEqual(sets(d), ['train.max_steps=400', 'split.ratios={"train":0.7,"dev":0.2,"test":0.1}']);
  const byEpochs = find(diagnose(above, { ...params, max_steps: -1, num_train_epochs: 3 }), 'train-above-eval');
  assert.equal(sets(byEpochs)[0], 'train.num_train_epochs=6');
  // Converged (flat train loss): only the dev split is suggested.
  const flat = find(diagnose({ train: curve(200, 10, () => 2), eval: curve(200, 40, () => 1.5) }, params), 'train-above-eval');
  assert.deepEqual(sets(flat), ['split.ratios={"train":0.7,"dev":0.2,"test":0.1}']);
});

test('suggestions print as shell-ready --set flags, and the next command takes one value per param', () => {
  assert.equal(setFlag('train.learning_rate=1.5e-5'), '--set train.learning_rate=1.5e-5');
  assert.equal(setFlag('split.ratios={"train":0.7,"dev":0.2,"test":0.1}'), `--set 'split.ratios={"train":0.7,"dev":0.2,"test":0.1}'`);
  const ds = diagnose({ train: curve(200, 10, (s) => 4 * Math.exp(-s / 50)), eval: curve(200, 20, (s) => 3 + 0.004 * (s - 60) ** 2 / 60) }, params);
  assert.equal(nextCommand(ds), 'npx tsx pipeline.ts run train --set train.weight_decay=0.01 --set train.early_stopping_patience=3');
  assert.equal(nextCommand([]), undefined);
});

test('a real overfitting run of the tiny model: the advisor finds the overfitting and the eval minimum in TrainResult.history', async () => {
  // Dev wants another reply than train: the better the prefix fits train, the worse dev gets.
  const overfit = { train: syntheticRows(8, 3), dev: syntheticRows(8, 4, [40, 41, 42, 43, 44, 45]), padId: 0 };
  const model = await tinyModel();
  const p = options({ max_steps: 60, eval_steps: 4, save_steps: 1000, lr_scheduler_type: 'constant' });
  const r = await train(model, overfit, p, new Checkpoints(mkdtempSync(path.join(tmpdir(), 'glmflow-advise-'))), silentHooks);
  model.dispose();
  const lines = adviseTraining(r.history, p);
  const text = lines.join('\n');
  assert.match(text, /⚠ overfitting: train loss keeps falling while eval loss is rising/, text);
  assert.match(text, new RegExp(`⚠ eval loss was lowest at step ${r.bestStep}, then rose`), text);
  assert.match(text, /--set train\.weight_decay=0\.01/);
  assert.match(text, /--set train\.early_stopping_patience=3/);
  assert.ok(!/falls too slowly|diverg|oscillat/.test(text), text);
});
