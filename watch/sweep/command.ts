// `glmflow sweep`: a grid (or random sample) of train params, each trial a
// cached pipeline branch, optionally with successive halving and several
// trials at once (--max-parallel; a rung's trials all finish before halving
// picks the better half); prints the trials sorted by validation loss and the
// best trial's --set line.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import { Display, table } from '../../engine/display.ts';
import { GlmflowError } from '../../engine/errors.ts';
import { ProjectLock } from '../../engine/lock.ts';
import { parseSetFlags } from '../../engine/params.ts';
import { executorFor, loadProjectConfig } from '../../engine/project-config.ts';
import type { Pipeline } from '../../engine/pipeline.ts';
import { projectPaths } from '../../engine/store.ts';
import { trainStage } from '../../stages/train.ts';
import { commandArgs } from '../command-args.ts';
import { setFlag } from '../advise/advice.ts';
import { grid, latestSets, sample, sweepSpace, type Trial } from './grid.ts';
import { betterHalf, rungSteps } from './halving.ts';
import { prepareTrial, runTrial, type TrialResult } from './trial.ts';

export const SWEEP_HELP = `Usage: npx tsx pipeline.ts sweep --set stage.param=a,b[,…] [--set …] [options]

Trains one trial per combination of the listed values, each as a cached branch
of the pipeline: upstream stages are shared, and a trial whose params already
ran is restored from the cache instead of retrained. Prints the trials sorted
by validation (dev) loss and the --set line of the best one.

  --set stage.param=a,b,c   values to try (commas separate values; a JSON list or
                            object stays one value); a single value is fixed for all
  --random N                try N combinations drawn at random from the grid
  --seed N                  seed of that draw (default 0)
  --subset F                train on a fraction of the data: --set split.subset=F
  --max-parallel N          train up to N trials at once, each in a process of its own
                            (default 1); locally each trains on its share of the cores
                            (train.workers, unless --set gives it); on the slurm
                            executor each trial is a job and the cluster queues them
  --halving                 successive halving: all trials train a few steps, the
                            better half by eval loss goes on with twice as many, until
                            the survivor reaches train.max_steps (give it with --set)
  --no-wait                 fail at once if another run holds the project
  --project DIR             the project folder (default: this pipeline's)
  -h, --help                show this help

Examples
  npx tsx pipeline.ts sweep --set train.learning_rate=2e-5,5e-5 --set train.weight_decay=0,0.01
  npx tsx pipeline.ts sweep --set train.learning_rate=1e-3,3e-3,1e-2,3e-2 --set train.max_steps=400 --halving --subset 0.2
  npx tsx pipeline.ts sweep --set train.learning_rate=1e-3,1e-2 --set train.seed=1,2 --max-parallel 2
`;

interface Entry {
  readonly trial: Trial;
  /** Place in the grid: ties rank in grid order, whichever trial finished first. */
  readonly order: number;
  result: TrialResult;
  /** max_steps of the rung it stopped at, when halving left it behind. */
  halvedAt?: number;
}

export async function sweepCommand(pipeline: Pipeline, argv: readonly string[], projectDir: string, print: (line: string) => void = console.log): Promise<number> {
  const args = commandArgs(
    'sweep',
    argv,
    { set: { type: 'string', multiple: true }, 'max-parallel': { type: 'string' }, random: { type: 'string' }, seed: { type: 'string' }, subset: { type: 'string' }, halving: { type: 'boolean' }, 'no-wait': { type: 'boolean' } },
    SWEEP_HELP,
    projectDir,
    print,
  );
  if (!args) return 0;
  const { values } = args;
  const space = sweepSpace(values.set ?? []);
  if (!space.axes.length) throw new GlmflowError('sweep needs at least one --set with several values', 'e.g. --set train.learning_rate=2e-5,5e-5 (see --help)');
  const all = grid(space.axes);
  const trials = values.random === undefined ? all : sample(all, wholeNumber('--random', values.random), values.seed === undefined ? 0 : wholeNumber('--seed', values.seed));
  const shared = [...space.fixed, ...(values.subset === undefined ? [] : [`split.subset=${values.subset}`])];
  const parallel = values['max-parallel'] === undefined ? 1 : wholeNumber('--max-parallel', values['max-parallel']);
  if (parallel < 1) throw new GlmflowError('--max-parallel must be at least 1', 'e.g. --max-parallel 2 to train two trials at once');
  const rungs = values.halving ? rungSteps(trials.length, finalSteps(space.axes.map((a) => a.param), shared)) : [undefined];
  const share = parallel > 1 ? threadShare(parallel, [...space.axes.map((a) => a.param), ...shared.map((set) => set.slice(0, set.indexOf('=')))], args.projectDir) : [];

  const display = new Display();
  if (share.length > 0) display.info(`sweep: ${parallel} trials at once, each on its share of this machine's ${availableParallelism()} cores (--set ${share[0]})`);
  const abort = new AbortController();
  const onSignal = (): void => {
    display.info('interrupt received: stopping after the running trial notices');
    abort.abort();
  };
  const paths = projectPaths(args.projectDir);
  mkdirSync(paths.state, { recursive: true });
  const lock = await ProjectLock.acquire(paths.lock, { wait: !values['no-wait'], command: `sweep ${argv.join(' ')}`, onWait: (m) => display.info(m) });
  process.once('SIGINT', onSignal);
  const entries: Entry[] = [];
  try {
    let alive = trials;
    for (const [r, steps] of rungs.entries()) {
      const setsOf = (trial: Trial): string[] => [...share, ...shared, ...trial, ...(steps === undefined ? [] : [`train.max_steps=${steps}`])];
      const rung = steps === undefined ? '' : ` (rung ${r + 1}/${rungs.length}, max_steps ${steps})`;
      // Trials side by side share upstream stages: those run first, one trial's worth at a time.
      if (parallel > 1) for (const trial of alive) if (!abort.signal.aborted) await prepareTrial(pipeline, args.projectDir, setsOf(trial), display, abort.signal);
      const pool = new PQueue({ concurrency: parallel });
      await Promise.all(
        alive.map((trial, i) =>
          pool.add(async () => {
            if (abort.signal.aborted) return;
            display.info(`sweep: trial ${i + 1}/${alive.length}${rung}: ${trial.map(setFlag).join(' ')}`);
            const result = await runTrial(pipeline, args.projectDir, setsOf(trial), display, abort.signal, parallel > 1);
            display.info(`  → trial ${i + 1}/${alive.length} ${result.status}${result.bestEvalLoss === null ? '' : `, eval loss ${result.bestEvalLoss.toFixed(4)}`}${result.error ? `: ${result.error}` : ''}`);
            const entry = entries.find((e) => e.trial === trial);
            if (entry) entry.result = result;
            else entries.push({ trial, order: trials.indexOf(trial), result });
            // With trials at once, the table so far after each one, so the best shows before the slowest ends.
            if (parallel > 1) display.info(resultsTable(space.axes.map((a) => a.param), entries));
          }),
        ),
      );
      if (r < rungs.length - 1) {
        const next = betterHalf(alive, (t) => entries.find((e) => e.trial === t)!.result.bestEvalLoss);
        for (const e of entries) if (alive.includes(e.trial) && !next.includes(e.trial)) e.halvedAt = steps!;
        alive = next;
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    lock.release();
  }
  print(resultsTable(space.axes.map((a) => a.param), entries));
  const best = ranked(entries)[0];
  if (best?.result.bestEvalLoss != null) print(`\nbest (eval loss ${best.result.bestEvalLoss.toFixed(4)}): npx tsx pipeline.ts run train ${latestSets([...shared, ...best.trial]).map(setFlag).join(' ')}`);
  if (abort.signal.aborted) return 130;
  return entries.some((e) => e.result.status !== 'failed') ? 0 : 1;
}

function ranked(entries: readonly Entry[]): Entry[] {
  const loss = (e: Entry): number => e.result.bestEvalLoss ?? Infinity;
  // Trials that ran to the end rank above ones halving stopped early, whatever their loss at fewer steps.
  return [...entries].sort((a, b) => Number(a.halvedAt !== undefined) - Number(b.halvedAt !== undefined) || loss(a) - loss(b) || a.order - b.order);
}

function resultsTable(params: readonly string[], entries: readonly Entry[]): string {
  const rows = ranked(entries).map((e, i) => {
    const r = e.result;
    return [
      String(i + 1),
      ...e.trial.map((set) => set.slice(set.indexOf('=') + 1)),
      r.bestEvalLoss === null ? '-' : r.bestEvalLoss.toFixed(4),
      r.bestStep === null ? '-' : String(r.bestStep),
      r.lastTrainLoss === null ? '-' : r.lastTrainLoss.toFixed(4),
      r.steps === null ? '-' : String(r.steps),
      e.halvedAt === undefined ? r.status : `${r.status}, halved at ${e.halvedAt} steps`,
    ];
  });
  return '\n' + table(['#', ...params, 'eval loss', 'best step', 'train loss', 'steps', 'trial'], rows);
}

/**
 * Trials training at once on this machine share its cores: each trains on its share of threads, not on every
 * core (train.workers is left out of the cache key, so the trials' keys are unchanged), unless a --set gives
 * train.workers or the train stage runs on Slurm, where each job has the CPUs it asked for.
 */
function threadShare(parallel: number, params: readonly string[], projectDir: string): string[] {
  if (params.includes('train.workers')) return [];
  if (executorFor(loadProjectConfig(projectDir), trainStage.name, trainStage.resources ?? []) !== 'local') return [];
  // Workers beside each trial's own thread.
  return [`train.workers=${Math.max(0, Math.floor(availableParallelism() / parallel) - 1)}`];
}

/** The full max_steps that halving works up to: one fixed --set train.max_steps. */
function finalSteps(axes: readonly string[], shared: readonly string[]): number {
  if (axes.includes('train.max_steps')) throw new GlmflowError('--halving chooses max_steps itself: train.max_steps cannot be an axis', 'give one value, e.g. --set train.max_steps=400');
  const steps = parseSetFlags(shared).set['train']?.['max_steps'];
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 2) {
    throw new GlmflowError('--halving needs the full training length as --set train.max_steps=N (N ≥ 2)', 'the first rung trains N/2^k steps, the last N');
  }
  return steps;
}

function wholeNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new GlmflowError(`${flag} expects a whole number (got "${text}")`, 'see npx tsx pipeline.ts sweep --help');
  return n;
}
