// Everything a command needs about one project: its pipeline, paths, state
// database, object store, file hasher and the params given on the command line.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StateDb } from './db.ts';
import { FileHasher } from './files.ts';
import type { Pipeline } from './pipeline.ts';
import { ObjectStore, projectPaths, type ProjectPaths } from './store.ts';
import { loadProjectConfig, type ProjectConfig } from './project-config.ts';
import type { RemoteCache } from './remote/remote-cache.ts';
import { checkStageNames, NO_PARAMS, type ParamSources } from './params.ts';

export class Workspace {
  readonly paths: ProjectPaths;
  readonly db: StateDb;
  readonly store: ObjectStore;
  readonly hasher: FileHasher;
  /** glmflow.yaml: executors and the remote cache. */
  readonly config: ProjectConfig;
  #remote: RemoteCache | undefined;
  readonly #packageVersions = new Map<string, string>();

  constructor(
    readonly pipeline: Pipeline,
    projectDir: string,
    readonly params: ParamSources = NO_PARAMS,
    /**
     * A dry run reads and hashes but writes nothing, not even the file-hash memo (status and
     * explain are dry runs too). The state database is read into memory where it is closed
     * (even a read-only SQLite connection leaves a -shm file behind), read in place while a
     * run has it open, and stands empty where the project has none yet.
     */
    readonly dryRun = false,
    /**
     * A dry run that lasts (the dashboard) and must see later runs: the state database is
     * opened in place, and made (empty) where the project has none yet.
     */
    live = false,
  ) {
    checkStageNames(params, pipeline.names);
    this.paths = projectPaths(path.resolve(projectDir));
    if (dryRun && !live) {
      const open = existsSync(`${this.paths.db}-wal`);
      this.db = open ? new StateDb(this.paths.db, { readonly: true }) : new StateDb(existsSync(this.paths.db) ? inMemory(readFileSync(this.paths.db)) : ':memory:');
    } else {
      mkdirSync(this.paths.state, { recursive: true });
      this.db = new StateDb(this.paths.db);
    }
    this.store = new ObjectStore(this.paths);
    this.hasher = new FileHasher(this.db.statRecords());
    this.config = loadProjectConfig(this.paths.project);
  }

  /** The shared cache glmflow.yaml names, opened on first use (the S3 SDK loads only then); undefined without one. */
  async remote(): Promise<RemoteCache | undefined> {
    if (!this.config.remote) return undefined;
    if (!this.#remote) {
      const { RemoteCache } = await import('./remote/remote-cache.ts');
      this.#remote = new RemoteCache(this.config.remote);
    }
    return this.#remote;
  }

  packageVersion(name: string): string {
    let version = this.#packageVersions.get(name);
    if (version === undefined) {
      const manifest = path.join(this.paths.project, 'node_modules', name, 'package.json');
      try {
        version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
      } catch {
        version = 'not installed';
      }
      this.#packageVersions.set(name, version);
    }
    return version;
  }

  /** Persists what was learned about file hashes; call at the end of every command. */
  close(): void {
    if (!this.dryRun) this.db.saveStats(this.hasher.updates);
    this.db.close();
    this.#remote?.close();
  }
}

/** A closed WAL database's bytes, marked as a rollback-journal file (header bytes 18–19): SQLite opens no WAL in memory. */
function inMemory(bytes: Buffer): Buffer {
  if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
  return bytes;
}
