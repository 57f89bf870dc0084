// The contract between a stage author and the engine. A stage is a declaration:
// name, params (a zod schema with defaults), typed inputs (outputs of other
// stages), file patterns (raw data, model folders), declared outputs, and run().
// The engine owns hashing, caching, staging and committing; run() only reads
// ctx.inputs / ctx.files and writes ctx.outputs.
import type { z } from 'zod';

/** A file (or folder) a stage writes. `kind` is what wiring is type-checked against. */
export interface OutputSpec<K extends string = string> {
  readonly kind: K;
  /** Name inside artifacts/<stage>/ (documented names users can rely on). */
  readonly file: string;
  readonly description: string;
  /** A folder of files handed on as one output (a model: config, weights, descriptor). */
  readonly directory?: boolean;
}

export function output<const K extends string>(kind: K, file: string, description: string): OutputSpec<K> {
  return { kind, file, description };
}

/**
 * A folder output: run() finds it created and empty at ctx.outputs[name] and fills it; one hash
 * covers its files (paths and contents), and dependents receive the folder's path.
 */
export function outputDir<const K extends string>(kind: K, folder: string, description: string): OutputSpec<K> {
  return { kind, file: folder, description, directory: true };
}

/** A reference to one output of one stage node, as wired in pipeline.ts. */
export interface ArtifactRef<K extends string = string> {
  readonly stage: string;
  readonly output: string;
  readonly kind: K;
}

export type InputKinds = Readonly<Record<string, string>>;
export type OutputSpecs = Readonly<Record<string, OutputSpec>>;
export type ParamSchema = z.ZodType<Record<string, unknown>>;
export type ParamsOf<S extends ParamSchema> = Readonly<z.output<S>>;

export interface StageContext<P, I extends InputKinds, O extends OutputSpecs, F extends string> {
  readonly stage: string;
  /** This run's cache key. */
  readonly key: string;
  /**
   * The key as it would be without these params: names work that survives changing them,
   * e.g. a training that resumes from its checkpoints when only max_steps was raised.
   */
  keyWithout(params: readonly string[]): string;
  readonly params: P;
  /** Absolute paths of the upstream files (or folders), read-only (they live in the object store). */
  readonly inputs: { readonly [K in keyof I]: string };
  /** Absolute paths matched by each file pattern, sorted. */
  readonly files: { readonly [K in F]: readonly string[] };
  /** Absolute paths to write (a folder output exists already, empty). Staged, and committed atomically after run() resolves. */
  readonly outputs: { readonly [K in keyof O]: string };
  /** Where each output is readable once committed (artifacts/<stage>/<file>): for messages to the user. */
  readonly artifactPaths: { readonly [K in keyof O]: string };
  /** Persistent scratch for this stage (checkpoints to resume from). Survives failures and kills. */
  readonly workDir: string;
  /** The user asked for this rerun (--force): do the work again rather than resume or reuse what workDir holds. */
  readonly forced: boolean;
  readonly projectDir: string;
  /** Aborted when the run is interrupted (Ctrl-C); long loops should check it. */
  readonly signal: AbortSignal;
  /** A line in the stage's log file. */
  log(message: string): void;
  /** Progress for the live display; `total` unknown is fine. */
  progress(done: number, total?: number, detail?: string): void;
  /** A line of the end-of-run summary (kept in the run history as well). */
  summary(line: string): void;
  /**
   * Live metrics at a step (train loss, learning rate, eval loss…), stored in SQLite as they happen
   * so another process can watch a running stage. `series` groups them, e.g. 'train' and 'eval'.
   */
  metric(series: string, step: number, values: Readonly<Record<string, number>>): void;
}

export interface StageDef<
  N extends string = string,
  S extends ParamSchema = ParamSchema,
  I extends InputKinds = InputKinds,
  O extends OutputSpecs = OutputSpecs,
  F extends string = string,
> {
  readonly name: N;
  /** `import.meta.url` of the module defining the stage: its source and local imports form the fingerprint. */
  readonly module: string;
  readonly description: string;
  readonly params: S;
  /** Params that do not change results (log intervals, output paths): left out of the cache key. */
  readonly untracked?: readonly (keyof z.output<S> & string)[];
  /** Upstream inputs, by name, with the kind of artifact each expects. */
  readonly inputs: I;
  /**
   * File patterns (globs, files or folders, relative to the project) whose contents are part of the key.
   * `projectDir` is the project folder (absolute): a pattern that depends on what is on disk must look there, not in the current directory.
   */
  readonly files?: (params: ParamsOf<S>, projectDir: string) => { readonly [K in F]: string | readonly string[] };
  readonly outputs: O;
  /** npm packages whose versions are part of the key. */
  readonly packages?: readonly string[];
  /** Exclusive resources: two stages claiming the same one never run at once (the trainer claims `device`). */
  readonly resources?: readonly string[];
  run(ctx: StageContext<ParamsOf<S>, I, O, F>): Promise<void>;
}

/** Identity function that fixes the generic parameters, so stage files need no annotations. */
export function defineStage<
  const N extends string,
  S extends ParamSchema,
  const I extends InputKinds,
  const O extends OutputSpecs,
  F extends string = never,
>(def: StageDef<N, S, I, O, F>): StageDef<N, S, I, O, F> {
  return def;
}

/** The references a wired stage exposes to its dependents. */
export type OutputRefs<O extends OutputSpecs> = { readonly [K in keyof O]: ArtifactRef<O[K]['kind']> };
/** What pipeline.ts must pass for a stage's inputs: exactly the declared kinds. */
export type InputRefs<I extends InputKinds> = { readonly [K in keyof I]: ArtifactRef<I[K]> };
