// A local stage in a child process of its own (pipeline.ts in worker mode):
// what lets a sweep train several trials at once on several cores, as each
// tfjs training runs on one thread. The driver follows its events, as for a
// Slurm job, and Ctrl-C stops it (SIGTERM: the stage stops at its next check).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { KeyDetails } from '../key.ts';
import { GlmflowError } from '../errors.ts';
import { prepareJob, type AnyContext } from './job.ts';

const FOLLOW_EVERY_MS = 200;

export async function runInChild(ctx: AnyContext, dir: string, details: KeyDetails, pipelineFile: string): Promise<void> {
  const prepared = prepareJob(ctx, dir, details, pipelineFile);
  const [command, ...args] = prepared.argv;
  const child = spawn(command!, args, { cwd: ctx.projectDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const stop = (): void => void child.kill('SIGTERM');
  ctx.signal.addEventListener('abort', stop, { once: true });
  const timer = setInterval(() => prepared.follow(), FOLLOW_EVERY_MS);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const outcome = prepared.follow();
    if (ctx.signal.aborted) throw new GlmflowError('interrupted');
    if (code === 0 && outcome?.type === 'done') return;
    const why = outcome?.type === 'error' ? outcome.message : stderr.trim() || `exit code ${code}`;
    throw new GlmflowError(`${ctx.stage} failed in its worker process: ${why}`);
  } finally {
    clearInterval(timer);
    ctx.signal.removeEventListener('abort', stop);
    rmSync(dir, { recursive: true, force: true });
  }
}
