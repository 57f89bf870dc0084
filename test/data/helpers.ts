// Runs a data stage's run() with a hand-built context in a temporary directory,
// as the engine would, and reads JSONL outputs back.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InputKinds, OutputSpecs, ParamSchema, StageDef } from '../../engine/stage.ts';

export interface StageRun<O extends OutputSpecs> {
  readonly outputs: { readonly [K in keyof O]: string };
  readonly summary: string[];
  readonly log: string[];
}

export async function runStage<S extends ParamSchema, I extends InputKinds, O extends OutputSpecs, F extends string>(
  def: StageDef<string, S, I, O, F>,
  setup: { params?: unknown; inputs?: { readonly [K in keyof I]: string }; files?: { readonly [K in F]: readonly string[] }; projectDir?: string },
): Promise<StageRun<O>> {
  const dir = await mkdtemp(path.join(tmpdir(), `glmflow-${def.name}-`));
  const outputs = Object.fromEntries(Object.entries(def.outputs).map(([name, spec]) => [name, path.join(dir, spec.file)])) as { [K in keyof O]: string };
  const summary: string[] = [];
  const log: string[] = [];
  await def.run({
    stage: def.name,
    params: def.params.parse(setup.params ?? {}),
    inputs: (setup.inputs ?? {}) as { readonly [K in keyof I]: string },
    files: (setup.files ?? {}) as { readonly [K in F]: readonly string[] },
    outputs,
    workDir: dir,
    projectDir: setup.projectDir ?? dir,
    signal: new AbortController().signal,
    log: (message) => {
      log.push(message);
    },
    progress: () => {},
    summary: (line) => {
      summary.push(line);
    },
    metric: () => {},
    key: "test",
    keyWithout: () => "test",
  });
  return { outputs, summary, log };
}

export async function readLines<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as T);
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `glmflow-${prefix}-`));
}
