// The engine's SQLite state: file hash memo, run cache (key → outputs), the key
// each stage last committed, and run history. WAL mode so readers (status, the
// dashboard) never block a running pipeline.
import Database from 'better-sqlite3';
import type { KeyDetails } from './key.ts';

export interface StatRecord {
  readonly size: number;
  readonly mtimeNs: string;
  readonly ino: string;
  readonly hash: string;
}

/** A file in the object store: named by the sha256 of its bytes. */
export interface FileRecord {
  readonly hash: string;
  readonly size: number;
}

/**
 * One committed output. A file output is its FileRecord. A folder output adds `files`: each
 * file's record by its path inside the folder ('/'-separated); `hash` is then the hash of that
 * listing (hashTree) and `size` the sum, and the store holds the folder under that hash.
 */
export interface OutputRecord extends FileRecord {
  readonly files?: Readonly<Record<string, FileRecord>>;
}

export interface CacheEntry {
  readonly key: string;
  readonly stage: string;
  readonly details: KeyDetails;
  readonly outputs: Readonly<Record<string, OutputRecord>>;
  readonly createdAt: number;
  readonly durationMs: number;
}

export interface MetricPoint {
  readonly series: string;
  readonly step: number;
  readonly name: string;
  readonly value: number;
  readonly time: number;
}

export type StageOutcome = 'running' | 'ran' | 'fresh' | 'restored' | 'failed' | 'skipped';

export interface RunRecord {
  readonly id: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly command: string;
  /** 'killed': found 'running' by gc or a later run after its process was gone. */
  readonly status: 'running' | 'ok' | 'failed' | 'interrupted' | 'killed';
  readonly pid: number;
  readonly stages: readonly { stage: string; outcome: StageOutcome; reason: string; durationMs: number; logPath: string | null; summary: string; job: string | null }[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS file_stat (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns TEXT NOT NULL, ino TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cache_entry (key TEXT PRIMARY KEY, stage TEXT NOT NULL, details TEXT NOT NULL, outputs TEXT NOT NULL, created_at INTEGER NOT NULL, duration_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS latest (stage TEXT PRIMARY KEY, key TEXT NOT NULL REFERENCES cache_entry(key));
CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, finished_at INTEGER, command TEXT NOT NULL, status TEXT NOT NULL, pid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS run_stage (run_id INTEGER NOT NULL REFERENCES run(id), stage TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, duration_ms INTEGER NOT NULL, log_path TEXT, summary TEXT NOT NULL, key TEXT, params TEXT, PRIMARY KEY (run_id, stage));
CREATE TABLE IF NOT EXISTS metric (run_id INTEGER NOT NULL, stage TEXT NOT NULL, series TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS work_name (stage TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (stage, key, name));
CREATE INDEX IF NOT EXISTS metric_by_run ON metric (run_id, stage, series, name, step);
`;

export class StateDb {
  readonly #db: Database.Database;

  /** `file`: a path, ':memory:', or a database's bytes (an in-memory copy, for a dry run). */
  constructor(file: string | Buffer, options: { readonly?: boolean } = {}) {
    this.#db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    if (!options.readonly) {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.exec(SCHEMA);
      this.#migrate();
    }
    this.#db.pragma('busy_timeout = 5000');
  }

  close(): void {
    this.#db.close();
  }

  /** Brings a state database made by an older glmflow up to the current schema. */
  #migrate(): void {
    const columns = (this.#db.prepare('PRAGMA table_info(run_stage)').all() as { name: string }[]).map((c) => c.name);
    for (const column of ['key', 'params', 'job']) if (!columns.includes(column)) this.#db.exec(`ALTER TABLE run_stage ADD COLUMN ${column} TEXT`);
  }

  /** All stat records at once: one query beats thousands of point lookups on a no-op run. */
  statRecords(): Map<string, StatRecord> {
    const rows = this.#db.prepare('SELECT path, size, mtime_ns AS mtimeNs, ino, hash FROM file_stat').all() as (StatRecord & { path: string })[];
    return new Map(rows.map(({ path, ...record }) => [path, record]));
  }

  saveStats(records: ReadonlyMap<string, StatRecord>): void {
    if (records.size === 0) return;
    const upsert = this.#db.prepare('INSERT OR REPLACE INTO file_stat (path, size, mtime_ns, ino, hash) VALUES (?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const [path, r] of records) upsert.run(path, r.size, r.mtimeNs, r.ino, r.hash);
    })();
  }

  entry(key: string): CacheEntry | undefined {
    const row = this.#db.prepare('SELECT * FROM cache_entry WHERE key = ?').get(key) as EntryRow | undefined;
    return row && toEntry(row);
  }

  latest(stage: string): CacheEntry | undefined {
    const row = this.#db.prepare('SELECT e.* FROM cache_entry e JOIN latest l ON l.key = e.key WHERE l.stage = ?').get(stage) as EntryRow | undefined;
    return row && toEntry(row);
  }

  /** The commit marker: the entry and the stage's latest pointer land in one transaction, after the objects exist. */
  commit(entry: CacheEntry): void {
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT OR REPLACE INTO cache_entry (key, stage, details, outputs, created_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(entry.key, entry.stage, JSON.stringify(entry.details), JSON.stringify(entry.outputs), entry.createdAt, entry.durationMs);
      this.setLatest(entry.stage, entry.key);
    })();
  }

  setLatest(stage: string, key: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO latest (stage, key) VALUES (?, ?)').run(stage, key);
  }

  /** Entries kept by gc: each stage's latest. Everything else is history that can be dropped. */
  dropAllButLatest(): number {
    return this.#db.prepare('DELETE FROM cache_entry WHERE key NOT IN (SELECT key FROM latest)').run().changes;
  }

  forgetStages(keep: readonly string[]): void {
    const placeholders = keep.map(() => '?').join(',') || "''";
    this.#db.prepare(`DELETE FROM latest WHERE stage NOT IN (${placeholders})`).run(...keep);
  }

  referencedObjects(): Set<string> {
    const rows = this.#db.prepare('SELECT outputs FROM cache_entry').all() as { outputs: string }[];
    const hashes = new Set<string>();
    for (const row of rows) for (const out of Object.values(JSON.parse(row.outputs) as Record<string, OutputRecord>)) hashes.add(out.hash);
    return hashes;
  }

  /** A name a stage's run (of `key`) gave scratch in its workDir through keyWithout: gc keeps it while the key matters. */
  noteWorkName(stage: string, key: string, name: string): void {
    this.#db.prepare('INSERT OR IGNORE INTO work_name (stage, key, name) VALUES (?, ?, ?)').run(stage, key, name);
  }

  /**
   * The workDir names each stage may still use: its latest key, the key of its last attempt
   * (an interrupted run resumes from there), and the keyWithout names runs of those keys used.
   */
  liveWorkNames(): Map<string, Set<string>> {
    const keys = this.#db
      .prepare(
        `SELECT stage, key FROM latest
         UNION SELECT stage, key FROM run_stage r WHERE key IS NOT NULL AND run_id = (SELECT max(run_id) FROM run_stage WHERE stage = r.stage AND key IS NOT NULL)`,
      )
      .all() as { stage: string; key: string }[];
    const names = this.#db.prepare('SELECT name FROM work_name WHERE stage = ? AND key = ?');
    const live = new Map<string, Set<string>>();
    for (const { stage, key } of keys) {
      const set = live.get(stage) ?? new Set<string>();
      set.add(key);
      for (const { name } of names.all(stage, key) as { name: string }[]) set.add(name);
      live.set(stage, set);
    }
    return live;
  }

  /** Runs still marked running whose process is gone (kill -9, a crash) are recorded as killed; returns how many. */
  markKilledRuns(isAlive: (pid: number) => boolean): number {
    const running = this.#db.prepare("SELECT id, pid FROM run WHERE status = 'running'").all() as { id: number; pid: number }[];
    const dead = running.filter((r) => r.pid !== process.pid && !isAlive(r.pid));
    const mark = this.#db.prepare("UPDATE run SET status = 'killed' WHERE id = ?");
    const stages = this.#db.prepare("UPDATE run_stage SET outcome = 'failed', reason = 'killed: the process was gone' WHERE run_id = ? AND outcome = 'running'");
    this.#db.transaction(() => {
      for (const r of dead) {
        mark.run(r.id);
        stages.run(r.id);
      }
    })();
    return dead.length;
  }

  startRun(command: string): number {
    return Number(this.#db.prepare("INSERT INTO run (started_at, command, status, pid) VALUES (?, ?, 'running', ?)").run(Date.now(), command, process.pid).lastInsertRowid);
  }

  /** A stage starts running: its params are kept so runs of it can be compared later (dashboard, advisor). */
  startStage(runId: number, stage: string, key: string, params: Record<string, unknown>, logPath: string): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO run_stage (run_id, stage, outcome, reason, duration_ms, log_path, summary, key, params) VALUES (?, ?, 'running', '', 0, ?, '', ?, ?)")
      .run(runId, stage, logPath, key, JSON.stringify(params));
  }

  /** The Slurm job running a stage, for the history. */
  setStageJob(runId: number, stage: string, jobId: string): void {
    this.#db.prepare('UPDATE run_stage SET job = ? WHERE run_id = ? AND stage = ?').run(jobId, runId, stage);
  }

  recordStage(runId: number, r: { stage: string; outcome: StageOutcome; reason: string; durationMs: number; logPath: string | null; summary: string }): void {
    this.#db
      .prepare(
        `INSERT INTO run_stage (run_id, stage, outcome, reason, duration_ms, log_path, summary) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, stage) DO UPDATE SET outcome = excluded.outcome, reason = excluded.reason, duration_ms = excluded.duration_ms, log_path = excluded.log_path, summary = excluded.summary`,
      )
      .run(runId, r.stage, r.outcome, r.reason, Math.round(r.durationMs), r.logPath, r.summary);
  }

  /** Written at once (WAL): another process sees a running stage's metrics as they come. */
  recordMetrics(runId: number, stage: string, series: string, step: number, values: Readonly<Record<string, number>>): void {
    const insert = this.#db.prepare('INSERT INTO metric (run_id, stage, series, step, name, value, time) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    this.#db.transaction(() => {
      for (const [name, value] of Object.entries(values)) insert.run(runId, stage, series, step, name, value, now);
    })();
  }

  metrics(runId: number, stage: string): MetricPoint[] {
    return this.#db.prepare('SELECT series, step, name, value, time FROM metric WHERE run_id = ? AND stage = ? ORDER BY step, rowid').all(runId, stage) as MetricPoint[];
  }

  finishRun(runId: number, status: RunRecord['status']): void {
    this.#db.prepare('UPDATE run SET finished_at = ?, status = ? WHERE id = ?').run(Date.now(), status, runId);
  }

  runs(limit: number): RunRecord[] {
    const runs = this.#db.prepare('SELECT id, started_at AS startedAt, finished_at AS finishedAt, command, status, pid FROM run ORDER BY id DESC LIMIT ?').all(limit) as Omit<RunRecord, 'stages'>[];
    const stages = this.#db.prepare('SELECT stage, outcome, reason, duration_ms AS durationMs, log_path AS logPath, summary, job FROM run_stage WHERE run_id = ? ORDER BY rowid');
    return runs.map((run) => ({ ...run, stages: stages.all(run.id) as RunRecord['stages'][number][] }));
  }
}

interface EntryRow {
  key: string;
  stage: string;
  details: string;
  outputs: string;
  created_at: number;
  duration_ms: number;
}

function toEntry(row: EntryRow): CacheEntry {
  return {
    key: row.key,
    stage: row.stage,
    details: JSON.parse(row.details) as KeyDetails,
    outputs: JSON.parse(row.outputs) as Record<string, OutputRecord>,
    createdAt: row.created_at,
    durationMs: row.duration_ms,
  };
}
