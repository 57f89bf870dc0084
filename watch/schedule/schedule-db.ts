// The scheduler's own run history, in .glmflow/schedule.db beside (not inside)
// the engine's database, so the engine's schema stays the engine's.
import Database from 'better-sqlite3';
import path from 'node:path';

export type ScheduledStatus = 'running' | 'ok' | 'failed' | 'cancelled' | 'skipped' | 'missed';

export interface ScheduledRun {
  readonly id: number;
  readonly cron: string;
  readonly target: string;
  readonly dueAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly status: ScheduledStatus;
  readonly exitCode: number | null;
  readonly detail: string;
}

export class ScheduleDb {
  readonly #db: Database.Database;

  constructor(stateDir: string) {
    this.#db = new Database(path.join(stateDir, 'schedule.db'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS scheduled_run (id INTEGER PRIMARY KEY, cron TEXT NOT NULL, target TEXT NOT NULL, due_at INTEGER NOT NULL,
      started_at INTEGER, finished_at INTEGER, status TEXT NOT NULL, exit_code INTEGER, detail TEXT NOT NULL DEFAULT '')`);
  }

  close(): void {
    this.#db.close();
  }

  start(cron: string, target: string, dueAt: number): number {
    return Number(this.#db.prepare("INSERT INTO scheduled_run (cron, target, due_at, started_at, status) VALUES (?, ?, ?, ?, 'running')").run(cron, target, dueAt, Date.now()).lastInsertRowid);
  }

  finish(id: number, status: ScheduledStatus, exitCode: number | null, detail: string): void {
    this.#db.prepare('UPDATE scheduled_run SET finished_at = ?, status = ?, exit_code = ?, detail = ? WHERE id = ?').run(Date.now(), status, exitCode, detail, id);
  }

  /** A due time that did not run: skipped for an overlap, or missed while no scheduler ran. */
  notRun(cron: string, target: string, dueAt: number, status: 'skipped' | 'missed', detail: string): void {
    this.#db.prepare('INSERT INTO scheduled_run (cron, target, due_at, status, detail) VALUES (?, ?, ?, ?, ?)').run(cron, target, dueAt, status, detail);
  }

  /** The latest due time recorded for this schedule (run, skipped or anything), to find runs missed while it was down. */
  lastDue(cron: string, target: string): number | undefined {
    const row = this.#db.prepare('SELECT max(due_at) AS due FROM scheduled_run WHERE cron = ? AND target = ?').get(cron, target) as { due: number | null };
    return row.due ?? undefined;
  }

  runs(limit = 50): ScheduledRun[] {
    return this.#db
      .prepare('SELECT id, cron, target, due_at AS dueAt, started_at AS startedAt, finished_at AS finishedAt, status, exit_code AS exitCode, detail FROM scheduled_run ORDER BY id DESC LIMIT ?')
      .all(limit) as ScheduledRun[];
  }
}
