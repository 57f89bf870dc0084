// Executes a plan. Independent stages run concurrently (p-queue); a stage
// claiming a resource waits for whoever holds it. Each run writes into a
// staging folder; only after run() resolves are its outputs moved into the
// object store, the new artifacts/ view built beside the old one, the cache
// row committed (the commit marker), and the view swapped in. A failure or a
// kill before the commit (a full disk while copying included) leaves the cache
// and the view exactly as they were.
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import PQueue from 'p-queue';
import type { CacheEntry, OutputRecord } from './db.ts';
import { formatBytes, type Display, type StageResult } from './display.ts';
import { asUserError, describeError, GlmflowError } from './errors.ts';
import { keyOf } from './key.ts';
import { executorFor, type ExecutorName } from './project-config.ts';
import { fetchFromRemote, pushAfterCommit } from './remote/sync.ts';
import { assess, outputNames, viewEdited, type Assessment, type PlanOptions } from './plan.ts';
import type { StageContext } from './stage.ts';
import type { Workspace } from './workspace.ts';

export interface ExecuteOptions extends PlanOptions {
  readonly runId: number;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly display: Display;
  /** --executor: where every stage runs, over glmflow.yaml. */
  readonly executor?: ExecutorName;
  /** Local stages each in a child process (parallel sweep trials: tfjs trains on one thread per process). */
  readonly ownProcess?: boolean;
  /** The pipeline.ts a Slurm job or child process runs in worker mode (default: this process's script). */
  readonly pipelineFile?: string;
}

export async function execute(ws: Workspace, planned: readonly Assessment[], options: ExecuteOptions): Promise<StageResult[]> {
  const queue = new PQueue({ concurrency: options.concurrency });
  const resources = new ResourceLocks();
  const committed = new Map<string, CacheEntry | undefined>();
  const results = new Map<string, Promise<StageResult>>();

  const settle = async (first: Assessment): Promise<StageResult> => {
    const node = ws.pipeline.node(first.stage);
    const upstream = await Promise.all(ws.pipeline.upstreamOf(first.stage).map((up) => results.get(up)!));
    const blocked = upstream.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
    if (blocked.length) return finish(ws, options, skip(first.stage, `upstream ${blocked.map((r) => r.stage).join(', ')} did not complete`));
    if (options.signal.aborted) return finish(ws, options, skip(first.stage, 'interrupted'));

    // Upstreams that ran now have outputs: the key can be known, and may hit the cache (early cutoff).
    const a = first.key ? first : assess(ws, first.stage, committed, options);
    if (a.state !== 'stale') {
      try {
        refreshView(ws, a.stage, a.entry!, a.state === 'restore' ? () => ws.db.setLatest(a.stage, a.key!) : undefined);
      } catch (error) {
        return finish(ws, options, { ...emptyResult(a.stage), outcome: 'failed', reason: firstLine(error), error: errorText(error) });
      }
      committed.set(a.stage, a.entry);
      const early = !first.key && a.state === 'fresh' ? 'upstream reran with identical outputs (early cutoff)' : a.reasons[0]!;
      return finish(ws, options, { ...emptyResult(a.stage), outcome: a.state === 'fresh' ? 'fresh' : 'restored', reason: early, outputs: viewOutputs(ws, a.stage, a.entry!) });
    }
    const remote = a.key && !options.force?.has(a.stage) ? await fetchFromRemote(ws, a.stage, a.key, (line) => options.display.info(line)) : undefined;
    if (remote) {
      try {
        refreshView(ws, a.stage, remote.entry, () => ws.db.commit(remote.entry));
      } catch (error) {
        return finish(ws, options, { ...emptyResult(a.stage), outcome: 'failed', reason: firstLine(error), error: errorText(error) });
      }
      committed.set(a.stage, remote.entry);
      return finish(ws, options, { ...emptyResult(a.stage), outcome: 'restored', reason: `restored from the remote cache (${formatBytes(remote.bytes)} downloaded)`, outputs: viewOutputs(ws, a.stage, remote.entry) });
    }
    // On Slurm the cluster allocates devices; the local locks only keep local stages apart.
    const claims = executorFor(ws.config, a.stage, node.def.resources ?? [], options.executor) === 'slurm' ? [] : (node.def.resources ?? []);
    const result = await queue.add(() => resources.with(claims, () => runStage(ws, a, options)));
    if (result.outcome === 'ran') {
      const entry = ws.db.latest(a.stage)!;
      committed.set(a.stage, entry);
      await pushAfterCommit(ws, entry, (line) => options.display.info(line));
    }
    return result;
  };

  for (const a of planned) {
    if (a.state !== 'stale') committed.set(a.stage, a.entry);
    results.set(a.stage, settle(a));
  }
  return Promise.all(planned.map((a) => results.get(a.stage)!));
}

async function runStage(ws: Workspace, a: Assessment, options: ExecuteOptions): Promise<StageResult> {
  const def = ws.pipeline.node(a.stage).def;
  if (options.signal.aborted) return finish(ws, options, skip(a.stage, 'interrupted'));
  const staging = path.join(ws.paths.tmp, `${options.runId}-${a.stage}`);
  const logPath = path.join(ws.paths.logs, String(options.runId), `${a.stage}.log`);
  const workDir = path.join(ws.paths.work, a.stage);
  rmSync(staging, { recursive: true, force: true });
  for (const dir of [staging, path.dirname(logPath), workDir]) mkdirSync(dir, { recursive: true });
  for (const spec of Object.values(def.outputs)) if (spec.directory) mkdirSync(path.join(staging, spec.file), { recursive: true });
  const log = openSync(logPath, 'a');
  const summary: string[] = [];
  const started = Date.now();
  const writeLog = (line: string): void => void writeSync(log, `${new Date().toISOString()} ${line}\n`);
  options.display.stageStarted(a.stage, a.reasons);
  ws.db.startStage(options.runId, a.stage, a.key!, a.params, logPath);
  writeLog(`stage ${a.stage} (key ${a.key}): ${a.reasons.join('; ')}`);
  writeLog(`params ${JSON.stringify(a.params)}`);

  const outputs = Object.fromEntries(Object.entries(def.outputs).map(([name, spec]) => [name, path.join(staging, spec.file)]));
  const inputs = Object.fromEntries(
    Object.entries(ws.pipeline.node(a.stage).inputs).map(([name, ref]) => {
      const entry = ws.db.latest(ref.stage);
      const record = entry?.outputs[ref.output];
      if (!record) throw new Error(`internal: input ${name} of ${a.stage} has no committed upstream`);
      return [name, ws.store.objectPath(record.hash)];
    }),
  );
  const ctx: StageContext<Record<string, unknown>, Record<string, string>, typeof def.outputs, string> = {
    stage: a.stage,
    key: a.key!,
    keyWithout: (names) => {
      const key = keyOf({ ...a.details!, params: Object.fromEntries(Object.entries(a.details!.params).filter(([name]) => !names.includes(name))) });
      ws.db.noteWorkName(a.stage, a.key!, key);
      return key;
    },
    params: a.params,
    inputs,
    files: a.files,
    outputs,
    artifactPaths: Object.fromEntries(Object.entries(def.outputs).map(([name, spec]) => [name, path.join(ws.paths.artifacts, a.stage, spec.file)])),
    workDir,
    forced: options.force?.has(a.stage) ?? false,
    projectDir: ws.paths.project,
    signal: options.signal,
    log: writeLog,
    progress: (done, total, detail) => options.display.progress(a.stage, done, total, detail ?? ''),
    summary: (line) => {
      summary.push(line);
      writeLog(`summary: ${line}`);
    },
    metric: (series, step, values) => ws.db.recordMetrics(options.runId, a.stage, series, step, values),
  };

  try {
    // A stage away from this process: a Slurm job, or a worker process of its own.
    const jobDir = path.join(ws.paths.jobs, `${options.runId}-${a.stage}`);
    const pipelineFile = options.pipelineFile ?? process.argv[1]!;
    if (executorFor(ws.config, a.stage, def.resources ?? [], options.executor) === 'slurm') {
      const { runOnSlurm } = await import('./executor/slurm.ts');
      await runOnSlurm(ctx, {
        dir: jobDir,
        details: a.details!,
        config: ws.config.slurm,
        pipelineFile,
        onSubmitted: (jobId) => {
          ws.db.setStageJob(options.runId, a.stage, jobId);
          options.display.info(`▶ ${a.stage}: submitted as Slurm job ${jobId}`);
        },
      });
    } else if (options.ownProcess) {
      const { runInChild } = await import('./executor/child.ts');
      await runInChild(ctx, jobDir, a.details!, pipelineFile);
    } else {
      await def.run(ctx);
    }
    if (options.signal.aborted) throw new GlmflowError('interrupted');
    const records: Record<string, OutputRecord> = {};
    for (const [name, file] of Object.entries(outputs)) {
      if (!existsSync(file)) throw new GlmflowError(`stage "${a.stage}" finished without writing its output "${name}" (${path.basename(file)})`, 'a stage must write every output it declares, even an empty file');
      records[name] = ws.store.put(file, def.outputs[name]!.directory);
    }
    const entry: CacheEntry = { key: a.key!, stage: a.stage, details: a.details!, outputs: records, createdAt: Date.now(), durationMs: Date.now() - started };
    refreshView(ws, a.stage, entry, () => ws.db.commit(entry));
    writeLog(`committed ${Object.keys(records).length} outputs`);
    return finish(ws, options, { stage: a.stage, outcome: 'ran', reason: a.reasons.join('; '), durationMs: Date.now() - started, outputs: viewOutputs(ws, a.stage, entry), summary, logPath });
  } catch (error) {
    writeLog(`FAILED: ${describeError(error)}`);
    return finish(ws, options, { stage: a.stage, outcome: 'failed', reason: firstLine(error), durationMs: Date.now() - started, outputs: [], summary, logPath, error: errorText(error) });
  } finally {
    closeSync(log);
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Makes artifacts/<stage>/ show `entry`, with `commit` (the cache's commit marker) run after the
 * new view is built and before it is swapped in. Its files' hashes go to the memo, so checking
 * the view for hand edits later costs a stat per file.
 */
function refreshView(ws: Workspace, stage: string, entry: CacheEntry, commit?: () => void): void {
  const names = outputNames(ws, stage);
  const latest = ws.db.latest(stage);
  const shown = latest ? ws.store.viewState(stage, names, latest, (file) => ws.hasher.hash(file)) : { state: 'outdated' as const };
  // Run refuses edited views before any work; this guards the edits of a view edited since.
  if (shown.state === 'edited') throw viewEdited(shown.files);
  if (!commit && latest?.key === entry.key && shown.state === 'current') return;
  const files = ws.store.materialize(stage, entry.key, names, entry.outputs, commit);
  for (const [file, record] of files) ws.hasher.remember(file, record.hash);
}

/** What the user reads about a failure: a GlmflowError (or a known system error) with its hint, else the message. */
function errorText(error: unknown): string {
  const known = asUserError(error);
  return known ? describeError(known) : error instanceof Error ? error.message : String(error);
}

function firstLine(error: unknown): string {
  return errorText(error).split('\n')[0]!;
}

function viewOutputs(ws: Workspace, stage: string, entry: CacheEntry): { file: string; size: number }[] {
  const def = ws.pipeline.node(stage).def;
  return Object.entries(entry.outputs).map(([name, record]) => ({ file: def.outputs[name]?.file ?? name, size: record.size }));
}

function emptyResult(stage: string): StageResult {
  return { stage, outcome: 'fresh', reason: '', durationMs: 0, outputs: [], summary: [], logPath: null };
}

function skip(stage: string, reason: string): StageResult {
  return { ...emptyResult(stage), outcome: 'skipped', reason };
}

function finish(ws: Workspace, options: ExecuteOptions, result: StageResult): StageResult {
  ws.db.recordStage(options.runId, { ...result, summary: result.summary.join('\n') });
  if (result.outcome !== 'fresh') options.display.stageFinished(result);
  return result;
}

/** Exclusive named resources: a stage waits until every resource it claims is free. */
class ResourceLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async with<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const previous = names.map((name) => this.#tails.get(name) ?? Promise.resolve());
    for (const name of names) this.#tails.set(name, held);
    await Promise.all(previous);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
