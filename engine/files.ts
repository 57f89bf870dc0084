// Content hashes of raw inputs (data files, tokenizer, base model folders). A
// file is read once; afterwards (path, size, mtime, inode) → hash lets an
// unchanged file skip re-reading, and `touch` re-reads but hashes the same.
import fg from 'fast-glob';
import { existsSync, readlinkSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
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

/** A path a pattern reached that is not listed, and why (a symlink not followed). */
export interface LeftOut {
  readonly file: string;
  readonly reason: string;
}

/**
 * Expands a stage's file patterns: an existing folder means every file below it,
 * an existing file means itself, anything else is a glob. Relative to the project.
 * An empty match is an error: a stage silently running on no data is worse than stopping.
 */
export function expandPatterns(projectDir: string, patterns: string | readonly string[], what: string): string[] {
  const found = new Set<string>();
  for (const pattern of typeof patterns === 'string' ? [patterns] : patterns) {
    let listed: { files: string[]; leftOut: LeftOut[] };
    try {
      listed = listPattern(projectDir, pattern);
    } catch (error) {
      // A folder on the way that may not be listed: name it, as for a file.
      throw unreadable((error as NodeJS.ErrnoException).path ?? path.resolve(projectDir, pattern), error);
    }
    const { files, leftOut } = listed;
    if (files.length === 0) {
      const why = leftOut.length ? ` (left out: ${leftOut.map((l) => `${path.relative(projectDir, l.file)}: ${l.reason}`).join('; ')})` : '';
      throw new GlmflowError(`${what}: "${pattern}" matches no file${why}`, `check the path (relative to ${projectDir}), or set another with --set`);
    }
    for (const file of files) found.add(file);
  }
  return [...found].sort();
}

/** What expandPatterns left out of these patterns' files, and why; no error for a pattern that matches nothing. */
export function leftOutOf(projectDir: string, patterns: string | readonly string[]): LeftOut[] {
  return (typeof patterns === 'string' ? [patterns] : patterns).flatMap((pattern) => listPattern(projectDir, pattern).leftOut);
}

/**
 * One pattern's files, and what it left out. Symlinks under a folder or glob are
 * never followed as folders (a link back up, `up -> ..`, would list the project or
 * loop forever); a link to a file is listed only when the file lies inside the
 * folder or the glob's fixed part, and is not listed already under its own name.
 */
function listPattern(projectDir: string, pattern: string): { files: string[]; leftOut: LeftOut[] } {
  const absolute = path.resolve(projectDir, pattern);
  const st = statSync(absolute, { throwIfNoEntry: false });
  // A file named on its own is meant, wherever it lies.
  if (st?.isFile()) return { files: [path.normalize(absolute)], leftOut: [] };
  if (st?.isDirectory()) return walkTree(absolute, '**/*', absolute);
  const base = path.resolve(projectDir, fg.generateTasks([pattern])[0]?.base ?? '.');
  return existsSync(base) ? walkTree(projectDir, pattern, base) : { files: [], leftOut: [] };
}

function walkTree(cwd: string, pattern: string, root: string): { files: string[]; leftOut: LeftOut[] } {
  const entries = fg.sync(pattern, { cwd, absolute: true, dot: false, onlyFiles: false, followSymbolicLinks: false, objectMode: true });
  const files: string[] = [];
  const links: string[] = [];
  for (const entry of entries) {
    if (entry.dirent.isFile()) files.push(path.normalize(entry.path));
    else if (entry.dirent.isSymbolicLink()) links.push(path.normalize(entry.path));
  }
  const realRoot = realpathSync(root);
  const real = new Set(files.map((file) => realpathSync(file)));
  const leftOut: LeftOut[] = [];
  for (const link of links.sort()) {
    const points = readlinkSync(link);
    let target: string;
    try {
      target = realpathSync(link);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      leftOut.push({ file: link, reason: code === 'ELOOP' ? `symlink loop (-> ${points})` : `broken symlink (-> ${points}, which does not exist)` });
      continue;
    }
    const inside = target === realRoot || target.startsWith(realRoot + path.sep);
    const isFolder = statSync(target).isDirectory();
    const linkDir = realpathSync(path.dirname(link));
    if (isFolder && (linkDir === target || linkDir.startsWith(target + path.sep))) leftOut.push({ file: link, reason: `symlink loop (-> ${points}, a folder above it): not followed` });
    else if (!inside) leftOut.push({ file: link, reason: `symlink (-> ${points}) leads out of ${root}: not followed` });
    else if (isFolder) leftOut.push({ file: link, reason: `symlinked folder (-> ${points}): not followed; its files are read where they lie when the pattern covers them` });
    else if (real.has(target)) leftOut.push({ file: link, reason: `symlink (-> ${points}) to a file already read under its own name` });
    else {
      real.add(target);
      files.push(link);
    }
  }
  return { files, leftOut };
}
