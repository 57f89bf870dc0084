// Content hashes of raw inputs (data files, tokenizer, base model folders). A
// file is read once; afterwards (path, size, mtime, inode) → hash lets an
// unchanged file skip re-reading, and `touch` re-reads but hashes the same.
import fg from 'fast-glob';
import { statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { hashFile } from './hash.ts';
import type { StatRecord } from './db.ts';
import { GlmflowError } from './errors.ts';

export class FileHasher {
  /** Records hashed during this process, saved by the caller unless it is a dry run. */
  readonly updates = new Map<string, StatRecord>();
  bytesHashed = 0;

  constructor(private readonly known: Map<string, StatRecord>) {}

  /** The file's content hash; a file that cannot be read is a GlmflowError naming it and why. */
  hash(file: string): string {
    try {
      const st = statSync(file, { bigint: true });
      const record = this.known.get(file);
      if (record && record.size === Number(st.size) && record.mtimeNs === st.mtimeNs.toString() && record.ino === st.ino.toString()) return record.hash;
      const hash = hashFile(file);
      this.bytesHashed += Number(st.size);
      this.#set(file, st, hash);
      return hash;
    } catch (error) {
      throw unreadable(file, error);
    }
  }

  /** Records a hash known without reading (a file just copied from a store object of that hash). */
  remember(file: string, hash: string): void {
    this.#set(file, statSync(file, { bigint: true }), hash);
  }

  #set(file: string, st: BigIntStats, hash: string): void {
    const record = { size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ino: st.ino.toString(), hash };
    this.known.set(file, record);
    this.updates.set(file, record);
  }
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder, not a file',
  ENOENT: 'it does not exist (removed while glmflow was reading, or a broken link)',
  ELOOP: 'it is a link that loops back on itself',
  EIO: 'an input/output error from the disk',
};

/** A file that cannot be read, said as such: which file, and the system's reason in words. */
export function unreadable(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!code || !(code in REASONS)) return error;
  return new GlmflowError(`cannot read ${file}: ${REASONS[code]} (${code})`, code === 'EACCES' || code === 'EPERM' ? `let glmflow read it (e.g. chmod a+r "${file}"), or move it out of the project's inputs` : 'fix or remove the file, then rerun');
}

/**
 * Expands a stage's file patterns: an existing folder means every file below it,
 * an existing file means itself, anything else is a glob. Relative to the project.
 * An empty match is an error: a stage silently running on no data is worse than stopping.
 */
export function expandPatterns(projectDir: string, patterns: string | readonly string[], what: string): string[] {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  const found = new Set<string>();
  for (const pattern of list) {
    const absolute = path.resolve(projectDir, pattern);
    let matches: string[];
    try {
      const st = statSync(absolute, { throwIfNoEntry: false });
      if (st?.isFile()) matches = [absolute];
      else if (st?.isDirectory()) matches = fg.sync('**/*', { cwd: absolute, absolute: true, dot: false, onlyFiles: true });
      else matches = fg.sync(pattern, { cwd: projectDir, absolute: true, onlyFiles: true, dot: false });
    } catch (error) {
      // A folder on the way that may not be listed: name it, as for a file.
      throw unreadable((error as NodeJS.ErrnoException).path ?? absolute, error);
    }
    if (matches.length === 0) {
      throw new GlmflowError(`${what}: "${pattern}" matches no file`, `check the path (relative to ${projectDir}), or set another with --set`);
    }
    for (const m of matches) found.add(path.normalize(m));
  }
  return [...found].sort();
}
