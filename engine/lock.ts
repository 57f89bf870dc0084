// One writer per project: a lock file naming who holds it. A lock whose process
// is gone (kill -9) is taken over; a live holder is waited for, or reported at
// once with --no-wait. Every change to the lock file (take, take over, release)
// happens inside an SQLite write transaction on lock.db beside it, so reading the
// holder and replacing it is one step: of many waiters finding a dead holder's
// lock, exactly one takes it. The kernel drops that SQLite lock when a process
// dies, so a crash inside the step blocks no one.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GlmflowError } from './errors.ts';

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
  /** Which acquisition this is: release() deletes the lock only while it still carries its own token. */
  readonly token?: string;
}

export interface LockOptions {
  readonly wait: boolean;
  readonly command: string;
  readonly onWait?: (message: string) => void;
  readonly signal?: AbortSignal;
}

export class ProjectLock {
  private constructor(
    private readonly file: string,
    private readonly token: string,
  ) {}

  static async acquire(file: string, options: LockOptions): Promise<ProjectLock> {
    const token = randomUUID();
    let announced = false;
    for (;;) {
      const me: Holder = { pid: process.pid, host: hostname(), command: options.command, since: new Date().toISOString(), token };
      const claim = serialized(file, (): { taken: true; recovered?: Holder | 'unreadable' } | { taken: false; holder: Holder } => {
        const current = readHolder(file);
        if (current !== 'absent' && current !== 'unreadable' && !(current.host === hostname() && !isAlive(current.pid))) return { taken: false, holder: current };
        // Written beside, then renamed into place: the lock appears with its holder already in it.
        writeFileSync(`${file}.${process.pid}`, JSON.stringify(me));
        renameSync(`${file}.${process.pid}`, file);
        return current === 'absent' ? { taken: true } : { taken: true, recovered: current };
      });
      if (claim.taken) {
        const dead = claim.recovered;
        if (dead) options.onWait?.(dead === 'unreadable' ? 'recovered an unreadable lock file' : `recovered a lock left by process ${dead.pid} (${dead.command}), which is no longer running`);
        return new ProjectLock(file, token);
      }
      const { holder } = claim;
      const who = `process ${holder.pid} on ${holder.host} (\`${holder.command}\`, since ${holder.since})`;
      if (!options.wait) throw new GlmflowError(`another glmflow run holds this project: ${who}`, 'wait for it to finish, or rerun without --no-wait to queue behind it');
      if (!announced) options.onWait?.(`waiting for ${who} to finish…`);
      announced = true;
      await sleep(200, undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  /** Deletes the lock if it is still this acquisition's: never one taken over since, nor another process's. */
  release(): void {
    serialized(this.file, () => {
      const current = readHolder(this.file);
      if (current !== 'absent' && current !== 'unreadable' && current.token === this.token) unlinkSync(this.file);
    });
  }
}

/** Runs `fn` while holding lock.db's write lock (waits for it; held only for a few file operations). */
function serialized<T>(file: string, fn: () => T): T {
  const db = new Database(`${file}.db`, { timeout: 60_000 });
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      return fn();
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

function readHolder(file: string): Holder | 'absent' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  try {
    return JSON.parse(text) as Holder;
  } catch {
    return 'unreadable';
  }
}

/** Whether a process of this machine still runs (a run marked 'running' whose process is gone was killed). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
