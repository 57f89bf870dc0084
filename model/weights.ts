// Weight sources for building a model: a safetensors checkpoint (every tensor must be used,
// with the expected shape), a seeded random init, or a mix (base from one place, prefix from another).
import { GlmflowError } from '../engine/errors.ts';
import { type WeightSource, checkShape, isPrefixParam } from './params.ts';
import { Rng, seedFor } from './random.ts';
import { Checkpoint, type SafetensorsFile } from './safetensors.ts';

/** Present in real HF checkpoints; recomputed from the config instead. */
const IGNORED = new Set(['transformer.rotary_pos_emb.inv_freq']);

type TensorStore = Pick<Checkpoint, 'has' | 'shape' | 'read' | 'names'>;

/** Reads named tensors from a checkpoint, checking shapes and remembering what was used. */
export class StoreSource implements WeightSource {
  private readonly used = new Set<string>();

  constructor(
    private readonly store: TensorStore,
    readonly where: string,
  ) {}

  has(name: string): boolean {
    return this.store.has(name);
  }

  read(name: string, shape: readonly number[]): Float32Array {
    const actual = this.store.shape(name);
    if (!actual) throw new GlmflowError(`tensor ${name} (shape [${shape.join(', ')}]) is missing from ${this.where}`, 'check that config.json belongs to these weights');
    checkShape(name, shape, actual, this.where);
    this.used.add(name);
    return this.store.read(name).data;
  }

  /** Throws if the checkpoint holds tensors the model did not read (`accept` filters names another source covers). */
  checkAllUsed(accept: (name: string) => boolean = () => true): void {
    const extra = this.store.names().filter((n) => !this.used.has(n) && !IGNORED.has(n) && accept(n));
    if (extra.length === 0) return;
    const list = extra.slice(0, 10).map((n) => `${n} [${this.store.shape(n)?.join(', ')}]`);
    throw new GlmflowError(
      `${this.where} has ${extra.length} tensor(s) the config does not describe: ${list.join(', ')}${extra.length > 10 ? ', …' : ''}`,
      extra.some(isPrefixParam)
        ? 'prefix-encoder tensors need pre_seq_len (and prefix_projection) in config.json, or loading with a prefix option'
        : 'check that config.json belongs to these weights',
    );
  }
}

/** A single safetensors file (a prefix checkpoint) seen as a tensor store. */
export function fileStore(file: SafetensorsFile): TensorStore {
  return {
    has: (n) => file.entries.has(n),
    shape: (n) => {
      const e = file.entries.get(n);
      return e ? [...e.shape] : undefined;
    },
    read: (n) => file.read(n),
    names: () => [...file.entries.keys()],
  };
}

export function checkpointSource(dir: string): StoreSource {
  return new StoreSource(new Checkpoint(dir), dir);
}

/**
 * Seeded random init by parameter name, the scheme of the shared fixtures: norms 1, biases 0,
 * embeddings N(0, 1), other matrices N(0, 1/fan_in). Each tensor's values depend only on
 * (seed, name), not on the order modules are built in.
 */
export class RandomSource implements WeightSource {
  constructor(private readonly seed: number) {}

  read(name: string, shape: readonly number[]): Float32Array {
    const count = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('layernorm.weight')) return new Float32Array(count).fill(1);
    if (name.endsWith('.bias')) return new Float32Array(count);
    const rng = new Rng(seedFor(this.seed, name));
    const isEmbedding = name.endsWith('embeddings.weight') || name.endsWith('prefix_encoder.embedding.weight');
    return rng.normalArray(count, isEmbedding ? 1 : 1 / Math.sqrt(shape[shape.length - 1] ?? 1));
  }
}

/** Prefix-encoder tensors from one source, everything else from another. */
export class SplitSource implements WeightSource {
  constructor(
    private readonly base: WeightSource,
    private readonly prefix: WeightSource,
  ) {}

  read(name: string, shape: readonly number[]): Float32Array {
    return (isPrefixParam(name) ? this.prefix : this.base).read(name, shape);
  }
}

