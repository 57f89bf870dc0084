// transformer.embedding.word_embeddings: a lookup table [V, H], kept as row blocks where the
// device's binding limit requires (ChatGLM3's f32 table is about 1 GiB; lavapipe binds 128 MiB).
import * as tf from '@tensorflow/tfjs';
import { rowBlocks } from './limits.ts';
import { gradsOf, type ParamBuilder, toVariable } from './params.ts';

/** Rows of `ids` looked up across row blocks: each block gathers its own ids (others clamped and zeroed), summed. */
function blockedGather(blocks: readonly tf.Tensor2D[], starts: readonly number[], ids: tf.Tensor1D): tf.Tensor2D {
  if (blocks.length === 1) return tf.gather(blocks[0]!, ids);
  // pairwise adds rather than addN: webgpu's AddN binds every input at once (16 buffers per shader on some GPUs)
  return blocks
    .map((block, j) => {
      const local = tf.sub(ids, starts[j]!);
      const inside = tf.logicalAnd(tf.greaterEqual(local, 0), tf.less(local, block.shape[0]));
      const rows = tf.gather(block, tf.cast(tf.clipByValue(local, 0, block.shape[0] - 1), 'int32'));
      return tf.mul(rows, tf.expandDims(tf.cast(inside, 'float32'), 1)) as tf.Tensor2D;
    })
    .reduce((sum, part) => tf.add(sum, part));
}

export class Embedding {
  private readonly lookup: (ids: tf.Tensor1D) => tf.Tensor2D;

  constructor(b: ParamBuilder, vocab: number, hidden: number) {
    const name = 'transformer.embedding.word_embeddings.weight';
    const data = b.read(name, [vocab, hidden]);
    const sizes = rowBlocks(name, vocab, hidden);
    const starts = sizes.map((_, j) => j * sizes[0]!);
    const trainable = b.isTrainable(name);
    const blocks = sizes.map((rows, j) => {
      const t = tf.tensor2d(data.subarray(starts[j]! * hidden, (starts[j]! + rows) * hidden), [rows, hidden]);
      return b.own(trainable ? toVariable(t) : t);
    });
    const variables = blocks.filter((t) => t instanceof tf.Variable) as tf.Variable[];
    b.params.push({
      name,
      shape: [vocab, hidden],
      variables,
      hf: () => (blocks.length === 1 ? tf.clone(blocks[0]!) : tf.concat(blocks, 0)),
      hfGrad: (grads) => {
        const g = gradsOf(grads, variables);
        return g && (g.length === 1 ? g[0]!.clone() : tf.concat(g, 0));
      },
    });
    if (trainable) {
      // gather's own gradient needs UnsortedSegmentSum, which wasm lacks: scatter-add instead
      // (scatterND sums rows of repeated ids; ids outside a block are masked out of its gradient).
      this.lookup = (ids) =>
        (
          tf.customGrad((...args) => {
            const save = args.pop() as tf.GradSaveFunc;
            save([ids]); // the forward scope disposes ids before backward
            return {
              value: blockedGather(args as tf.Tensor2D[], starts, ids),
              gradFunc: (dy, [saved]) =>
                blocks.map((block, j) => {
                  const rows = block.shape[0];
                  if (blocks.length === 1) return tf.scatterND(tf.reshape(saved!, [-1, 1]), dy, [rows, hidden]);
                  const local = tf.sub(saved!, starts[j]!);
                  const inside = tf.cast(tf.logicalAnd(tf.greaterEqual(local, 0), tf.less(local, rows)), 'float32');
                  return tf.scatterND(tf.reshape(tf.cast(tf.clipByValue(local, 0, rows - 1), 'int32'), [-1, 1]), tf.mul(dy, tf.expandDims(inside, 1)), [rows, hidden]);
                }),
            };
          }) as (...t: tf.Tensor2D[]) => tf.Tensor2D
        )(...blocks);
    } else {
      // a plain gather under tf.variableGrads would save a copy of the whole frozen table
      // (66 MB at ChatGLM3's vocabulary) for a gradient nobody asks for
      this.lookup = tf.customGrad((ids) => ({
        value: blockedGather(blocks, starts, ids as tf.Tensor1D),
        gradFunc: (dy) => tf.zerosLike(ids as tf.Tensor1D),
      })) as (ids: tf.Tensor1D) => tf.Tensor2D;
    }
  }

  /** ids [N] (int32) -> [N, H] */
  apply(ids: tf.Tensor1D): tf.Tensor2D {
    return this.lookup(ids);
  }
}
