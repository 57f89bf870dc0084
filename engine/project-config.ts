// The project's own settings, in glmflow.yaml beside its data/: where stages
// run (executors) and where the cache is shared (remote). Params stay in
// --config/--set; this file says how and where, never what, so it is not part
// of any cache key.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { GlmflowError } from './errors.ts';

export const PROJECT_CONFIG_FILE = 'glmflow.yaml';

const remoteSchema = z.object({
  url: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'an s3://bucket/prefix address'),
  /** An S3-compatible store's address (MinIO, Ceph, R2…); AWS needs none. */
  endpoint: z.url().optional(),
  region: z.string().optional(),
  /** Bucket in the path (http://host/bucket/key), as most self-hosted stores want. */
  path_style: z.boolean().default(false),
  /** Push each commit as it happens; with false only `push` uploads. */
  push: z.boolean().default(true),
});

const executorName = z.enum(['local', 'slurm']);

const executorSchema = z.object({
  default: executorName.default('local'),
  /** stage → executor, before anything else. */
  stages: z.record(z.string(), executorName).default({}),
  /** A stage claiming one of these resources (the trainer claims `device`) goes to that executor. */
  resources: z.record(z.string(), executorName).default({}),
});

const slurmSchema = z.object({
  partition: z.string().optional(),
  gres: z.string().optional(),
  time: z.string().optional(),
  mem: z.string().optional(),
  cpus_per_task: z.number().int().positive().optional(),
  /** Any further sbatch options, as given on its command line. */
  sbatch_args: z.array(z.string()).default([]),
  /** How often the driver looks at the job's state. */
  poll_seconds: z.number().positive().default(1),
});

const projectConfigSchema = z.strictObject({
  remote: z.preprocess((v) => (typeof v === 'string' ? { url: v } : v), remoteSchema).optional(),
  executor: executorSchema.default({ default: 'local', stages: {}, resources: {} }),
  slurm: slurmSchema.default({ sbatch_args: [], poll_seconds: 1 }),
});

export type ProjectConfig = z.output<typeof projectConfigSchema>;
export type RemoteConfig = z.output<typeof remoteSchema>;
export type SlurmConfig = z.output<typeof slurmSchema>;
export type ExecutorName = z.output<typeof executorName>;

export function loadProjectConfig(projectDir: string): ProjectConfig {
  const file = path.join(projectDir, PROJECT_CONFIG_FILE);
  if (!existsSync(file)) return projectConfigSchema.parse({});
  // Loaded only when the file exists: most projects have none, and start-up time matters for no-op runs.
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new GlmflowError(`cannot read ${file}: ${(error as Error).message}`, 'it is YAML, e.g.\n  remote: s3://my-bucket/glmflow\n  executor: {resources: {device: slurm}}');
  }
  const parsed = projectConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GlmflowError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`, 'see README.md, "Scaling out", for the settings');
  }
  return parsed.data;
}

/** Where a stage runs: --executor first, then the stage by name, then its resources, then the default. */
export function executorFor(config: ProjectConfig, stage: string, resources: readonly string[], override?: ExecutorName): ExecutorName {
  if (override) return override;
  const byStage = config.executor.stages[stage];
  if (byStage) return byStage;
  for (const resource of resources) {
    const byResource = config.executor.resources[resource];
    if (byResource) return byResource;
  }
  return config.executor.default;
}
