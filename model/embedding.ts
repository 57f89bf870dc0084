// transformer.embedding.word_embeddings: a lookup table [V, H].
import * as tf from '@tensorflow/tfjs';
import type { ParamBuilder } from './params.ts';

export class Embedding {
  readonly weight: tf.Tensor2D;
  private readonly lookup: (ids: tf.Tensor1D) => tf.Tensor2D;

  constructor(b: ParamBuilder, vocab: number, hidden: number) {
    const name = 'transformer.embedding.word_embeddings.weight';
    this.weight = b.plain(name, [vocab, hidden]) as tf.Tensor2D;
    if (b.isTrainable(name)) {
      // gather's own gradient needs UnsortedSegmentSum, which wasm lacks: scatter-add instead
      // (scatterND sums rows of repeated ids).
      const table = this.weight;
      this.lookup = (ids) =>
        (
          tf.customGrad((t, save) => {
            (save as tf.GradSaveFunc)([ids]); // the forward scope disposes ids before backward
            return {
              value: tf.gather(t as tf.Tensor2D, ids),
              gradFunc: (dy, [saved]) => tf.scatterND(tf.reshape(saved!, [-1, 1]), dy, [vocab, hidden]),
            };
          }) as (t: tf.Tensor2D) => tf.Tensor2D
        )(table);
    } else {
      // a plain gather under tf.variableGrads would save a copy of the whole frozen table
      // (66 MB at ChatGLM3's vocabulary) for a gradient nobody asks for
      const table = this.weight;
      this.lookup = tf.customGrad((ids) => ({
        value: tf.gather(table, ids as tf.Tensor1D),
        gradFunc: (dy) => tf.zerosLike(ids as tf.Tensor1D),
      })) as (ids: tf.Tensor1D) => tf.Tensor2D;
    }
  }

  /** ids [N] (int32) -> [N, H] */
  apply(ids: tf.Tensor1D): tf.Tensor2D {
    return this.lookup(ids);
  }
}
