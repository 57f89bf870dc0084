// The wasm heap is capped at 4 GiB and allocation past it fails silently (new tensors are
// written over live ones). Estimate what a pass needs and refuse it before that happens.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';
import type { GlmConfig } from './config.ts';
import { VOCAB_BLOCK } from './output_layer.ts';

const WASM_LIMIT_BYTES = 4 * 1024 ** 3;
/** Headroom for fragmentation and tfjs's own buffers. */
const USABLE_FRACTION = 0.85;

export interface PassShape {
  readonly batch: number;
  readonly length: number;
  /** Prefix or cached key columns. */
  readonly past: number;
  /** Positions whose logits are computed (loss targets, or all when logits are returned). */
  readonly logitRows: number;
  readonly backward: boolean;
}

/** Rough upper bound (bytes) of the tensors alive at the peak of a forward (and backward) pass. */
export function estimatePassBytes(c: GlmConfig, p: PassShape): number {
  const N = p.batch * p.length;
  const S = p.past + p.length;
  const qWidth = c.numHeads * c.kvChannels;
  const kvWidth = c.numGroups * c.kvChannels;
  // per layer: norms, rope (x, swap, cos/sin products), grouped copies, scores/probs, SwiGLU
  const perLayer = N * (6 * c.hiddenSize + 6 * qWidth + 8 * kvWidth + 5 * c.ffnHiddenSize) + 3 * p.batch * c.numHeads * p.length * S;
  const shared = N * 2 * (qWidth + kvWidth) + p.batch * c.numHeads * p.length * S; // rope tables, mask
  // kept block probabilities (backward) or block logits plus their concatenation (forward),
  // and one vocabulary block's temporaries
  const logits = p.logitRows * (2 * c.vocabSize + 3 * Math.min(VOCAB_BLOCK, c.vocabSize));
  const layersAlive = p.backward ? c.numLayers : 1;
  // backward holds every layer's activations plus about as much again in gradients
  return 4 * (perLayer * layersAlive * (p.backward ? 2 : 1) + shared + logits);
}

/** Throws a GlmflowError when the pass would not fit in the wasm heap next to what is already allocated. */
export function checkWasmMemory(c: GlmConfig, p: PassShape, what: string): void {
  if (tf.getBackend() !== 'wasm') return;
  const need = estimatePassBytes(c, p);
  const live = tf.memory().numBytes;
  if (live + need > WASM_LIMIT_BYTES * USABLE_FRACTION) {
    const gib = (n: number) => (n / 1024 ** 3).toFixed(2);
    throw new GlmflowError(
      `${what} with batch ${p.batch} x ${p.length} tokens needs about ${gib(need)} GiB on top of ${gib(live)} GiB already allocated, ` +
        `over the wasm backend's 4 GiB heap (past it, tensors get silently corrupted)`,
      'use a smaller batch or shorter sequences (gradient accumulation keeps the effective batch), or the tensorflow backend (@tensorflow/tfjs-node-gpu)',
    );
  }
}
