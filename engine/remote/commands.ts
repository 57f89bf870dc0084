// `push`, `pull` and `status --remote`: the remote cache by hand. Pushes and
// pulls go through the same checks as the automatic ones during `run`.
import type { CacheEntry } from '../db.ts';
import { formatBytes, table } from '../display.ts';
import { GlmflowError } from '../errors.ts';
import { assess, outputNames, plan } from '../plan.ts';
import type { Workspace } from '../workspace.ts';
import type { RemoteCache } from './remote-cache.ts';
import { fetchFromRemote } from './sync.ts';

async function requireRemote(ws: Workspace): Promise<RemoteCache> {
  const remote = await ws.remote();
  if (!remote) throw new GlmflowError(`no remote cache configured for ${ws.paths.project}`, 'add to glmflow.yaml in the project folder:\n  remote:\n    url: s3://my-bucket/glmflow\n    endpoint: http://minio.local:9000   # only for S3-compatible stores');
  return remote;
}

/** Uploads each stage's latest committed outputs (all stages, or those `targets` need). */
export async function pushCommand(ws: Workspace, targets: readonly string[], print: (line: string) => void): Promise<number> {
  const remote = await requireRemote(ws);
  let pushed = 0;
  for (const stage of ws.pipeline.order(targets)) {
    const entry = ws.db.latest(stage);
    if (!entry || !Object.values(entry.outputs).every((r) => ws.store.has(r))) {
      print(`${stage}: nothing committed here to push`);
      continue;
    }
    const { objects, bytes } = await remote.push(entry, ws.store);
    print(`${stage}: pushed to ${remote.url} (${objects ? `${objects} objects, ${formatBytes(bytes)}` : 'objects already there'})`);
    pushed++;
  }
  print(`push: ${pushed} stage${pushed === 1 ? '' : 's'} on ${remote.url}`);
  return 0;
}

/**
 * Brings the stages `targets` need up to date from the remote without running any: stage by stage,
 * since a stage's key is known only once its upstreams' outputs are.
 */
export async function pullCommand(ws: Workspace, targets: readonly string[], print: (line: string) => void): Promise<number> {
  const remote = await requireRemote(ws);
  const committed = new Map<string, CacheEntry | undefined>();
  let missing = 0;
  for (const stage of ws.pipeline.order(targets)) {
    const a = assess(ws, stage, committed);
    if (a.state !== 'stale') {
      if (a.state === 'restore') ws.store.materialize(stage, a.key!, outputNames(ws, stage), a.entry!.outputs, () => ws.db.setLatest(stage, a.key!));
      committed.set(stage, a.entry);
      print(`${stage}: ${a.state === 'fresh' ? 'up to date' : 'restored from the local cache'}`);
      continue;
    }
    const hit = a.key ? await fetchFromRemote(ws, stage, a.key, print) : undefined;
    committed.set(stage, hit?.entry);
    if (hit) {
      ws.store.materialize(stage, hit.entry.key, outputNames(ws, stage), hit.entry.outputs, () => ws.db.commit(hit.entry));
      print(`${stage}: pulled from ${remote.url} (${formatBytes(hit.bytes)})`);
    } else {
      missing++;
      print(`${stage}: ${a.key ? 'not on the remote' : `waits for ${a.reasons.join('; ')}`}: \`run\` computes it`);
    }
  }
  return missing ? 1 : 0;
}

/** `status --remote`: each stage's local state and whether the remote holds its current key. */
export async function remoteStatusCommand(ws: Workspace, targets: readonly string[], json: boolean, print: (line: string) => void): Promise<number> {
  const remote = await requireRemote(ws);
  const rows: { stage: string; state: string; remote: string; reasons: readonly string[] }[] = [];
  for (const a of plan(ws, targets)) {
    const there = a.key === undefined ? 'unknown until upstream runs' : (await remote.hasEntry(a.stage, a.key)) ? 'on remote' : 'not on remote';
    rows.push({ stage: a.stage, state: a.state, remote: there, reasons: a.reasons });
  }
  if (json) print(JSON.stringify(rows));
  else print(`remote: ${remote.url}\n` + table(['stage', 'state', 'remote', 'why'], rows.map((r) => [r.stage, r.state, r.remote, r.reasons.join('; ')])));
  return 0;
}

/** `gc --remote --older-than DAYS`: only when asked, and only what is that old (see RemoteCache.collect). */
export async function remoteGcCommand(ws: Workspace, olderThanDays: number, print: (line: string) => void): Promise<number> {
  const remote = await requireRemote(ws);
  const { entries, objects, bytes } = await remote.collect(Date.now() - olderThanDays * 86_400_000);
  print(`gc --remote: removed ${entries} entries written over ${olderThanDays} days ago and ${objects} objects no entry lists, ${formatBytes(bytes)}, from ${remote.url}`);
  return 0;
}
