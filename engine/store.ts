// Content-addressed object store under .glmflow/objects, plus the readable view
// artifacts/<stage>/<file> of each stage's latest outputs. Objects are immutable
// files, or folders for folder outputs; the view is rebuilt from them whenever
// its marker names another key, and checked file by file against them.
import { chmodSync, copyFileSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CacheEntry, FileRecord, OutputRecord } from './db.ts';
import { GlmflowError } from './errors.ts';
import { hashFile, hashTree } from './hash.ts';

export interface ProjectPaths {
  readonly project: string;
  readonly state: string;
  readonly objects: string;
  readonly tmp: string;
  readonly logs: string;
  readonly work: string;
  /** One folder per stage run away from the driver (a Slurm job, a worker process); a failed job's stays for inspection until gc. */
  readonly jobs: string;
  readonly artifacts: string;
  readonly db: string;
  readonly lock: string;
}

export function projectPaths(project: string): ProjectPaths {
  const state = path.join(project, '.glmflow');
  return {
    project,
    state,
    objects: path.join(state, 'objects'),
    tmp: path.join(state, 'tmp'),
    logs: path.join(state, 'logs'),
    work: path.join(state, 'work'),
    jobs: path.join(state, 'jobs'),
    artifacts: path.join(project, 'artifacts'),
    db: path.join(state, 'cache.db'),
    lock: path.join(state, 'lock'),
  };
}

const VIEW_MARKER = '.glmflow-key';

/** What artifacts/<stage>/ shows against a committed entry (see viewState). */
export type ViewState =
  | { readonly state: 'current' }
  /** Missing, partly deleted, or of another key: rebuilding it loses nothing. */
  | { readonly state: 'outdated' }
  /** Files changed or added by hand (paths relative to the project): rebuilding would discard them. */
  | { readonly state: 'edited'; readonly files: readonly string[] };

export class ObjectStore {
  constructor(readonly paths: ProjectPaths) {}

  objectPath(hash: string): string {
    return path.join(this.paths.objects, hash.slice(0, 2), hash.slice(2));
  }

  has(record: OutputRecord): boolean {
    const at = this.objectPath(record.hash);
    if (!record.files) return statSync(at, { throwIfNoEntry: false })?.size === record.size;
    return Object.entries(record.files).every(([rel, file]) => statSync(path.join(at, rel), { throwIfNoEntry: false })?.size === file.size);
  }

  /** Moves a staged file or folder into the store (a rename: same filesystem) and returns its record. */
  put(staged: string, directory = false): OutputRecord {
    const files = directory ? treeRecords(staged) : undefined;
    const record: OutputRecord = files
      ? { hash: hashTree(files), size: Object.values(files).reduce((sum, f) => sum + f.size, 0), files }
      : { hash: hashFile(staged), size: statSync(staged).size };
    const target = this.objectPath(record.hash);
    if (existsSync(target)) {
      rmSync(staged, { recursive: true, force: true });
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      for (const rel of files ? Object.keys(files) : ['']) chmodSync(path.join(staged, rel), 0o444);
      renameSync(staged, target);
    }
    return record;
  }

  /**
   * Whether artifacts/<stage>/ shows `entry`'s outputs, compared file by file (`hash` is the
   * caller's memoized file hash, so an unchanged view costs a stat per file).
   */
  viewState(stage: string, names: Readonly<Record<string, string>>, entry: CacheEntry, hash: (file: string) => string): ViewState {
    const view = path.join(this.paths.artifacts, stage);
    const marker = path.join(view, VIEW_MARKER);
    if (!existsSync(marker) || readFileSync(marker, 'utf8') !== entry.key) return { state: 'outdated' };
    const expected = viewFiles(view, names, entry.outputs);
    const edited: string[] = [];
    let missing = false;
    for (const [file, record] of expected) {
      const st = statSync(file, { throwIfNoEntry: false });
      if (!st?.isFile()) missing = true;
      else if (st.size !== record.size || hash(file) !== record.hash) edited.push(file);
    }
    for (const file of listFiles(view)) if (!expected.has(file) && file !== marker) edited.push(file);
    if (edited.length) return { state: 'edited', files: edited.sort().map((f) => path.relative(this.paths.project, f)) };
    return missing ? { state: 'outdated' } : { state: 'current' };
  }

  /**
   * Rebuilds artifacts/<stage>/ from objects: built beside, then `commit` (the cache's commit
   * marker, when there is one), then swapped in. So a failure while copying (a full disk) happens
   * before the cache claims anything, and a cache that names this key always has its view ready.
   * Copies (reflinks where the filesystem can) so a user editing a view file cannot corrupt the store.
   * Returns each view file with its hash, for the caller's file-hash memo.
   */
  materialize(stage: string, key: string, names: Readonly<Record<string, string>>, outputs: Readonly<Record<string, OutputRecord>>, commit: () => void = () => {}): Map<string, FileRecord> {
    const view = path.join(this.paths.artifacts, stage);
    const building = path.join(this.paths.artifacts, `.${stage}.building-${process.pid}`);
    rmSync(building, { recursive: true, force: true });
    try {
      mkdirSync(building, { recursive: true });
      for (const [name, record] of Object.entries(outputs)) {
        const file = names[name];
        if (!file) continue;
        const target = path.join(building, file);
        const from = this.objectPath(record.hash);
        if (record.files) mkdirSync(target, { recursive: true });
        for (const rel of record.files ? Object.keys(record.files) : ['']) {
          mkdirSync(path.dirname(path.join(target, rel)), { recursive: true });
          copyFileSync(path.join(from, rel), path.join(target, rel), constants.COPYFILE_FICLONE);
          chmodSync(path.join(target, rel), 0o644);
        }
      }
      writeFileSync(path.join(building, VIEW_MARKER), key);
      commit();
    } catch (error) {
      rmSync(building, { recursive: true, force: true });
      throw error;
    }
    const old = path.join(this.paths.artifacts, `.${stage}.old-${process.pid}`);
    if (existsSync(view)) renameSync(view, old);
    renameSync(building, view);
    rmSync(old, { recursive: true, force: true });
    return viewFiles(view, names, outputs);
  }

  /**
   * Deletes objects not in `keep`, leftovers of killed runs (staging, half-built views) and
   * workDir scratch no live key names (`work`: stage → names still in use); returns the bytes freed.
   * Only under the project lock: no run is building anything then.
   */
  sweep(keep: ReadonlySet<string>, work: ReadonlyMap<string, ReadonlySet<string>>): { objects: number; bytes: number; jobs: number } {
    let objects = 0;
    let bytes = 0;
    let jobs = 0;
    for (const dir of existsSync(this.paths.objects) ? readdirSync(this.paths.objects) : []) {
      for (const name of readdirSync(path.join(this.paths.objects, dir))) {
        if (keep.has(dir + name)) continue;
        bytes += remove(path.join(this.paths.objects, dir, name));
        objects++;
      }
    }
    for (const leftover of existsSync(this.paths.tmp) ? readdirSync(this.paths.tmp) : []) bytes += remove(path.join(this.paths.tmp, leftover));
    for (const leftover of existsSync(this.paths.artifacts) ? readdirSync(this.paths.artifacts) : []) {
      if (/^\..+\.(building|old)-\d+$/.test(leftover)) bytes += remove(path.join(this.paths.artifacts, leftover));
    }
    for (const stage of existsSync(this.paths.work) ? readdirSync(this.paths.work) : []) {
      const live = work.get(stage);
      for (const name of readdirSync(path.join(this.paths.work, stage))) {
        // Scratch is named by a key (a checkpoint folder, `<key>.model`…): anything else is the stage's own business.
        const key = /^[0-9a-f]{64}/.exec(name)?.[0];
        if (key && !live?.has(key)) bytes += remove(path.join(this.paths.work, stage, name));
      }
    }
    // gc holds the project lock, so no run is driving a job: what is left is from failed or killed ones.
    for (const job of existsSync(this.paths.jobs) ? readdirSync(this.paths.jobs) : []) {
      bytes += remove(path.join(this.paths.jobs, job));
      jobs++;
    }
    return { objects, bytes, jobs };
  }
}

/** The view path of every file of `outputs`, with its record. */
function viewFiles(view: string, names: Readonly<Record<string, string>>, outputs: Readonly<Record<string, OutputRecord>>): Map<string, FileRecord> {
  const files = new Map<string, FileRecord>();
  for (const [name, record] of Object.entries(outputs)) {
    const file = names[name];
    if (!file) continue;
    if (!record.files) files.set(path.join(view, file), record);
    else for (const [rel, inner] of Object.entries(record.files)) files.set(path.join(view, file, rel), inner);
  }
  return files;
}

/** The files of a staged folder output, by '/'-separated relative path. Only plain files and folders. */
function treeRecords(root: string): Record<string, FileRecord> {
  const records: Record<string, FileRecord> = {};
  for (const file of listFiles(root, (entry) => {
    throw new GlmflowError(`output folder ${root} holds ${entry}, which is neither a file nor a folder`, 'a folder output may hold only plain files and folders (copy what a link points to)');
  })) {
    records[path.relative(root, file).split(path.sep).join('/')] = { hash: hashFile(file), size: statSync(file).size };
  }
  return Object.fromEntries(Object.entries(records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Plain files below `dir`, recursively (none when it does not exist). */
function listFiles(dir: string, onOther: (entry: string) => void = () => {}): string[] {
  const files: string[] = [];
  for (const entry of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(full, onOther));
    else if (entry.isFile()) files.push(full);
    else onOther(full);
  }
  return files;
}

function remove(entry: string): number {
  const bytes = sizeOf(entry);
  rmSync(entry, { recursive: true, force: true });
  return bytes;
}

function sizeOf(entry: string): number {
  const st = statSync(entry);
  if (!st.isDirectory()) return st.size;
  return readdirSync(entry).reduce((sum, name) => sum + sizeOf(path.join(entry, name)), 0);
}
