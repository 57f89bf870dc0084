// Scaling figures: a sweep's wall time with two trials at once against one at
// a time (same trials, same machine, one after the other in this run), and the
// time a second project takes to restore the embedded default, ingest to
// train, from a remote cache on loopback instead of computing it.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeSessions, writeShopCsv } from '../data/generate.ts';
import { shopRows } from '../data/shop.ts';
import { startS3Server } from '../test/scale/s3-server.ts';
import { report } from './report.ts';

const PIPELINE = fileURLToPath(new URL('../pipeline.ts', import.meta.url));
const SMALL = ['base.num_layers=1', 'base.hidden_size=32', 'base.num_attention_heads=2', 'base.multi_query_group_num=1', 'base.ffn_hidden_size=64', 'base.pretrain_steps=4', 'tokenize.max_input_length=48', 'tokenize.max_output_length=48', 'train.eval_steps=20', 'train.save_steps=20', 'train.per_device_train_batch_size=4', 'train.pre_seq_len=4'].flatMap((s) => ['--set', s]);

async function project(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-bench-scale-'));
  mkdirSync(path.join(dir, 'data/raw'), { recursive: true });
  await writeShopCsv(path.join(dir, 'data/raw/export.csv'), takeSessions(shopRows(7), 60));
  return dir;
}

function cli(dir: string, args: readonly string[], env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE, args[0]!, '--project', dir, ...args.slice(1)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true', ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`${args.join(' ')} failed:\n${stderr}`))));
  });
}

// Sweep: four trials of 240 steps (minutes-long trials in real use: the worker process's start, a few seconds, is then small), upstream stages prepared beforehand in both projects.
const axes = ['--set', 'train.learning_rate=0.01,0.05', '--set', 'train.seed=1,2', '--set', 'train.max_steps=240'];
const serialDir = await project();
const parallelDir = await project();
for (const dir of [serialDir, parallelDir]) await cli(dir, ['run', 'base', ...SMALL]);
const serial = await cli(serialDir, ['sweep', ...SMALL, ...axes]);
const parallel = await cli(parallelDir, ['sweep', ...SMALL, ...axes, '--max-parallel', '2']);
report({ bench: 'scale', figure: 'sweep of 4 trials, one at a time', value: serial, unit: 's' });
report({ bench: 'scale', figure: 'sweep of 4 trials, --max-parallel 2', value: parallel, unit: 's', reference: serial, referenceNote: 'the same sweep one at a time, measured just before', ratio: serial / parallel });

// Remote restore: the embedded default's model (2 layers, hidden 128), training shortened (restore time does not depend on it).
const s3 = await startS3Server();
try {
  const short = ['--set', 'base.pretrain_steps=4', '--set', 'train.max_steps=4'];
  const first = await project();
  const second = await project();
  s3.configure(first, 'bench');
  s3.configure(second, 'bench');
  const computed = await cli(first, ['run', 'train', ...short], s3.env);
  const restored = await cli(second, ['run', 'train', ...short], s3.env);
  report({ bench: 'scale', figure: 'embedded default ingest→train restored from the remote cache (CLI start included)', value: restored, unit: 's', reference: computed, referenceNote: 'computing it with 4 pretraining and 4 training steps, pushing as it commits', ratio: computed / restored });
} finally {
  await s3.close();
}
