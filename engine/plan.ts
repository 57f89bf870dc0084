// Planning is pure: it hashes what it must and looks things up, and writes
// nothing. Each stage is assessed from its upstreams' committed outputs; a stage
// below one that will run cannot know its key yet and is re-assessed after the
// upstream commits (that is where early cutoff happens).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CacheEntry } from './db.ts';
import { expandPatterns } from './files.ts';
import { fingerprint } from './fingerprint.ts';
import { describeChanges, ENGINE_VERSION, keyOf, type KeyDetails } from './key.ts';
import { resolveParams, trackedParams } from './params.ts';
import type { Workspace } from './workspace.ts';
import { GlmflowError } from './errors.ts';
import type { ViewState } from './store.ts';

export type PlanState = 'fresh' | 'restore' | 'stale';

export interface Assessment {
  readonly stage: string;
  /** fresh: latest outputs are current; restore: these exact inputs ran before and are cached; stale: must run. */
  readonly state: PlanState;
  readonly reasons: readonly string[];
  /** Unknown while an upstream is still to run. */
  readonly key: string | undefined;
  readonly details: KeyDetails | undefined;
  readonly entry: CacheEntry | undefined;
  readonly params: Record<string, unknown>;
  readonly files: Record<string, string[]>;
  /** How artifacts/<stage>/ stands against the stage's latest commit (undefined: nothing committed). */
  readonly view: ViewState | undefined;
}

export interface PlanOptions {
  readonly force?: ReadonlySet<string>;
}

/** Assesses every stage needed for `targets`, dependencies first. */
export function plan(ws: Workspace, targets: readonly string[], options: PlanOptions = {}): Assessment[] {
  const committed = new Map<string, CacheEntry | undefined>();
  return ws.pipeline.order(targets).map((stage) => {
    const a = assess(ws, stage, committed, options);
    committed.set(stage, a.state === 'stale' ? undefined : a.entry);
    return a;
  });
}

/** `committed`: the entry each upstream stands at (undefined while it is still to run). */
export function assess(ws: Workspace, stage: string, committed: ReadonlyMap<string, CacheEntry | undefined>, options: PlanOptions = {}): Assessment {
  const node = ws.pipeline.node(stage);
  const def = node.def;
  const params = resolveParams(def, ws.params);
  const patterns = def.files?.(params, ws.paths.project) ?? {};
  const files: Record<string, string[]> = {};
  const fileHashes: Record<string, Record<string, string>> = {};
  for (const [group, pattern] of Object.entries(patterns) as [string, string | readonly string[]][]) {
    files[group] = expandPatterns(ws.paths.project, pattern, `stage "${stage}" files.${group}`);
    fileHashes[group] = Object.fromEntries(files[group].map((file) => [displayPath(ws, file), ws.hasher.hash(file)]));
  }
  const latest = ws.db.latest(stage);
  const view = latest && ws.store.viewState(stage, outputNames(ws, stage), latest, (file) => ws.hasher.hash(file));
  const base = { stage, params, files, view };

  const inputs: Record<string, { from: string; hash: string }> = {};
  const waiting = new Set<string>();
  for (const [name, ref] of Object.entries(node.inputs)) {
    const upstream = committed.get(ref.stage);
    const output = upstream?.outputs[ref.output];
    if (!output) waiting.add(ref.stage);
    else inputs[name] = { from: `${ref.stage}.${ref.output}`, hash: output.hash };
  }
  if (waiting.size) {
    return { ...base, state: 'stale', reasons: [`upstream ${[...waiting].join(', ')} will run first`], key: undefined, details: undefined, entry: undefined };
  }

  const details: KeyDetails = {
    engine: ENGINE_VERSION,
    stage,
    sources: fingerprint(fileURLToPath(def.module), ws.paths.project, ws.hasher),
    params: trackedParams(def, params),
    inputs,
    files: fileHashes,
    packages: Object.fromEntries((def.packages ?? []).map((pkg) => [pkg, ws.packageVersion(pkg)])),
  };
  const key = keyOf(details);
  if (options.force?.has(stage)) return { ...base, state: 'stale', reasons: ['forced with --force'], key, details, entry: undefined };

  const entry = latest?.key === key ? latest : ws.db.entry(key);
  const stored = entry && Object.values(entry.outputs).every((out) => ws.store.has(out));
  if (entry && stored) {
    if (entry.key === latest?.key) return { ...base, state: 'fresh', reasons: ['up to date'], key, details, entry };
    return { ...base, state: 'restore', reasons: ['these exact inputs ran before: restored from the cache', ...describeChanges(latest?.details, details)], key, details, entry };
  }
  return { ...base, state: 'stale', reasons: describeChanges(latest?.details, details), key, details, entry: undefined };
}

/** Output name → its file (or folder) name in artifacts/<stage>/. */
export function outputNames(ws: Workspace, stage: string): Record<string, string> {
  return Object.fromEntries(Object.entries(ws.pipeline.node(stage).def.outputs).map(([name, spec]) => [name, spec.file]));
}

/** Hand edits of artifacts/ are never used nor silently thrown away: the user is told, and what to do. */
export function viewEdited(files: readonly string[]): GlmflowError {
  return new GlmflowError(
    `edited by hand: ${files.join(', ')}. Files in artifacts/ are copies of the cache: no stage reads them, and rebuilding the view would discard your edit`,
    'to change what the pipeline uses, change its inputs (data/) or its params; copy your version elsewhere if you want it, then delete the edited files and rerun (the view is rebuilt from the cache)',
  );
}

function displayPath(ws: Workspace, file: string): string {
  const rel = path.relative(ws.paths.project, file);
  return rel.startsWith('..') ? file : rel;
}
