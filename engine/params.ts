// Params reach a stage from its schema defaults, then --config YAML, then --set,
// and are validated once, here, with messages that name the stage, the param
// and where the bad value came from.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { canonicalJson } from './hash.ts';
import { GlmflowError } from './errors.ts';
import type { StageDef } from './stage.ts';

/** stage → nested param values */
export type Overrides = Record<string, Record<string, unknown>>;

export interface ParamSources {
  /** From --config files, in order. */
  readonly config: Overrides;
  /** From --set, typed ("5e-5" → number, "true" → boolean, JSON lists and objects parsed). */
  readonly set: Overrides;
  /** The same --set values as the raw strings typed, for string params that look like numbers. */
  readonly setRaw: Overrides;
}

export const NO_PARAMS: ParamSources = { config: {}, set: {}, setRaw: {} };

export function parseSetFlags(flags: readonly string[], base: ParamSources = NO_PARAMS): ParamSources {
  const set = structuredClone(base.set);
  const setRaw = structuredClone(base.setRaw);
  for (const flag of flags) {
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_.-]+)=(.*)$/s.exec(flag);
    if (!match) throw new GlmflowError(`--set "${flag}" is not of the form stage.param=value`, 'for example: --set split.subset=0.2');
    const [, stage, param, raw] = match as unknown as [string, string, string, string];
    setPath((set[stage] ??= {}), param, parseValue(raw));
    setPath((setRaw[stage] ??= {}), param, raw);
  }
  return { config: base.config, set, setRaw };
}

/** A command-line value: JSON where it parses (numbers, booleans, null, lists, objects), else the text itself. */
export function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Reads another tool's config format (ChatGLM3's finetune_demo YAML, say) as params per stage. */
export interface ConfigAdapter {
  readonly name: string;
  matches(parsed: Record<string, unknown>): boolean;
  adapt(parsed: Record<string, unknown>, file: string): { readonly overrides: Overrides; readonly notes: readonly string[] };
}

export interface ConfigLoad {
  readonly adapters?: readonly ConfigAdapter[];
  /** Stages of the pipeline: an adapter's params for a stage not in it are dropped with a note. */
  readonly stages?: readonly string[];
  readonly note?: (line: string) => void;
}

export async function loadConfigFile(file: string, base: ParamSources = NO_PARAMS, load: ConfigLoad = {}): Promise<ParamSources> {
  // Loaded on demand: most commands have no config file, and start-up time matters for no-op runs.
  const { parse: parseYaml } = await import('yaml');
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new GlmflowError(`cannot read config ${file}: ${(error as Error).message}`, 'a config file is YAML mapping stage names to params, e.g.\n  split:\n    subset: 0.2');
  }
  const adapter = isRecord(parsed) ? load.adapters?.find((a) => a.matches(parsed as Record<string, unknown>)) : undefined;
  if (adapter) {
    const { overrides, notes } = adapter.adapt(parsed as Record<string, unknown>, file);
    for (const line of notes) load.note?.(`${file} (${adapter.name}): ${line}`);
    for (const stage of Object.keys(overrides)) {
      if (load.stages && !load.stages.includes(stage)) {
        load.note?.(`${file} (${adapter.name}): settings for stage "${stage}" ignored: it is not in this pipeline`);
        delete overrides[stage];
      }
    }
    parsed = overrides;
  }
  if (!isRecord(parsed) || !Object.values(parsed).every(isRecord)) {
    throw new GlmflowError(`config ${file} is not a mapping of stage names to params`, 'expected e.g.\n  split:\n    subset: 0.2');
  }
  const config = structuredClone(base.config);
  for (const [stage, values] of Object.entries(parsed as Overrides)) config[stage] = deepMerge(config[stage] ?? {}, values);
  return { ...base, config };
}

/** Throws when --set or --config names a stage that is not in the pipeline. */
export function checkStageNames(sources: ParamSources, stages: readonly string[]): void {
  for (const stage of new Set([...Object.keys(sources.config), ...Object.keys(sources.set)])) {
    if (!stages.includes(stage)) throw new GlmflowError(`params given for unknown stage "${stage}"`, `stages in this pipeline: ${stages.join(', ')}`);
  }
}

export function resolveParams(def: StageDef, sources: ParamSources): Record<string, unknown> {
  const given = deepMerge(sources.config[def.name] ?? {}, sources.set[def.name] ?? {});
  if (def.params instanceof z.ZodObject) {
    const known = Object.keys(def.params.shape);
    for (const name of Object.keys(given)) {
      if (!known.includes(name)) throw new GlmflowError(`stage "${def.name}" has no param "${name}"`, `its params are: ${known.join(', ') || 'none'}`);
    }
  }
  let result = def.params.safeParse(given);
  if (!result.success) {
    // A --set value typed as a number where the param wants a string (an id like 0123): use the raw text.
    const retry = deepMerge(given, sources.setRaw[def.name] ?? {});
    const second = def.params.safeParse(retry);
    if (second.success) result = second;
  }
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const where = issue.path.join('.');
      const value = getPath(given, issue.path.map(String));
      return `  ${def.name}.${where}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;
    });
    throw new GlmflowError(`invalid params for stage "${def.name}":\n${lines.join('\n')}`, `fix them in --set or the --config file; \`npx tsx pipeline.ts explain ${def.name}\` shows the current values`);
  }
  return result.data;
}

export function trackedParams(def: StageDef, params: Record<string, unknown>): Record<string, unknown> {
  const untracked = new Set<string>(def.untracked ?? []);
  return JSON.parse(canonicalJson(Object.fromEntries(Object.entries(params).filter(([name]) => !untracked.has(name))))) as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = isRecord(next) ? next : (node[part] = {});
  }
  node[parts.at(-1)!] = value;
}

function getPath(source: Record<string, unknown>, parts: readonly string[]): unknown {
  let node: unknown = source;
  for (const part of parts) node = isRecord(node) ? node[part] : undefined;
  return node;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    out[key] = isRecord(prev) && isRecord(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
