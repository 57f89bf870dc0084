// Content-addressed object store under .glmflow/objects, plus the readable view
// artifacts/<stage>/<file> of each stage's latest outputs. Objects are immutable;
// the view is rebuilt from them whenever its marker names another key.
import { chmodSync, copyFileSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashFile } from './hash.ts';
import type { OutputRecord } from './db.ts';

export interface ProjectPaths {
  readonly project: string;
  readonly state: string;
  readonly objects: string;
  readonly tmp: string;
  readonly logs: string;
  readonly work: string;
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
    artifacts: path.join(project, 'artifacts'),
    db: path.join(state, 'cache.db'),
    lock: path.join(state, 'lock'),
  };
}

const VIEW_MARKER = '.glmflow-key';

export class ObjectStore {
  constructor(readonly paths: ProjectPaths) {}

  objectPath(hash: string): string {
    return path.join(this.paths.objects, hash.slice(0, 2), hash.slice(2));
  }

  has(record: OutputRecord): boolean {
    return statSync(this.objectPath(record.hash), { throwIfNoEntry: false })?.size === record.size;
  }

  /** Moves a staged file into the store (a rename: same filesystem) and returns its record. */
  put(staged: string): OutputRecord {
    const hash = hashFile(staged);
    const size = statSync(staged).size;
    const target = this.objectPath(hash);
    if (existsSync(target)) {
      unlinkSync(staged);
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      chmodSync(staged, 0o444);
      renameSync(staged, target);
    }
    return { hash, size };
  }

  /** Whether artifacts/<stage>/ already shows the outputs of `key`. */
  viewIsCurrent(stage: string, key: string): boolean {
    const marker = path.join(this.paths.artifacts, stage, VIEW_MARKER);
    return existsSync(marker) && readFileSync(marker, 'utf8') === key;
  }

  /**
   * Rebuilds artifacts/<stage>/ from objects: built beside, then swapped in.
   * Copies (reflinks where the filesystem can) so a user editing a view file cannot corrupt the store.
   */
  materialize(stage: string, key: string, files: Readonly<Record<string, string>>, outputs: Readonly<Record<string, OutputRecord>>): void {
    const view = path.join(this.paths.artifacts, stage);
    const building = path.join(this.paths.artifacts, `.${stage}.building-${process.pid}`);
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    for (const [name, record] of Object.entries(outputs)) {
      const file = files[name];
      if (!file) continue;
      const target = path.join(building, file);
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(this.objectPath(record.hash), target, constants.COPYFILE_FICLONE);
      chmodSync(target, 0o644);
    }
    writeFileSync(path.join(building, VIEW_MARKER), key);
    const old = path.join(this.paths.artifacts, `.${stage}.old-${process.pid}`);
    if (existsSync(view)) renameSync(view, old);
    renameSync(building, view);
    rmSync(old, { recursive: true, force: true });
  }

  /** Deletes objects not in `keep`, and leftovers of killed runs; returns the bytes freed. */
  sweep(keep: ReadonlySet<string>): { objects: number; bytes: number } {
    let objects = 0;
    let bytes = 0;
    for (const dir of existsSync(this.paths.objects) ? readdirSync(this.paths.objects) : []) {
      for (const name of readdirSync(path.join(this.paths.objects, dir))) {
        if (keep.has(dir + name)) continue;
        const file = path.join(this.paths.objects, dir, name);
        bytes += statSync(file).size;
        unlinkSync(file);
        objects++;
      }
    }
    for (const leftover of existsSync(this.paths.tmp) ? readdirSync(this.paths.tmp) : []) {
      bytes += sizeOf(path.join(this.paths.tmp, leftover));
      rmSync(path.join(this.paths.tmp, leftover), { recursive: true, force: true });
    }
    return { objects, bytes };
  }
}

function sizeOf(entry: string): number {
  const st = statSync(entry);
  if (!st.isDirectory()) return st.size;
  return readdirSync(entry).reduce((sum, name) => sum + sizeOf(path.join(entry, name)), 0);
}
