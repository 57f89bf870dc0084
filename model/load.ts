// Building models: from a Hugging Face checkpoint directory, or from scratch with a seeded
// random init; saving and loading the P-tuning v2 prefix as safetensors.
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GlmflowError } from '../engine/errors.ts';
import { type BackendName, selectBackend } from './backend.ts';
import { type GlmConfig, readConfig, toHfConfig, withPrefix } from './config.ts';
import { GlmModel } from './glm.ts';
import { checkModelFits, type PlannedPass } from './memory.ts';
import { isPrefixParam, type Trainable, type WeightSource } from './params.ts';
import { SafetensorsFile, writeSafetensors } from './safetensors.ts';
import { checkpointSource, fileStore, RandomSource, SplitSource, StoreSource } from './weights.ts';

export interface LoadOptions {
  /** A separate prefix checkpoint: a .safetensors file, or a directory holding model.safetensors. */
  readonly prefix?: string;
  /** Start a new prefix of this many virtual tokens (overrides config.json's pre_seq_len). */
  readonly preSeqLen?: number;
  readonly prefixProjection?: boolean;
  /** Default: 'prefix' when the model has a prefix, else 'none'. */
  readonly trainable?: Trainable;
  /** Seed of a new prefix's random init. */
  readonly seed?: number;
  readonly backend?: BackendName;
  /** The batch and length it will run at, for the memory check before loading (default: batch 1 x 256, no training). */
  readonly pass?: PlannedPass;
}

const PREFIX_EMBEDDING = 'transformer.prefix_encoder.embedding.weight';

function prefixFile(p: string): SafetensorsFile {
  const file = existsSync(p) && statSync(p).isDirectory() ? path.join(p, 'model.safetensors') : p;
  if (!existsSync(file)) throw new GlmflowError(`prefix checkpoint ${file} not found`, 'savePrefix() writes one as a .safetensors file');
  return new SafetensorsFile(file);
}

/**
 * Loads config.json + safetensors from `dir`. The prefix encoder comes from `opts.prefix`,
 * else from the checkpoint when it has one, else a fresh seeded init when a prefix is configured.
 */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<GlmModel> {
  const backend = await selectBackend(opts.backend);
  let config = readConfig(dir);
  // Before any weight is read: a checkpoint too large for the backend stops here, with the estimate.
  const planned = opts.preSeqLen !== undefined ? withPrefix(config, opts.preSeqLen, opts.prefixProjection ?? false) : config;
  const plannedTrainable = opts.trainable ?? (planned.preSeqLen !== null || opts.prefix ? 'prefix' : 'none');
  checkModelFits(planned, plannedTrainable, opts.pass, backend.name, backend.adapter?.software ?? false, `loading ${dir}`);
  const base = checkpointSource(dir);
  let prefixSource: WeightSource;
  let prefixStore: StoreSource | undefined;
  if (opts.prefix) {
    const file = prefixFile(opts.prefix);
    prefixStore = new StoreSource(fileStore(file), file.file);
    const shape = file.entries.get(PREFIX_EMBEDDING)?.shape;
    if (!shape || shape.length !== 2) throw new GlmflowError(`${file.file} has no ${PREFIX_EMBEDDING}`, 'a prefix checkpoint holds transformer.prefix_encoder.* tensors');
    config = withPrefix(config, shape[0]!, file.entries.has('transformer.prefix_encoder.trans.0.weight'));
    prefixSource = prefixStore;
  } else if (opts.preSeqLen !== undefined) {
    config = withPrefix(config, opts.preSeqLen, opts.prefixProjection ?? false);
    prefixSource = new RandomSource(opts.seed ?? 0);
  } else {
    prefixSource = base.has(PREFIX_EMBEDDING) || config.preSeqLen === null ? base : new RandomSource(opts.seed ?? 0);
  }
  const trainable = opts.trainable ?? (config.preSeqLen !== null ? 'prefix' : 'none');
  const model = new GlmModel(config, new SplitSource(base, prefixSource), trainable);
  try {
    // prefix tensors left in the base checkpoint are fine when the prefix comes from elsewhere
    base.checkAllUsed((name) => prefixSource === base || !isPrefixParam(name));
    prefixStore?.checkAllUsed();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** A model with seeded random weights (a small base model built from scratch, benchmarks, tests). */
export async function createModel(config: GlmConfig, seed: number, opts: { trainable?: Trainable; backend?: BackendName; pass?: PlannedPass } = {}): Promise<GlmModel> {
  const backend = await selectBackend(opts.backend);
  const trainable = opts.trainable ?? (config.preSeqLen !== null ? 'prefix' : 'none');
  checkModelFits(config, trainable, opts.pass, backend.name, backend.adapter?.software ?? false, 'creating the model');
  return new GlmModel(config, new RandomSource(seed), trainable);
}

async function writeNamed(file: string, weights: Map<string, tf.Tensor>): Promise<void> {
  try {
    const arrays = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of weights) arrays.set(name, { shape: t.shape, data: (await t.data()) as Float32Array });
    writeSafetensors(file, arrays);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}

/** Writes the prefix encoder (transformer.prefix_encoder.*, F32) to a .safetensors file. */
export async function savePrefix(model: GlmModel, file: string): Promise<void> {
  if (!model.prefixEncoder) throw new GlmflowError('this model has no prefix encoder to save');
  await writeNamed(file, model.prefixWeights());
}

/** Loads a prefix saved by savePrefix onto `base`'s checkpoint: a new model sharing nothing with others. */
export async function loadPrefix(dir: string, prefix: string, opts: Omit<LoadOptions, 'prefix'> = {}): Promise<GlmModel> {
  return loadModel(dir, { ...opts, prefix });
}

/** Writes config.json + model.safetensors (all weights, F32) into `dir`: a checkpoint loadModel reads back. */
export async function saveModel(model: GlmModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(model.config), null, 2) + '\n');
  await writeNamed(path.join(dir, 'model.safetensors'), model.namedWeights());
}
