// The Slurm executor's driver side: a stage becomes one `sbatch` job running
// pipeline.ts in its worker mode. The driver follows the job's events file
// (log lines, live metrics, progress) into its own log, SQLite and display,
// and the job's state through scontrol. It returns when the job completed with
// every output staged; the caller then commits as for a local run. Ctrl-C
// cancels the job; a job that fails, times out or is preempted is an error
// naming its Slurm state and log. Checkpoints live in the stage's work folder,
// which the job shares, so the next run resumes as a local one would.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GlmflowError } from '../errors.ts';
import type { KeyDetails } from '../key.ts';
import type { SlurmConfig } from '../project-config.ts';
import { prepareJob, type AnyContext } from './job.ts';

const run = promisify(execFile);

/** Job states after which the job will not run again by itself. */
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED']);

export interface SlurmJob {
  /** Where the job's files go: spec, events, Slurm's output. */
  readonly dir: string;
  readonly details: KeyDetails;
  readonly config: SlurmConfig;
  /** The pipeline.ts the job runs in worker mode. */
  readonly pipelineFile: string;
  /** Called once the job id is known (the run history keeps it). */
  onSubmitted(jobId: string): void;
}

export async function runOnSlurm(ctx: AnyContext, job: SlurmJob): Promise<void> {
  const prepared = prepareJob(ctx, job.dir, job.details, job.pipelineFile);
  const slurmLog = path.join(job.dir, 'slurm.out');
  const script = path.join(job.dir, 'job.sh');
  writeFileSync(script, `#!/bin/sh\nexec ${prepared.argv.map(quote).join(' ')}\n`, { mode: 0o755 });

  const jobId = await submit(job, ctx.stage, script, slurmLog, ctx.projectDir);
  job.onSubmitted(jobId);
  ctx.log(`submitted as Slurm job ${jobId}; its output: ${slurmLog}`);
  ctx.progress(0, undefined, `Slurm job ${jobId}`);

  let cancelled = false;
  let state: JobState;
  for (;;) {
    if (ctx.signal.aborted && !cancelled) {
      cancelled = true;
      ctx.log(`interrupted: cancelling Slurm job ${jobId}`);
      await run('scancel', [jobId]).catch(() => undefined);
    }
    state = await jobState(jobId);
    prepared.follow();
    if (ENDED.has(state.state) || state.state === 'PURGED') break;
    await sleep(job.config.poll_seconds * 1000, ctx.signal);
  }
  const outcome = prepared.follow();
  if (cancelled) throw new GlmflowError('interrupted', `Slurm job ${jobId} was cancelled; its checkpoints stay for the next run`);
  if ((state.state === 'COMPLETED' || state.state === 'PURGED') && outcome?.type === 'done') {
    // What the job printed outside the stage's own log goes into that log; a failed job's folder stays for inspection.
    for (const line of existsSync(slurmLog) ? readFileSync(slurmLog, 'utf8').split('\n').filter(Boolean) : []) ctx.log(`job ${jobId}: ${line}`);
    rmSync(job.dir, { recursive: true, force: true });
    return;
  }
  const why = outcome?.type === 'error' ? `: ${outcome.message.split('\n')[0]}` : '';
  throw new GlmflowError(
    `Slurm job ${jobId} ended ${state.state}${state.exitCode ? ` (exit code ${state.exitCode})` : ''}${state.reason && state.reason !== 'None' ? `, reason ${state.reason}` : ''}${why}`,
    `its output: ${slurmLog}${tail(slurmLog)}\n  rerun to resume from the last checkpoint`,
  );
}

async function submit(job: SlurmJob, stage: string, script: string, slurmLog: string, projectDir: string): Promise<string> {
  const c = job.config;
  const args = [
    '--parsable',
    `--job-name=glmflow-${stage}`,
    `--output=${slurmLog}`,
    `--chdir=${projectDir}`,
    ...(c.partition ? [`--partition=${c.partition}`] : []),
    ...(c.gres ? [`--gres=${c.gres}`] : []),
    ...(c.time ? [`--time=${c.time}`] : []),
    ...(c.mem ? [`--mem=${c.mem}`] : []),
    ...(c.cpus_per_task ? [`--cpus-per-task=${c.cpus_per_task}`] : []),
    ...c.sbatch_args,
    script,
  ];
  try {
    const { stdout } = await run('sbatch', args);
    const id = stdout.trim().split(';')[0]!;
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed "${stdout.trim()}"`);
    return id;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new GlmflowError('sbatch is not installed here', 'run glmflow on a Slurm login node, or choose the local executor (--executor local, or executor: in glmflow.yaml)');
    throw new GlmflowError(`sbatch refused the ${stage} job: ${(e.stderr || e.message).trim()}`, 'check partition, gres, time and mem under slurm: in glmflow.yaml');
  }
}

interface JobState {
  readonly state: string;
  readonly exitCode: string | undefined;
  readonly reason: string | undefined;
}

/** The job's state from scontrol (accounting may be off, so not sacct). */
async function jobState(jobId: string): Promise<JobState> {
  try {
    const { stdout } = await run('scontrol', ['show', 'job', '-o', jobId]);
    const field = (name: string): string | undefined => new RegExp(`\\b${name}=(\\S+)`).exec(stdout)?.[1];
    return { state: field('JobState') ?? 'UNKNOWN', exitCode: field('ExitCode') === '0:0' ? undefined : field('ExitCode'), reason: field('Reason') };
  } catch (error) {
    // Purged from the controller's memory (MinJobAge passed): it has ended; the events file says how.
    if (/Invalid job id/i.test((error as { stderr?: string }).stderr ?? '')) return { state: 'PURGED', exitCode: undefined, reason: undefined };
    throw error;
  }
}

function tail(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-10);
  return lines.length && lines[0] ? `\n  last lines:\n    ${lines.join('\n    ')}` : '';
}

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
