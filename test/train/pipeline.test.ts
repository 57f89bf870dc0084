// The real pipeline, ingest to train, on a small shop export in a temporary
// project (--project), with a model small enough to train in seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { takeSessions, writeShopCsv } from '../../data/generate.ts';
import { shopRows } from '../../data/shop.ts';

const PIPELINE = fileURLToPath(new URL('../../pipeline.ts', import.meta.url));
const TINY = [
  'base.num_layers=1', 'base.hidden_size=32', 'base.num_attention_heads=2', 'base.multi_query_group_num=1', 'base.ffn_hidden_size=64',
  'base.pretrain_steps=4', 'base.batch_size=4', 'tokenize.max_input_length=48', 'tokenize.max_output_length=48',
  'train.max_steps=4', 'train.logging_steps=1', 'train.eval_steps=2', 'train.save_steps=2', 'train.per_device_train_batch_size=4', 'train.pre_seq_len=4',
].flatMap((s) => ['--set', s]);

function cli(project: string, command: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', PIPELINE, command, '--project', project, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

test('run train end to end: outputs, live metrics in SQLite, no-op rerun, and a longer run continues the shorter one', async () => {
  const project = mkdtempSync(path.join(tmpdir(), 'glmflow-e2e-'));
  mkdirSync(path.join(project, 'data/raw'), { recursive: true });
  await writeShopCsv(path.join(project, 'data/raw/export.csv'), takeSessions(shopRows(7), 60));

  const first = cli(project, 'run', 'train', ...TINY);
  assert.equal(first.status, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /train\s+ran/);
  assert.match(first.stdout, /train: 4\/4 steps/);
  assert.ok(existsSync(path.join(project, 'artifacts/train/prefix.safetensors')));
  const record = JSON.parse(readFileSync(path.join(project, 'artifacts/train/training.json'), 'utf8')) as { steps: number; history: unknown[]; backend: { name: string } };
  assert.equal(record.steps, 4);
  assert.match(record.backend.name, /^(tensorflow|webgpu|wasm|cpu)$/, 'training.json names the backend');
  const timings = JSON.parse(readFileSync(path.join(project, 'artifacts/train/timings.json'), 'utf8')) as { seconds: number; backend: string };
  assert.ok(timings.seconds > 0 && timings.backend.startsWith('backend: '));
  const base = JSON.parse(readFileSync(path.join(project, 'artifacts/base/base.json'), 'utf8')) as { backend: { name: string } };
  assert.equal(base.backend.name, record.backend.name, 'base.json names the backend it was pretrained on');
  assert.match(first.stdout, /backend: \w+/, 'the summary (and so the run history) names the backend');

  const db = new Database(path.join(project, '.glmflow/cache.db'), { readonly: true });
  const series = db.prepare("SELECT series, count(*) AS n FROM metric WHERE stage = 'train' GROUP BY series ORDER BY series").all();
  db.close();
  assert.deepEqual(series, [{ series: 'eval', n: 3 }, { series: 'train', n: 5 * 4 }]); // eval at steps 0 (baseline), 2 and 4

  const again = cli(project, 'run', 'train', ...TINY);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /up to date/);

  const longer = cli(project, 'run', 'train', ...TINY, '--set', 'train.max_steps=6');
  assert.equal(longer.status, 0, longer.stderr);
  assert.match(longer.stderr, /▶ train: param max_steps: 4 → 6/);
  assert.match(longer.stdout, /train: 6\/6 steps \(resumed from step 4\)/);
});
