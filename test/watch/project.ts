// A temporary project with a small shop export, and the pipeline CLI with
// params small enough that a training takes well under a second.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeSessions, writeShopCsv } from '../../data/generate.ts';
import { shopRows } from '../../data/shop.ts';

export const PIPELINE = fileURLToPath(new URL('../../pipeline.ts', import.meta.url));

export const TINY_SETS = [
  'base.num_layers=1', 'base.hidden_size=32', 'base.num_attention_heads=2', 'base.multi_query_group_num=1', 'base.ffn_hidden_size=64', 'base.pretrain_steps=4',
  'base.batch_size=4', 'tokenize.max_input_length=48', 'tokenize.max_output_length=48', 'train.logging_steps=1', 'train.eval_steps=2', 'train.save_steps=2',
  'train.per_device_train_batch_size=4', 'train.pre_seq_len=4',
];
export const TINY = TINY_SETS.flatMap((s) => ['--set', s]);

export async function tempProject(): Promise<string> {
  const project = mkdtempSync(path.join(tmpdir(), 'glmflow-watch-'));
  mkdirSync(path.join(project, 'data/raw'), { recursive: true });
  await writeShopCsv(path.join(project, 'data/raw/export.csv'), takeSessions(shopRows(7), 60));
  return project;
}

export function cli(project: string, command: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', PIPELINE, command, '--project', project, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}
