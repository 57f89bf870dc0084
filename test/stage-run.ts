// Runs a stage's run() with a hand-built context, as the engine would, writing
// its outputs into a temporary directory (or `dir`): for testing a stage's own
// logic without the cache around it.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InputKinds, OutputSpecs, ParamSchema, StageDef } from '../engine/stage.ts';

export interface StageRun<O extends OutputSpecs> {
  readonly outputs: { readonly [K in keyof O]: string };
  readonly summary: string[];
  readonly log: string[];
  /** Each progress call as `done/total detail` (total empty when unknown). */
  readonly progress: string[];
}

export async function runStage<S extends ParamSchema, I extends InputKinds, O extends OutputSpecs, F extends string>(
  def: StageDef<string, S, I, O, F>,
  setup: { params?: unknown; inputs?: { readonly [K in keyof I]: string }; files?: { readonly [K in F]: readonly string[] }; projectDir?: string; dir?: string },
): Promise<StageRun<O>> {
  const dir = setup.dir ?? (await mkdtemp(path.join(tmpdir(), `glmflow-${def.name}-`)));
  const outputs = Object.fromEntries(Object.entries(def.outputs).map(([name, spec]) => [name, path.join(dir, spec.file)])) as { [K in keyof O]: string };
  // As the engine does: a folder output exists, empty, when run() starts.
  for (const spec of Object.values(def.outputs)) if (spec.directory) await mkdir(path.join(dir, spec.file), { recursive: true });
  const summary: string[] = [];
  const log: string[] = [];
  const progress: string[] = [];
  await def.run({
    stage: def.name,
    params: def.params.parse(setup.params ?? {}),
    inputs: (setup.inputs ?? {}) as { readonly [K in keyof I]: string },
    files: (setup.files ?? {}) as { readonly [K in F]: readonly string[] },
    outputs,
    artifactPaths: outputs,
    workDir: dir,
    forced: false,
    projectDir: setup.projectDir ?? dir,
    signal: new AbortController().signal,
    log: (message) => {
      log.push(message);
    },
    progress: (done, total, detail) => {
      progress.push(`${done}/${total ?? ''} ${detail ?? ''}`.trim());
    },
    summary: (line) => {
      summary.push(line);
    },
    metric: () => {},
    key: 'test',
    keyWithout: () => 'test',
  });
  return { outputs, summary, log, progress };
}
