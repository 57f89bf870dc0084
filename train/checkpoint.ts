// Training checkpoints: everything needed to continue a run exactly where it
// stopped. Written into a temporary folder and renamed into place, so a kill
// never leaves a checkpoint that looks complete but is not.
//
//   <dir>/checkpoint-<step>/
//     trainable.safetensors   the trainable variables as the model stores them (exact resume)
//     optimizer.safetensors   AdamW moments, `<i>.exp_avg` / `<i>.exp_avg_sq`
//     weights.safetensors     the trained weights with Hugging Face names (the prefix: transformer.prefix_encoder.*)
//     trainer_state.json      step, best evaluation, patience, log history
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AdamW } from '../model/adamw.ts';
import type { GlmModel } from '../model/glm.ts';
import { isPrefixParam } from '../model/params.ts';
import { SafetensorsFile, writeSafetensors, type NamedArray } from '../model/safetensors.ts';

export interface LogEntry {
  readonly step: number;
  readonly series: 'train' | 'eval';
  readonly values: Readonly<Record<string, number>>;
}

export interface TrainerState {
  readonly step: number;
  readonly bestEvalLoss: number | null;
  readonly bestStep: number | null;
  /** Evaluations since the best one (early stopping). */
  readonly evalsWithoutImprovement: number;
  readonly history: readonly LogEntry[];
}

const PREFIX = 'checkpoint-';

export class Checkpoints {
  constructor(readonly dir: string) {}

  steps(): number[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => name.startsWith(PREFIX) && !name.endsWith('.tmp'))
      .map((name) => Number(name.slice(PREFIX.length)))
      .filter(Number.isInteger)
      .sort((a, b) => a - b);
  }

  path(step: number): string {
    return path.join(this.dir, `${PREFIX}${step}`);
  }

  /** The latest checkpoint at or before `maxStep`. */
  latest(maxStep: number): number | undefined {
    return this.steps().filter((s) => s <= maxStep).at(-1);
  }

  async save(step: number, model: GlmModel, optimizer: AdamW, state: TrainerState): Promise<string> {
    const target = this.path(step);
    const tmp = `${target}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const vars = model.trainableVariables();
    writeSafetensors(path.join(tmp, 'trainable.safetensors'), await arrays(vars.map((v, i) => [String(i), v])));
    const index = new Map(vars.map((v, i) => [v, i]));
    const moments = optimizer.state().moments.flatMap(({ param, m, v }): [string, tf.Tensor][] => [
      [`${index.get(param)}.exp_avg`, m],
      [`${index.get(param)}.exp_avg_sq`, v],
    ]);
    writeSafetensors(path.join(tmp, 'optimizer.safetensors'), await arrays(moments), { step: String(optimizer.steps) });
    await saveWeights(model, path.join(tmp, 'weights.safetensors'));
    writeFileSync(path.join(tmp, 'trainer_state.json'), JSON.stringify(state, null, 1));
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return target;
  }

  /** Loads a checkpoint into the model's variables and the optimizer; returns the trainer state. */
  restore(step: number, model: GlmModel, optimizer: AdamW): TrainerState {
    const dir = this.path(step);
    const vars = model.trainableVariables();
    const trainable = new SafetensorsFile(path.join(dir, 'trainable.safetensors'));
    vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(trainable.read(String(i)).data, v.shape))));
    const optimizerFile = new SafetensorsFile(path.join(dir, 'optimizer.safetensors'));
    const moments = vars
      .map((param, i) => ({ param, name: String(i) }))
      .filter(({ name }) => optimizerFile.entries.has(`${name}.exp_avg`))
      .map(({ param, name }) => ({ param, m: tf.tensor(optimizerFile.read(`${name}.exp_avg`).data, param.shape), v: tf.tensor(optimizerFile.read(`${name}.exp_avg_sq`).data, param.shape) }));
    const state = JSON.parse(readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as TrainerState;
    optimizer.restore(state.step, moments);
    for (const { m, v } of moments) m.dispose(), v.dispose();
    return state;
  }

  state(step: number): TrainerState {
    return JSON.parse(readFileSync(path.join(this.path(step), 'trainer_state.json'), 'utf8')) as TrainerState;
  }

  /** Keeps the newest `limit` checkpoints and `keep` (the best); 0 keeps all. */
  rotate(limit: number, keep: number | null): void {
    if (limit <= 0) return;
    const steps = this.steps();
    const newest = new Set(steps.slice(-limit));
    for (const step of steps) if (!newest.has(step) && step !== keep) rmSync(this.path(step), { recursive: true, force: true });
  }
}

/** The trained weights with Hugging Face names: the prefix when tuning a prefix, else every weight. */
export async function saveWeights(model: GlmModel, file: string): Promise<void> {
  const weights = model.namedWeights(model.prefixEncoder ? isPrefixParam : () => true);
  try {
    writeSafetensors(file, await arrays([...weights]));
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}

async function arrays(entries: readonly [string, tf.Tensor][]): Promise<Map<string, NamedArray>> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of entries) out.set(name, { shape: t.shape, data: (await t.data()) as Float32Array });
  return out;
}
