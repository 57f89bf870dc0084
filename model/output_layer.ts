// transformer.output_layer: the vocabulary projection [V, H], stored as blocks of vocabulary
// rows. A (rows, 256) @ (256, 65,024) product streams the whole 66 MB weight from memory
// once per few rows; per block the weight stays in cache: measured ~19-20 vs 13-15 GFLOPS
// (CPU time) on wasm, and softmax over a cached block runs ~3x faster too. 4,096 rather than
// 2,048: at one row (generation) 32 products cost 1-3 ms more per token than one, 16 do not.
import * as tf from '@tensorflow/tfjs';
import { rowBlocks } from './limits.ts';
import { type Linear, splitLinear } from './linear.ts';
import type { ParamBuilder } from './params.ts';

export const VOCAB_BLOCK = 4096;

export class OutputLayer {
  /** Block j covers vocabulary ids [starts[j], starts[j] + size). */
  readonly blocks: readonly Linear[];
  readonly starts: readonly number[];
  readonly vocab: number;
  /** Rows per block: VOCAB_BLOCK, or fewer where a device's binding limit requires (very wide models on webgpu). */
  private readonly blockRows: number;

  constructor(b: ParamBuilder, name: string, vocab: number, hidden: number) {
    const sizes = rowBlocks(`${name}.weight`, vocab, hidden, VOCAB_BLOCK);
    this.blockRows = sizes[0]!;
    this.blocks = splitLinear(b, name, sizes, hidden, false);
    this.starts = sizes.map((_, j) => j * this.blockRows);
    this.vocab = vocab;
  }

  get trainable(): boolean {
    return this.blocks[0]!.trainable;
  }

  /** h [N, H] -> logits [N, V] */
  apply(h: tf.Tensor2D): tf.Tensor2D {
    return this.blocks.length === 1 ? this.blocks[0]!.apply(h) : tf.concat(this.blocks.map((l) => l.apply(h)), 1);
  }

  /** The block holding vocabulary id `id` and the id's column inside it. */
  locate(id: number): [block: number, column: number] {
    return [Math.floor(id / this.blockRows), id % this.blockRows];
  }
}
