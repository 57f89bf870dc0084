// A cache key is the hash of its details; the details are stored beside it so a
// miss can be explained part by part (which param, which file, which source).
import { canonicalJson, hashString } from './hash.ts';

/** Bump when the engine's storage or key layout changes meaning: every stage reruns once. */
export const ENGINE_VERSION = 1;

export interface KeyDetails {
  readonly engine: number;
  readonly stage: string;
  /** project-relative source path → hash */
  readonly sources: Readonly<Record<string, string>>;
  /** tracked params, canonical */
  readonly params: Readonly<Record<string, unknown>>;
  /** input name → upstream output and its content hash */
  readonly inputs: Readonly<Record<string, { readonly from: string; readonly hash: string }>>;
  /** file group → path → hash */
  readonly files: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** package → version */
  readonly packages: Readonly<Record<string, string>>;
}

export function keyOf(details: KeyDetails): string {
  return hashString(canonicalJson(details));
}

const MAX_LISTED = 3;

/** One line per difference between the last committed key and the current one, most telling first. */
export function describeChanges(before: KeyDetails | undefined, now: KeyDetails): string[] {
  if (!before) return ['never ran'];
  const changes: string[] = [];
  if (before.engine !== now.engine) changes.push(`engine format ${before.engine} → ${now.engine}`);
  changes.push(...diffParams(before.params, now.params));
  for (const [name, input] of Object.entries(now.inputs)) {
    const old = before.inputs[name];
    if (!old) changes.push(`new input ${name} (from ${input.from})`);
    else if (old.hash !== input.hash) changes.push(`input ${name} changed (${input.from})`);
  }
  for (const name of Object.keys(before.inputs)) if (!(name in now.inputs)) changes.push(`input ${name} removed`);
  const groups = new Set([...Object.keys(before.files), ...Object.keys(now.files)]);
  for (const group of groups) changes.push(...diffHashes(`${group} file`, before.files[group] ?? {}, now.files[group] ?? {}));
  changes.push(...diffHashes('source', before.sources, now.sources));
  for (const [pkg, version] of Object.entries(now.packages)) {
    if (before.packages[pkg] !== version) changes.push(`package ${pkg} ${before.packages[pkg] ?? 'none'} → ${version}`);
  }
  return changes.length ? changes : ['same inputs as before, but the cached outputs are gone'];
}

function diffParams(before: Readonly<Record<string, unknown>>, now: Readonly<Record<string, unknown>>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(now)])].sort()) {
    const a = before[name];
    const b = now[name];
    if (isPlainObject(a) && isPlainObject(b)) lines.push(...diffParams(a, b, `${prefix}${name}.`));
    else if (canonicalJson(a) !== canonicalJson(b)) lines.push(`param ${prefix}${name}: ${show(a)} → ${show(b)}`);
  }
  return lines;
}

function diffHashes(what: string, before: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [file, hash] of Object.entries(now)) {
    if (!(file in before)) added.push(file);
    else if (before[file] !== hash) changed.push(file);
  }
  for (const file of Object.keys(before)) if (!(file in now)) removed.push(file);
  return [
    ...listed(`${what} changed`, changed),
    ...listed(`${what} added`, added),
    ...listed(`${what} removed`, removed),
  ];
}

function listed(label: string, files: string[]): string[] {
  if (files.length === 0) return [];
  const head = files.slice(0, MAX_LISTED).join(', ');
  const more = files.length > MAX_LISTED ? ` and ${files.length - MAX_LISTED} more` : '';
  return [`${label}: ${head}${more}`];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? '(unset)' : JSON.stringify(value);
}
