// Named parameters with Hugging Face names and layouts. Modules may store a weight in a
// different layout for speed (transposed, split into row blocks); each Param knows how to
// rebuild the HF tensor for saving, and which tf.Variables train it.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';

/** What is trained: nothing, the P-tuning v2 prefix encoder only, or every weight. */
export type Trainable = 'none' | 'prefix' | 'all';

/** Where weights come from: a checkpoint, a random init, or both. */
export interface WeightSource {
  /** The float32 data of `name` (row-major); throws if absent or of another shape. */
  read(name: string, shape: readonly number[]): Float32Array;
}

export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  /** The variables this parameter is trained through (empty when frozen). */
  readonly variables: readonly tf.Variable[];
  /** The value in HF layout: a new tensor the caller disposes. */
  hf(): tf.Tensor;
  /** The gradient in HF layout from gradients keyed by variable (a new tensor), if trainable. */
  hfGrad(grads: VariableGrads): tf.Tensor | undefined;
}

export type VariableGrads = ReadonlyMap<tf.Variable, tf.Tensor>;

/** The gradient of each of `vars`, or undefined when any is missing (frozen). */
export function gradsOf(grads: VariableGrads, vars: readonly tf.Variable[]): tf.Tensor[] | undefined {
  const out = vars.map((v) => grads.get(v));
  return vars.length > 0 && out.every((g) => g !== undefined) ? (out as tf.Tensor[]) : undefined;
}

export function isPrefixParam(name: string): boolean {
  return name.startsWith('transformer.prefix_encoder.');
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(name: string, expected: readonly number[], actual: readonly number[], where: string): void {
  if (!sameShape(expected, actual))
    throw new GlmflowError(
      `tensor ${name} in ${where} has shape [${actual.join(', ')}], the config expects [${expected.join(', ')}]`,
      'check that config.json belongs to these weights',
    );
}

/** A trainable variable holding `t`'s values; `t` itself is disposed. */
export function toVariable<R extends tf.Rank>(t: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/** Collects the parameters and tensors of a model while its modules are built. */
export class ParamBuilder {
  readonly params: Param[] = [];
  /** Every tensor the model owns, disposed with it. */
  readonly owned: tf.Tensor[] = [];

  constructor(
    private readonly source: WeightSource,
    private readonly trainable: Trainable,
  ) {}

  isTrainable(name: string): boolean {
    return this.trainable === 'all' || (this.trainable === 'prefix' && isPrefixParam(name));
  }

  read(name: string, shape: readonly number[]): Float32Array {
    return this.source.read(name, shape);
  }

  /** A tensor kept outside any tidy scope and disposed with the model. */
  own<T extends tf.Tensor>(t: T): T {
    this.owned.push(tf.keep(t));
    return t;
  }

  /** A weight stored as-is in HF layout: a variable when trainable, else a constant. */
  plain(name: string, shape: readonly number[]): tf.Tensor {
    const value = tf.tensor(this.read(name, shape), [...shape]);
    const stored = this.own(this.isTrainable(name) ? toVariable(value) : value);
    this.params.push({
      name,
      shape,
      variables: stored instanceof tf.Variable ? [stored] : [],
      hf: () => tf.clone(stored),
      hfGrad: (grads) => (stored instanceof tf.Variable ? grads.get(stored)?.clone() : undefined),
    });
    return stored;
  }
}
