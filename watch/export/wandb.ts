// Optional mirror of a run's metrics to Weights & Biases. @wandb/sdk is an
// optional dependency, imported only when WANDB_API_KEY is set, and anything that
// goes wrong (not installed, no network, a slow server) is reported as one line
// and never fails the caller.
import type { MetricRow } from './metric-rows.ts';

/** The part of @wandb/sdk's default export used here. */
interface Wandb {
  init(options: { project: string; name: string; config: Record<string, unknown> }): Promise<unknown>;
  log(values: Record<string, number>, options: { step: number }): void;
  finish(): Promise<unknown>;
}

export interface WandbOptions {
  readonly project: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** Loads the SDK; tests inject failing or hanging ones. */
  readonly load?: () => Promise<Wandb>;
  /** The SDK's package name, imported by the default `load` (tests name one that is not installed). */
  readonly sdk?: string;
  readonly timeoutMs?: number;
}

const SDK = '@wandb/sdk';

/** Sends the rows; resolves to a line saying what happened, never rejects. */
export async function sendToWandb(rows: readonly Omit<MetricRow, 'run'>[], options: WandbOptions): Promise<string> {
  const sdk = options.sdk ?? SDK;
  const load = options.load ?? (() => importSdk(sdk));
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([upload(await Promise.race([load(), timeout]), rows, options), timeout]);
    return `W&B: ${rows.length} rows sent to project ${options.project}, run ${options.name}`;
  } catch (error) {
    return `W&B: metrics not sent (${(error as Error).message}); nothing else is affected`;
  } finally {
    clearTimeout(timer);
  }
}

async function importSdk(sdk: string): Promise<Wandb> {
  try {
    return ((await import(sdk)) as { default: Wandb }).default;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new Error(`${sdk} is not installed: npm install --no-save ${sdk}`);
    throw error;
  }
}

async function upload(wandb: Wandb, rows: readonly Omit<MetricRow, 'run'>[], options: WandbOptions): Promise<void> {
  await wandb.init({ project: options.project, name: options.name, config: options.config });
  for (const r of rows) wandb.log(Object.fromEntries(Object.entries(r.values).map(([k, v]) => [`${r.stage}/${r.series}/${k}`, v])), { step: r.step });
  await wandb.finish();
}
