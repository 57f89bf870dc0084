// One writer per project: a lock file created exclusively, holding who took it.
// A lock whose process is gone (kill -9) is taken over; a live holder is waited
// for, or reported at once with --no-wait.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GlmflowError } from './errors.ts';

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
}

export interface LockOptions {
  readonly wait: boolean;
  readonly command: string;
  readonly onWait?: (message: string) => void;
  readonly signal?: AbortSignal;
}

export class ProjectLock {
  private constructor(private readonly file: string) {}

  static async acquire(file: string, options: LockOptions): Promise<ProjectLock> {
    let announced = false;
    for (;;) {
      // Written beside, then hard-linked into place: the lock appears with its holder already in it.
      const me: Holder = { pid: process.pid, host: hostname(), command: options.command, since: new Date().toISOString() };
      const draft = `${file}.${process.pid}`;
      writeFileSync(draft, JSON.stringify(me));
      try {
        linkSync(draft, file);
        return new ProjectLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        unlinkSync(draft);
      }
      const holder = readHolder(file);
      if (!holder || (holder.host === hostname() && !isAlive(holder.pid))) {
        options.onWait?.(holder ? `recovered a lock left by process ${holder.pid} (${holder.command}), which is no longer running` : 'recovered an unreadable lock file');
        try {
          unlinkSync(file);
        } catch {
          // another waiter removed it first
        }
        continue;
      }
      const who = `process ${holder.pid} on ${holder.host} (\`${holder.command}\`, since ${holder.since})`;
      if (!options.wait) throw new GlmflowError(`another glmflow run holds this project: ${who}`, 'wait for it to finish, or rerun without --no-wait to queue behind it');
      if (!announced) options.onWait?.(`waiting for ${who} to finish…`);
      announced = true;
      await sleep(200, undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // already gone: nothing to release
    }
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
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
