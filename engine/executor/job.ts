// A stage run away from the driver's process, by Slurm or as a child process:
// its spec written beside the job, the command that runs pipeline.ts in worker
// mode, and the driver's side of the events the worker appends (log lines,
// live metrics, progress, summary, then done or error).
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyDetails } from '../key.ts';
import type { StageContext } from '../stage.ts';
import type { JobEvent, JobSpec } from './job-spec.ts';

export type AnyContext = StageContext<Record<string, unknown>, Record<string, string>, Record<string, { kind: string; file: string; description: string }>, string>;

export interface PreparedJob {
  readonly dir: string;
  /** The worker's command line: the same Node and pipeline.ts as the driver's. */
  readonly argv: readonly string[];
  /** Passes new events to the stage's context; returns how the worker ended once it said so. */
  follow(): JobEvent | undefined;
}

export function prepareJob(ctx: AnyContext, dir: string, details: KeyDetails, pipelineFile: string): PreparedJob {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spec: JobSpec = {
    stage: ctx.stage,
    key: ctx.key,
    details,
    params: ctx.params,
    inputs: ctx.inputs,
    files: ctx.files,
    outputs: ctx.outputs,
    artifactPaths: ctx.artifactPaths,
    workDir: ctx.workDir,
    projectDir: ctx.projectDir,
    forced: ctx.forced,
    events: path.join(dir, 'events.jsonl'),
  };
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  writeFileSync(spec.events, '');
  const reader = new EventReader(spec.events);
  let outcome: JobEvent | undefined;
  return {
    dir,
    // tsx by its resolved address: a job may start in a folder without node_modules.
    argv: [process.execPath, '--import', import.meta.resolve('tsx'), pipelineFile, 'stage-worker', specFile],
    follow() {
      for (const event of reader.read()) {
        if (event.type === 'log') ctx.log(event.line);
        else if (event.type === 'metric') ctx.metric(event.series, event.step, event.values);
        else if (event.type === 'progress') ctx.progress(event.done, event.total, event.detail);
        else if (event.type === 'summary') ctx.summary(event.line);
        else outcome = event;
      }
      return outcome;
    },
  };
}

/** Reads JSON lines appended to a file since the last read; a partly written last line waits for the next. */
class EventReader {
  #offset = 0;
  #rest = '';

  constructor(readonly file: string) {}

  read(): JobEvent[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.#offset) return [];
    const buffer = Buffer.alloc(size - this.#offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.#offset);
    } finally {
      closeSync(fd);
    }
    this.#offset = size;
    const lines = (this.#rest + buffer.toString('utf8')).split('\n');
    this.#rest = lines.pop()!;
    return lines.filter(Boolean).map((line) => JSON.parse(line) as JobEvent);
  }
}
