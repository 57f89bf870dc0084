// What a stage needs to run away from the driver: everything its context
// holds that is data, written as JSON beside the job. Paths are absolute and
// lie under the project folder, which the cluster's nodes share with the driver.
import type { KeyDetails } from '../key.ts';

export interface JobSpec {
  readonly stage: string;
  readonly key: string;
  /** For ctx.keyWithout(). */
  readonly details: KeyDetails;
  readonly params: Record<string, unknown>;
  readonly inputs: Record<string, string>;
  readonly files: Record<string, readonly string[]>;
  readonly outputs: Record<string, string>;
  readonly artifactPaths: Record<string, string>;
  readonly workDir: string;
  readonly projectDir: string;
  readonly forced: boolean;
  /** JSON lines the worker appends (log, metric, progress, summary, then done or error) and the driver reads as they come. */
  readonly events: string;
}

export type JobEvent =
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'metric'; readonly series: string; readonly step: number; readonly values: Readonly<Record<string, number>> }
  | { readonly type: 'progress'; readonly done: number; readonly total?: number; readonly detail?: string }
  | { readonly type: 'summary'; readonly line: string }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly message: string };
