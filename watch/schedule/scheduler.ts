// Runs a job on a cron schedule (croner) with an overlap policy for a tick that
// comes while the previous run still runs: skip it, queue it, or cancel the
// running one in its favour. Every run and skip is recorded.
import { Cron } from 'croner';
import type { ScheduleDb } from './schedule-db.ts';

export const OVERLAP_POLICIES = ['skip', 'queue', 'cancel'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** One run of the job: resolves to its exit code and a detail line (e.g. its log file). */
export type Job = (signal: AbortSignal) => Promise<{ code: number; detail: string }>;

export interface SchedulerOptions {
  readonly cron: string;
  readonly target: string;
  readonly overlap: OverlapPolicy;
  /** Stop after this many started runs (tests, one-off catch-ups); default: run until stop(). */
  readonly maxRuns?: number;
  readonly log: (line: string) => void;
}

export class Scheduler {
  readonly #cron: Cron;
  readonly #queue: Date[] = [];
  #running: AbortController | undefined;
  #started = 0;
  #failed = 0;
  #done!: (result: { runs: number; failed: number }) => void;
  readonly finished: Promise<{ runs: number; failed: number }>;

  constructor(
    private readonly options: SchedulerOptions,
    private readonly job: Job,
    private readonly db: ScheduleDb,
  ) {
    this.finished = new Promise((resolve) => (this.#done = resolve));
    this.#cron = new Cron(options.cron, () => this.#tick(new Date(Math.floor(Date.now() / 1000) * 1000)));
  }

  nextRun(): Date | null {
    return this.#cron.nextRun();
  }

  /** A run due at `due` now, outside the cron's own ticks (a catch-up), under the same overlap policy. */
  runNow(due: Date): void {
    this.#tick(due);
  }

  /** No more ticks; resolves `finished` once a running run ends. */
  stop(): void {
    this.#cron.stop();
    this.#queue.length = 0;
    if (!this.#running) this.#done({ runs: this.#started, failed: this.#failed });
  }

  #tick(due: Date): void {
    if (!this.#running) return void this.#launch(due);
    const { cron, target, overlap, log } = this.options;
    if (overlap === 'skip') {
      this.db.notRun(cron, target, due.getTime(), 'skipped', 'the previous run was still running');
      log(`schedule: run due ${due.toISOString()} skipped: the previous run is still running (--overlap skip)`);
    } else if (overlap === 'queue') {
      this.#queue.push(due);
      log(`schedule: run due ${due.toISOString()} queued behind the running one (--overlap queue)`);
    } else {
      this.#queue.splice(0, this.#queue.length, due);
      log(`schedule: run due ${due.toISOString()} cancels the running one (--overlap cancel)`);
      this.#running.abort();
    }
  }

  async #launch(due: Date): Promise<void> {
    const { cron, target, maxRuns, log } = this.options;
    const controller = new AbortController();
    this.#running = controller;
    this.#started++;
    if (maxRuns !== undefined && this.#started >= maxRuns) this.#cron.stop();
    const id = this.db.start(cron, target, due.getTime());
    log(`schedule: run ${id} (due ${due.toISOString()}) started: ${target}`);
    let outcome: { code: number; detail: string };
    try {
      outcome = await this.job(controller.signal);
    } catch (error) {
      outcome = { code: 1, detail: (error as Error).message };
    }
    const status = outcome.code === 0 ? 'ok' : controller.signal.aborted ? 'cancelled' : 'failed';
    this.db.finish(id, status, outcome.code, outcome.detail);
    if (status === 'failed') this.#failed++;
    log(status === 'ok' ? `schedule: ✓ run ${id} done: ${outcome.detail}` : `schedule: ✗ run ${id} ${status} with exit status ${outcome.code}: ${outcome.detail}`);
    this.#running = undefined;
    const next = this.#queue.shift();
    if (next && (maxRuns === undefined || this.#started < maxRuns)) return this.#launch(next);
    if (this.#cron.isStopped()) this.#done({ runs: this.#started, failed: this.#failed });
  }
}

/** Times the schedule was due after `since` up to `now`: runs missed while no scheduler ran (at most `limit`). */
export function missedRuns(cron: string, since: Date, now: Date, limit = 1000): Date[] {
  const missed: Date[] = [];
  const pattern = new Cron(cron, { paused: true });
  for (let next = pattern.nextRun(since); next && next <= now && missed.length < limit; next = pattern.nextRun(next)) missed.push(next);
  pattern.stop();
  return missed;
}
