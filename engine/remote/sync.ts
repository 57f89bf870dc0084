// The engine's two moments with the remote cache: before running a stage
// (a remote hit is downloaded, verified and committed instead) and after a
// commit (its outputs, then its entry, are pushed). A remote that fails or
// holds damaged data never fails a run: the stage runs locally, with a warning.
import type { CacheEntry } from '../db.ts';
import { describeError } from '../errors.ts';
import { formatBytes } from '../display.ts';
import type { Workspace } from '../workspace.ts';
import { RemoteDamage } from './damage.ts';

export interface RestoreOutcome {
  readonly entry: CacheEntry;
  readonly bytes: number;
}

/**
 * The remote's entry for this stage and key, its outputs downloaded into the local store but not
 * committed (the caller commits as it builds the view); undefined on a miss or damage.
 */
export async function fetchFromRemote(ws: Workspace, stage: string, key: string, warn: (line: string) => void): Promise<RestoreOutcome | undefined> {
  const remote = await ws.remote();
  if (!remote) return undefined;
  try {
    const entry = await remote.entry(stage, key);
    if (!entry) return undefined;
    const { bytes } = await remote.download(entry, ws.store);
    return { entry, bytes };
  } catch (error) {
    const what = error instanceof RemoteDamage ? `${error.message}; not used` : describeError(error);
    warn(`remote cache: ${stage}: ${what}; running it here instead`);
    return undefined;
  }
}

/** Pushes a committed entry where glmflow.yaml asks for pushes on commit; a failure is a warning (`push` retries). */
export async function pushAfterCommit(ws: Workspace, entry: CacheEntry, warn: (line: string) => void): Promise<void> {
  const remote = await ws.remote();
  if (!remote || !ws.config.remote?.push) return;
  try {
    const { objects, bytes } = await remote.push(entry, ws.store);
    if (objects) warn(`remote cache: ${entry.stage} pushed (${objects} objects, ${formatBytes(bytes)})`);
  } catch (error) {
    warn(`remote cache: ${entry.stage} not pushed: ${describeError(error)}\n  → \`npx tsx pipeline.ts push\` sends it later`);
  }
}
