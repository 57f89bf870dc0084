// The score stage on hand-written generations: pairs with an empty text are
// scored 0 and counted (finetune_demo would stop on them), and the count is in
// metrics.json, the summary and the report.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Generation } from '../../formats/generation.ts';
import { scoreStage } from '../../stages/score.ts';
import { runStage } from '../stage-run.ts';

const generation = (prediction: string, reference: string): Generation => ({
  prompt: '在吗',
  reference,
  prediction,
  prompt_tokens: 3,
  reference_tokens: 4,
  prediction_tokens: 4,
  loss: 1,
  finish: 'stop',
  backend: 'wasm',
});

test('score: a pair with an empty prediction or reference scores 0, is counted, and the run goes on', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'glmflow-score-'));
  const generations = path.join(dir, 'generations.jsonl');
  const rows = [
    generation('您好，在的呢', '您好，在的呢'),
    generation(' \u0085\u001c', '您好，在的呢'), // empty after Python's strip (not after trim())
    generation('您好', '\n'),
    generation('\ufeff', '您好'), // the BOM is not whitespace to Python: not empty
  ];
  await writeFile(generations, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const { outputs, summary } = await runStage(scoreStage, { inputs: { generations } });
  const metrics = JSON.parse(await readFile(outputs.metrics, 'utf8')) as Record<string, number>;
  assert.equal(metrics['examples'], 4);
  assert.equal(metrics['empty_pairs'], 2);
  assert.equal(metrics['empty_predictions'], 1);
  assert.equal(metrics['rouge-1'], 25, 'one pair of four scores 100, the rest 0');
  const predictions = (await readFile(outputs.predictions, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { empty: boolean });
  assert.deepEqual(predictions.map((p) => p.empty), [false, true, true, false]);
  assert.ok(summary.some((line) => /^2 scored 0 for an empty prediction or reference \(1 empty predictions\)$/.test(line)), summary.join('\n'));
  assert.match(await readFile(outputs.report, 'utf8'), /pairs scored 0 \(prediction or reference empty\)<\/th><td class="num">2</);
});
