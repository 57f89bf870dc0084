// Content hashes of raw inputs (data files, tokenizer, base model folders). A
// file is read once; afterwards (path, size, mtime, inode) → hash lets an
// unchanged file skip re-reading, and `touch` re-reads but hashes the same.
import fg from 'fast-glob';
import { statSync } from 'node:fs';
import path from 'node:path';
import { hashFile } from './hash.ts';
import type { StatRecord } from './db.ts';
import { GlmflowError } from './errors.ts';

export class FileHasher {
  /** Records hashed during this process, saved by the caller unless it is a dry run. */
  readonly updates = new Map<string, StatRecord>();
  bytesHashed = 0;

  constructor(private readonly known: Map<string, StatRecord>) {}

  hash(file: string): string {
    const st = statSync(file, { bigint: true });
    const size = Number(st.size);
    const mtimeNs = st.mtimeNs.toString();
    const ino = st.ino.toString();
    const record = this.known.get(file);
    if (record && record.size === size && record.mtimeNs === mtimeNs && record.ino === ino) return record.hash;
    const hash = hashFile(file);
    this.bytesHashed += size;
    const fresh = { size, mtimeNs, ino, hash };
    this.known.set(file, fresh);
    this.updates.set(file, fresh);
    return hash;
  }
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
    const st = statSync(absolute, { throwIfNoEntry: false });
    if (st?.isFile()) matches = [absolute];
    else if (st?.isDirectory()) matches = fg.sync('**/*', { cwd: absolute, absolute: true, dot: false, onlyFiles: true });
    else matches = fg.sync(pattern, { cwd: projectDir, absolute: true, onlyFiles: true, dot: false });
    if (matches.length === 0) {
      throw new GlmflowError(`${what}: "${pattern}" matches no file`, `check the path (relative to ${projectDir}), or set another with --set`);
    }
    for (const m of matches) found.add(path.normalize(m));
  }
  return [...found].sort();
}
