// Read-only access to what the engine records about runs: every stage attempt
// with its params, and the metrics it logged as it ran. The dashboard, the
// tuning advisor, sweeps and exports all read through here.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { projectPaths } from '../engine/store.ts';
import { GlmflowError } from '../engine/errors.ts';
import type { MetricPoint, StageOutcome } from '../engine/db.ts';

export interface Attempt {
  readonly runId: number;
  readonly stage: string;
  readonly outcome: StageOutcome;
  /** Why it ran, or for a failed attempt, the error it failed with (first line). */
  readonly reason: string;
  readonly key: string | null;
  readonly params: Readonly<Record<string, unknown>>;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly command: string;
}

/** One metric over steps, e.g. train loss. */
export interface Curve {
  readonly series: string;
  readonly name: string;
  readonly steps: readonly number[];
  readonly values: readonly number[];
}

export class RunHistory {
  readonly #db: Database.Database;

  constructor(projectDir: string) {
    const file = projectPaths(projectDir).db;
    if (!existsSync(file)) throw new GlmflowError(`no runs recorded in ${projectDir} yet`, 'start one with `npx tsx pipeline.ts run train`');
    this.#db = new Database(file, { readonly: true, fileMustExist: true });
    this.#db.pragma('busy_timeout = 5000');
  }

  close(): void {
    this.#db.close();
  }

  /** Attempts of `stage` that ran (or are running, or failed), newest first. */
  attempts(stage: string, limit = 100): Attempt[] {
    const rows = this.#db
      .prepare(
        `SELECT s.run_id AS runId, s.stage, s.outcome, s.reason, s.key, s.params, r.started_at AS startedAt, s.duration_ms AS durationMs, r.command
         FROM run_stage s JOIN run r ON r.id = s.run_id
         WHERE s.stage = ? AND s.params IS NOT NULL ORDER BY s.run_id DESC LIMIT ?`,
      )
      .all(stage, limit) as (Omit<Attempt, 'params'> & { params: string })[];
    return rows.map((row) => ({ ...row, params: JSON.parse(row.params) as Record<string, unknown> }));
  }

  /** Every metric an attempt logged, as curves. */
  curves(runId: number, stage: string): Curve[] {
    const points = this.#db.prepare('SELECT series, step, name, value, time FROM metric WHERE run_id = ? AND stage = ? ORDER BY step, rowid').all(runId, stage) as MetricPoint[];
    const curves = new Map<string, { series: string; name: string; steps: number[]; values: number[] }>();
    for (const p of points) {
      const id = `${p.series}/${p.name}`;
      let curve = curves.get(id);
      if (!curve) curves.set(id, (curve = { series: p.series, name: p.name, steps: [], values: [] }));
      curve.steps.push(p.step);
      curve.values.push(p.value);
    }
    return [...curves.values()];
  }

  /** Where the metric log ends now: live updates start from here. */
  lastMetricRowid(): number {
    return (this.#db.prepare('SELECT max(rowid) AS rowid FROM metric').get() as { rowid: number | null }).rowid ?? 0;
  }

  /** Metrics logged after `afterRowid` (for live updates); returns the new high-water mark. */
  metricsSince(afterRowid: number): { rowid: number; points: (MetricPoint & { runId: number; stage: string })[] } {
    const points = this.#db.prepare('SELECT rowid, run_id AS runId, stage, series, step, name, value, time FROM metric WHERE rowid > ? ORDER BY rowid').all(afterRowid) as (MetricPoint & { runId: number; stage: string; rowid: number })[];
    return { rowid: points.at(-1)?.rowid ?? afterRowid, points };
  }
}
