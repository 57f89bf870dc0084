// The Slurm executor on a real single-node cluster (Debian's slurm-wlm and
// munge, started by .ci/slurm-up): `run train` on the embedded default goes
// through sbatch and gives the bytes a local run gives; a job killed
// mid-training is reported with its Slurm state, Ctrl-C cancels the job, and
// the next run resumes from the last checkpoint.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { PIPELINE, TINY, tempProject } from '../watch/project.ts';

const SLURM_UP = fileURLToPath(new URL('../../.ci/slurm-up', import.meta.url));
const SETS = [...TINY, '--set', 'train.max_steps=4'];
let skip: string | false = false;

before(() => {
  const hasSlurm = spawnSync('sh', ['-c', 'command -v sbatch && command -v slurmctld'], { encoding: 'utf8' }).status === 0;
  if (!hasSlurm) {
    if (process.env['CI'] === 'true') throw new Error('Slurm is not installed: .ci/run installs slurm-wlm and munge');
    skip = 'Slurm is not installed here (apt-get install slurm-wlm munge, then .ci/slurm-up)';
    process.stderr.write(`# skipping the Slurm tests: ${skip}\n`);
    return;
  }
  const up = spawnSync(SLURM_UP, { encoding: 'utf8' });
  assert.equal(up.status, 0, `.ci/slurm-up failed:\n${up.stdout}${up.stderr}`);
});

function onSlurm(project: string, extra = ''): void {
  writeFileSync(path.join(project, 'glmflow.yaml'), `executor:\n  stages: {train: slurm}\nslurm:\n  poll_seconds: 0.2\n${extra}`);
}

interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(project: string, args: readonly string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE, args[0]!, '--project', project, ...args.slice(1)], { env: { ...process.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    onStart?.(child);
  });
}

function trainingRecord(project: string): Record<string, unknown> {
  // The checkpoint it came from is named by its path in the project folder.
  const record = JSON.parse(readFileSync(path.join(project, 'artifacts/train/training.json'), 'utf8').replaceAll(project, '<project>')) as Record<string, unknown>;
  // Speeds are measured, not computed: the only fields two equal trainings may differ in.
  return JSON.parse(JSON.stringify(record, (key, value: unknown) => (/(per_?s(econd)?|seconds|durationMs)$/i.test(key) ? undefined : value))) as Record<string, unknown>;
}

function db(project: string): Database.Database {
  return new Database(path.join(project, '.glmflow/cache.db'), { readonly: true });
}

test('run train through sbatch: the same bytes as a local run, live metrics in the driver\'s SQLite, the job id in runs', { timeout: 300_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const local = await tempProject();
  const cluster = await tempProject();
  onSlurm(cluster);

  const here = await cli(local, ['run', 'train', ...SETS]);
  assert.equal(here.status, 0, here.stderr + here.stdout);
  const there = await cli(cluster, ['run', 'train', ...SETS]);
  assert.equal(there.status, 0, there.stderr + there.stdout);
  assert.match(there.stderr, /▶ train: submitted as Slurm job \d+/);
  assert.match(there.stdout, /train: 4\/4 steps/, 'the job\'s summary reaches the driver');

  assert.deepEqual(readFileSync(path.join(cluster, 'artifacts/train/prefix.safetensors')), readFileSync(path.join(local, 'artifacts/train/prefix.safetensors')));
  assert.deepEqual(trainingRecord(cluster), trainingRecord(local));

  const metrics = (project: string): unknown[] => {
    const handle = db(project);
    try {
      return handle.prepare("SELECT series, step, name, value FROM metric WHERE stage = 'train' AND name != 'tokens_per_s' ORDER BY series, step, name").all();
    } finally {
      handle.close();
    }
  };
  assert.ok(metrics(cluster).length > 0);
  assert.deepEqual(metrics(cluster), metrics(local), 'the driver recorded every metric the job emitted');

  const runs = await cli(cluster, ['runs']);
  assert.match(runs.stdout, /train [\d.]+m?s \(Slurm job \d+\)/);
  assert.equal(existsSync(path.join(cluster, '.glmflow/jobs')) && readdirSync(path.join(cluster, '.glmflow/jobs')).length, 0, 'a completed job leaves no files behind');
});

test('a Slurm job killed mid-training is reported with its state; Ctrl-C cancels the job; the next run resumes from the checkpoint', { timeout: 300_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const project = await tempProject();
  onSlurm(project);
  // The killed and the interrupted run could never finish on their own (however fast the machine),
  // so each is stopped while training; raising or lowering only max_steps continues the same training.
  const steps = (n: number): string[] => [...TINY, '--set', `train.max_steps=${n}`, '--set', 'train.save_steps=2', '--set', 'train.eval_steps=100'];
  const long = steps(1_000_000);
  // Upstream stages first, so the runs below only train.
  assert.equal((await cli(project, ['run', 'base', ...long])).status, 0);

  const checkpoints = (): number[] => {
    const work = path.join(project, '.glmflow/work/train');
    if (!existsSync(work)) return [];
    return readdirSync(work).flatMap((key) => readdirSync(path.join(work, key))).flatMap((name) => /^checkpoint-(\d+)$/.exec(name)?.[1] ?? []).map(Number);
  };
  const runningJob = (): string | undefined => {
    const handle = db(project);
    try {
      return (handle.prepare("SELECT job FROM run_stage WHERE stage = 'train' AND outcome = 'running' AND job IS NOT NULL ORDER BY run_id DESC").get() as { job: string } | undefined)?.job;
    } finally {
      handle.close();
    }
  };
  // Polls until the job has written a checkpoint past `beyond`; gives up when the command has ended,
  // so a failed assertion never leaves the poll running.
  const whenTraining = async (child: ReturnType<typeof spawn>, beyond: number): Promise<string | undefined> => {
    while (child.exitCode === null && child.signalCode === null) {
      const job = runningJob();
      if (job && checkpoints().some((step) => step > beyond)) return job;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  };

  let killedJob = '';
  const killed = await cli(project, ['run', 'train', ...long], (child) => {
    void whenTraining(child, 0).then((job) => {
      if (!job) return;
      killedJob = job;
      spawnSync('scancel', ['--signal=KILL', job]);
    });
  });
  assert.equal(killed.status, 1, killed.stdout + killed.stderr);
  assert.match(killed.stdout, new RegExp(`✗ train failed: Slurm job ${killedJob} ended (FAILED|CANCELLED)`));
  assert.match(killed.stdout, /its output: .*slurm\.out/);
  const afterKill = Math.max(...checkpoints());

  let cancelledJob = '';
  const interrupted = await cli(project, ['run', 'train', ...long], (child) => {
    void whenTraining(child, afterKill).then((job) => {
      if (!job) return;
      cancelledJob = job;
      child.kill('SIGINT');
    });
  });
  assert.notEqual(interrupted.status, 0, interrupted.stdout + interrupted.stderr);
  assert.match(interrupted.stdout + interrupted.stderr, /interrupted/);
  const state = spawnSync('scontrol', ['show', 'job', '-o', cancelledJob], { encoding: 'utf8' }).stdout;
  assert.match(state, /JobState=CANCELLED/, 'Ctrl-C cancelled the Slurm job');
  const afterCancel = Math.max(...checkpoints());
  assert.ok(afterCancel > afterKill);

  const resumed = await cli(project, ['run', 'train', ...steps(afterCancel + 4)]);
  assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`train: ${afterCancel + 4}/${afterCancel + 4} steps \\(resumed from step (\\d+)\\)`));
  const from = Number(/resumed from step (\d+)/.exec(resumed.stdout)![1]);
  assert.equal(from, afterCancel, 'resumed from the last checkpoint the cancelled job wrote');
  // The failed jobs' folders (spec, events, Slurm's output) stay for inspection until gc.
  const jobs = path.join(project, '.glmflow/jobs');
  assert.equal(readdirSync(jobs).length, 2, readdirSync(jobs).join(', '));
  const gc = await cli(project, ['gc']);
  assert.equal(gc.status, 0, gc.stderr);
  assert.match(gc.stdout, /2 failed job folders/);
  assert.deepEqual(readdirSync(jobs), []);
});

test('sweep --max-parallel 2 on the slurm executor: each trial is a Slurm job of its own', { timeout: 300_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const project = await tempProject();
  onSlurm(project);
  const sweep = await cli(project, ['sweep', ...SETS, '--set', 'train.learning_rate=0.01,0.2', '--max-parallel', '2']);
  assert.equal(sweep.status, 0, sweep.stdout + sweep.stderr);
  const jobs = [...sweep.stderr.matchAll(/▶ train: submitted as Slurm job (\d+)/g)].map((m) => m[1]);
  assert.equal(new Set(jobs).size, 2, sweep.stderr);
  assert.equal(sweep.stdout.split('\n').filter((l) => /^\d\s.*ran$/.test(l)).length, 2, sweep.stdout);
});
