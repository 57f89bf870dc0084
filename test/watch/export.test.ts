// Exports: a recorded run's metrics as CSV and JSONL, and the optional W&B
// mirror, which reports and never fails when the SDK is missing or unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StateDb } from '../../engine/db.ts';
import { projectPaths } from '../../engine/store.ts';
import { exportCommand } from '../../watch/export/command.ts';
import { metricRows, toCsv } from '../../watch/export/metric-rows.ts';
import { sendToWandb } from '../../watch/export/wandb.ts';
import type { LogEntry } from '../../train/checkpoint.ts';
import { trainingRows } from '../../watch/train-report.ts';

/** A project whose state database holds one training run with three logged steps. */
function recordedProject(): { project: string; run: number } {
  const project = mkdtempSync(path.join(tmpdir(), 'glmflow-export-'));
  const paths = projectPaths(project);
  mkdirSync(paths.state, { recursive: true });
  const db = new StateDb(paths.db);
  const run = db.startRun('run train');
  db.startStage(run, 'train', 'k', { learning_rate: 0.01 }, 'log');
  for (const step of [1, 2, 3]) db.recordMetrics(run, 'train', 'train', step, { loss: 4 - step, learning_rate: 0.01 });
  db.recordMetrics(run, 'train', 'eval', 2, { loss: 3.5 });
  db.finishRun(run, 'ok');
  db.close();
  return { project, run };
}

async function exportText(project: string, ...argv: string[]): Promise<string> {
  let text = '';
  assert.equal(await exportCommand(['split', 'train'], argv, project, (t) => (text += t)), 0);
  return text;
}

test('CSV: a row per series and step, a column per metric, empty where a series did not log it', async () => {
  const { project, run } = recordedProject();
  assert.equal(
    await exportText(project),
    `run,stage,series,step,learning_rate,loss\n${run},train,train,1,0.01,3\n${run},train,eval,2,,3.5\n${run},train,train,2,0.01,2\n${run},train,train,3,0.01,1\n`,
  );
  assert.equal(toCsv(metricRows(1, 'a,b', [{ series: 's"x', name: 'loss', steps: [1], values: [2] }])), 'run,stage,series,step,loss\n1,"a,b","s""x",1,2\n');
});

test('JSONL to a file: one object per line, the format taken from the extension', async () => {
  const { project, run } = recordedProject();
  const out = path.join(project, 'metrics.jsonl');
  assert.equal(await exportText(project, String(run), '--out', out), '');
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[1], { run, stage: 'train', series: 'eval', step: 2, loss: 3.5 });
});

test('export errors: unknown format, a run without metrics, a typo in an option', async () => {
  const { project } = recordedProject();
  await assert.rejects(exportCommand(['train'], ['--format', 'xml'], project), /unknown export format "xml"/);
  await assert.rejects(exportCommand(['train'], ['99'], project), /run 99 logged no metrics/);
  await assert.rejects(exportCommand(['train'], ['--fromat', 'csv'], project), (e: Error & { hint?: string }) => /Unknown option '--fromat'/.test(e.message) && /export --help/.test(e.hint ?? ''));
});

test('with WANDB_API_KEY but no @wandb/sdk installed, the export still succeeds and says W&B got nothing', async () => {
  const { project } = recordedProject();
  // A package name that is not installed stands for the SDK: the real import fails as it does without @wandb/sdk, and nothing reaches the network.
  const absent = '@wandb/sdk-not-installed';
  await assert.rejects(import(absent), { code: 'ERR_MODULE_NOT_FOUND' });
  process.env['WANDB_API_KEY'] = 'test-key';
  let text = '';
  const notes: string[] = [];
  try {
    assert.equal(await exportCommand(['split', 'train'], ['--format', 'jsonl'], project, (t) => (text += t), { note: (line) => notes.push(line), wandbSdk: absent }), 0);
  } finally {
    delete process.env['WANDB_API_KEY'];
  }
  assert.match(text, /"series":"eval"/);
  assert.deepEqual(notes, [`W&B: metrics not sent (${absent} is not installed: npm install --no-save ${absent}); nothing else is affected`]);
});

test('W&B unreachable, hanging or working: a line saying what happened, never a rejection', async () => {
  const rows = metricRows(7, 'train', [{ series: 'train', name: 'loss', steps: [1, 2], values: [3, 2] }]);
  const options = { project: 'p', name: 'glmflow-run-7', config: { learning_rate: 0.01 } };
  const refused = { init: () => Promise.reject(new Error('connect ECONNREFUSED api.wandb.ai:443')), log: () => {}, finish: () => Promise.resolve() };
  assert.equal(await sendToWandb(rows, { ...options, load: async () => refused }), 'W&B: metrics not sent (connect ECONNREFUSED api.wandb.ai:443); nothing else is affected');
  const hanging = { ...refused, init: () => new Promise(() => {}) };
  assert.match(await sendToWandb(rows, { ...options, load: async () => hanging, timeoutMs: 50 }), /not sent \(no answer within 0.05 s\)/);
  const logged: unknown[] = [];
  const working = { init: async (o: unknown) => logged.push(o), log: (v: Record<string, number>, o: { step: number }) => void logged.push([v, o.step]), finish: async () => logged.push('finish') };
  assert.equal(await sendToWandb(rows, { ...options, load: async () => working }), 'W&B: 2 rows sent to project p, run glmflow-run-7');
  assert.deepEqual(logged, [{ ...options }, [{ 'train/train/loss': 3 }, 1], [{ 'train/train/loss': 2 }, 2], 'finish']);
});

test('the rows mirrored to W&B carry each logged training step\'s tokens/s from timings.json', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-rows-'));
  const history: LogEntry[] = [
    { step: 10, series: 'train', values: { loss: 2.5, learning_rate: 0.01 } },
    { step: 10, series: 'eval', values: { loss: 2.7 } },
    { step: 20, series: 'train', values: { loss: 2.1, learning_rate: 0.01 } },
  ];
  writeFileSync(path.join(dir, 'timings.json'), JSON.stringify({ tokensPerSecond: [{ step: 10, tokens_per_s: 700 }, { step: 20, tokens_per_s: 720 }] }));
  assert.deepEqual(trainingRows('train', history, dir), [
    { stage: 'train', series: 'train', step: 10, values: { loss: 2.5, learning_rate: 0.01, tokens_per_s: 700 } },
    { stage: 'train', series: 'eval', step: 10, values: { loss: 2.7 } },
    { stage: 'train', series: 'train', step: 20, values: { loss: 2.1, learning_rate: 0.01, tokens_per_s: 720 } },
  ]);
});
