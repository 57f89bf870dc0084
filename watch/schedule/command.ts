// `glmflow schedule`: keeps a process that runs the pipeline on a cron
// schedule, on the full data, recording each run in .glmflow/schedule.db; or
// prints the equivalent crontab line or systemd units.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GlmflowError } from '../../engine/errors.ts';
import type { Pipeline } from '../../engine/pipeline.ts';
import { projectPaths } from '../../engine/store.ts';
import { commandArgs } from '../command-args.ts';
import { crontab, systemdUnits } from './os-schedule.ts';
import { ScheduleDb } from './schedule-db.ts';
import { missedRuns, OVERLAP_POLICIES, Scheduler, type Job, type OverlapPolicy } from './scheduler.ts';

export const SCHEDULE_HELP = `Usage: npx tsx pipeline.ts schedule --cron PATTERN [options]

Keeps running and runs the pipeline up to --target on the cron schedule, on the
full data (split.subset=1: quick experiments use --set split.subset=… with run).
Each run is recorded in .glmflow/schedule.db, its output in
.glmflow/logs/schedule/; a failed run prints a ✗ line with its exit status and
log, and the scheduler exits non-zero when stopped (Ctrl-C) after a failure.
At start it reports the runs missed since the last recorded one (while the
machine was off, say); with --catch-up it also runs once right away for the
latest of them, as cron's anacron or systemd's Persistent=true do.

  --cron PATTERN        5 fields (minute hour day month weekday), or 6 with seconds
                        first; "0 2 * * *" is 02:00 every night
  --target STAGE        what to bring up to date (default: score; "evaluate" means score)
  --overlap POLICY      when a run is due while the previous one still runs:
                        skip (default) it, queue it, or cancel the running one
  --catch-up            run once at start when runs were missed while it was down
  --max-runs N          exit after N runs (a catch-up run counts)
  --print-crontab       print the equivalent crontab line and exit
  --print-systemd       print equivalent systemd service and timer units and exit
  --project DIR         the project folder (default: this pipeline's)
  -h, --help            show this help

Example
  npx tsx pipeline.ts schedule --cron "0 2 * * *" --target evaluate --overlap queue --catch-up
`;

export async function scheduleCommand(pipeline: Pipeline, argv: readonly string[], projectDir: string, print: (line: string) => void = console.log): Promise<number> {
  const args = commandArgs(
    'schedule',
    argv,
    { cron: { type: 'string' }, target: { type: 'string' }, overlap: { type: 'string' }, 'catch-up': { type: 'boolean' }, 'max-runs': { type: 'string' }, 'print-crontab': { type: 'boolean' }, 'print-systemd': { type: 'boolean' } },
    SCHEDULE_HELP,
    projectDir,
    print,
  );
  if (!args) return 0;
  const { values } = args;
  if (!values.cron) throw new GlmflowError('schedule needs --cron', 'e.g. --cron "0 2 * * *" for 02:00 every night (see --help)');
  const target = values.target === undefined || values.target === 'evaluate' ? 'score' : values.target;
  if (!pipeline.names.includes(target)) throw new GlmflowError(`unknown target "${values.target}"`, `stages: ${pipeline.names.join(', ')} (or evaluate)`);
  const overlap = (values.overlap ?? 'skip') as OverlapPolicy;
  if (!OVERLAP_POLICIES.includes(overlap)) throw new GlmflowError(`unknown --overlap "${values.overlap}"`, `use ${OVERLAP_POLICIES.join(', ')}`);
  const script = process.argv[1]!;
  const runArgs = ['run', target, '--set', 'split.subset=1', ...(args.projectDir === projectDir ? [] : ['--project', args.projectDir])];
  const os = { cron: values.cron, overlap, pipelineDir: path.dirname(script), projectDir: args.projectDir, args: runArgs };
  if (values['print-crontab']) return print(crontab(os)), 0;
  if (values['print-systemd']) return print(systemdUnits(os)), 0;
  const maxRuns = values['max-runs'] === undefined ? undefined : Number(values['max-runs']);
  if (maxRuns !== undefined && !(Number.isInteger(maxRuns) && maxRuns > 0)) throw new GlmflowError(`--max-runs expects a positive whole number (got "${values['max-runs']}")`);

  const paths = projectPaths(args.projectDir);
  const logDir = path.join(paths.logs, 'schedule');
  mkdirSync(logDir, { recursive: true });
  const db = new ScheduleDb(paths.state);
  try {
    const catchUp = reportMissed(db, values.cron, target, values['catch-up'] === true, print, new Date());
    const job: Job = (signal) => runPipeline(script, [...runArgs, '--project', args.projectDir], path.join(logDir, `${new Date().toISOString().replaceAll(':', '-')}.log`), signal);
    const scheduler = new Scheduler({ cron: values.cron, target, overlap, log: print, ...(maxRuns === undefined ? {} : { maxRuns }) }, job, db);
    print(`schedule: ${target} on "${values.cron}" (overlap ${overlap}), next run ${scheduler.nextRun()?.toISOString() ?? 'never'}; Ctrl-C stops`);
    if (catchUp) scheduler.runNow(catchUp);
    const stop = (): void => scheduler.stop();
    process.once('SIGINT', stop).once('SIGTERM', stop);
    const { runs, failed } = await scheduler.finished;
    process.off('SIGINT', stop).off('SIGTERM', stop);
    print(`schedule: stopped after ${runs} run(s), ${failed} failed`);
    return failed ? 1 : 0;
  } finally {
    db.close();
  }
}

/**
 * Reports (and records) the runs missed while no scheduler ran, up to `now`; with `catchUp`,
 * the latest of them is left unrecorded and returned, to be run now.
 */
export function reportMissed(db: ScheduleDb, cron: string, target: string, catchUp: boolean, print: (line: string) => void, now: Date): Date | undefined {
  const last = db.lastDue(cron, target);
  if (last === undefined) return undefined;
  const missed = missedRuns(cron, new Date(last), now);
  if (!missed.length) return undefined;
  const shown = missed.slice(0, 5).map((d) => d.toISOString()).join(', ');
  print(`schedule: missed ${missed.length}${missed.length === 1000 ? '+' : ''} run(s) since ${new Date(last).toISOString()} while the scheduler was down: ${shown}${missed.length > 5 ? ', …' : ''}`);
  const latest = catchUp ? missed.pop() : undefined;
  // Recorded, so the next start reports only what it missed itself.
  for (const due of missed) db.notRun(cron, target, due.getTime(), 'missed', 'the scheduler was not running');
  if (latest) print(`schedule: catching up: running the one due ${latest.toISOString()} now (--catch-up)`);
  else print('schedule: --catch-up would run the latest of them now');
  return latest;
}

/** The pipeline in a child process, output to `log`; an abort interrupts it as Ctrl-C would. */
function runPipeline(script: string, args: readonly string[], log: string, signal: AbortSignal): Promise<{ code: number; detail: string }> {
  const out = openSync(log, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', out, out], env: { ...process.env, CI: 'true' } });
  const onAbort = (): void => void child.kill('SIGINT');
  signal.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve) => {
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      closeSync(out);
      const status = code ?? (sig === 'SIGINT' ? 130 : 1);
      // The run's own error line, so the failure reads clearly without opening the log.
      const cause = status === 0 ? undefined : readFileSync(log, 'utf8').split('\n').findLast((l) => /^(error:|✗)/.test(l));
      resolve({ code: status, detail: cause ? `${cause} (log ${log})` : `log ${log}` });
    });
  });
}
