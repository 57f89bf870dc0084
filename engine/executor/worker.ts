// The worker mode of pipeline.ts (`pipeline.ts stage-worker SPEC`): runs one
// stage of a Slurm job against the fixed key and inputs in SPEC. It writes the
// stage's outputs into the staging folder and its log, metrics and progress
// as JSON lines; it never opens the project's SQLite (the driver records and
// commits), so nothing on a cluster node can leave the cache half-written.
import { appendFileSync, readFileSync } from 'node:fs';
import { describeError } from '../errors.ts';
import { keyOf } from '../key.ts';
import type { Pipeline } from '../pipeline.ts';
import type { StageContext } from '../stage.ts';
import type { JobEvent, JobSpec } from './job-spec.ts';

export async function runStageWorker(pipeline: Pipeline, specFile: string): Promise<number> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as JobSpec;
  const emit = (event: JobEvent): void => appendFileSync(spec.events, JSON.stringify(event) + '\n');
  const def = pipeline.node(spec.stage).def;
  // scancel and Slurm's time limit send SIGTERM first: the stage stops at its next check, as on Ctrl-C.
  const abort = new AbortController();
  process.once('SIGTERM', () => abort.abort());
  const ctx: StageContext<Record<string, unknown>, Record<string, string>, typeof def.outputs, string> = {
    stage: spec.stage,
    key: spec.key,
    keyWithout: (names) => keyOf({ ...spec.details, params: Object.fromEntries(Object.entries(spec.details.params).filter(([name]) => !names.includes(name))) }),
    params: spec.params,
    inputs: spec.inputs,
    files: spec.files,
    outputs: spec.outputs,
    artifactPaths: spec.artifactPaths,
    workDir: spec.workDir,
    projectDir: spec.projectDir,
    forced: spec.forced,
    signal: abort.signal,
    log: (line) => emit({ type: 'log', line }),
    progress: (done, total, detail) => emit({ type: 'progress', done, ...(total === undefined ? {} : { total }), ...(detail === undefined ? {} : { detail }) }),
    summary: (line) => emit({ type: 'summary', line }),
    metric: (series, step, values) => emit({ type: 'metric', series, step, values }),
  };
  try {
    await def.run(ctx);
    if (abort.signal.aborted) throw new Error('stopped by Slurm (SIGTERM)');
    emit({ type: 'done' });
    return 0;
  } catch (error) {
    emit({ type: 'error', message: describeError(error) });
    process.stderr.write(`error: ${describeError(error)}\n`);
    return 1;
  }
}
