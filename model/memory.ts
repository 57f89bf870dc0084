// The wasm heap is capped at 4 GiB and allocation past it fails silently (new tensors are
// written over live ones). Estimate what a pass needs and refuse it before that happens.
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { GlmflowError } from '../engine/errors.ts';
import type { GlmConfig } from './config.ts';
import { keepsBothLayouts } from './kernels/kernels.ts';
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

/** What a model needs, by part (bytes, float32). */
export interface ModelBytes {
  /** Every weight once, as float32 (what the checkpoint widens to). */
  readonly weights: number;
  /** As stored: on wasm and cpu, frozen projections keep both layouts (w and its transpose) for fast backward products. */
  readonly stored: number;
  /** Trainable weights' gradients and AdamW's two moments. */
  readonly optimizer: number;
  /** Activations of one pass at the planned batch and length (training: kept for the backward pass). */
  readonly activations: number;
  readonly total: number;
}

/** The planned pass a model is loaded for: the stages pass their batch and sequence length. */
export interface PlannedPass {
  readonly batch: number;
  readonly length: number;
  readonly training: boolean;
}

const DEFAULT_PASS: PlannedPass = { batch: 1, length: 256, training: false };

export function estimateModelBytes(c: GlmConfig, trainable: 'none' | 'prefix' | 'all', pass: PlannedPass = DEFAULT_PASS, bothLayouts = keepsBothLayouts()): ModelBytes {
  const H = c.hiddenSize;
  const qkv = (c.numHeads + 2 * c.numGroups) * c.kvChannels;
  const projections = c.numLayers * (qkv * H + H * c.numHeads * c.kvChannels + 3 * c.ffnHiddenSize * H) + c.vocabSize * H; // + output layer
  const other = c.vocabSize * H + c.numLayers * (2 * H + (c.addQkvBias ? qkv : 0)) + H; // embedding, norms, biases
  const kvSize = 2 * c.numLayers * c.numGroups * c.kvChannels;
  const prefix = c.preSeqLen === null ? 0 : c.preSeqLen * (c.prefixProjection ? H : kvSize) + (c.prefixProjection ? 2 * H * kvSize + H + kvSize : 0);
  const weights = 4 * (projections + other + prefix);
  const trained = trainable === 'all' ? projections + other + prefix : trainable === 'prefix' ? prefix : 0;
  const stored = 4 * (projections * (trainable === 'all' || !bothLayouts ? 1 : 2) + other + prefix);
  const optimizer = pass.training ? 4 * 3 * trained : 0;
  const activations = estimatePassBytes(c, { batch: pass.batch, length: pass.length, past: c.preSeqLen ?? 0, logitRows: pass.batch * pass.length, backward: pass.training });
  return { weights, stored, optimizer, activations, total: stored + optimizer + activations };
}

/** Where a backend keeps tensors, and how much of it there is; undefined when it cannot be known (a GPU's memory). */
export function memoryCeiling(backend: string, softwareAdapter: boolean): { bytes: number; what: string } | undefined {
  if (backend === 'wasm') return { bytes: WASM_LIMIT_BYTES * USABLE_FRACTION, what: "the wasm backend's 4 GiB heap" };
  if (backend === 'cpu' || (backend === 'webgpu' && softwareAdapter)) return { bytes: os.totalmem(), what: `this host's ${gb(os.totalmem())} GB of memory (${backend === 'cpu' ? 'the cpu backend' : 'a software WebGPU adapter'} keeps tensors there)` };
  return undefined; // tfjs-node-gpu, and WebGPU, do not tell how much device memory there is
}

function gb(n: number): string {
  return (n / 1e9).toFixed(1);
}

/**
 * Before any weight is read: refuses a model that cannot fit on the backend, with the estimate
 * by part. Returns the estimate (stages log it).
 */
export function checkModelFits(c: GlmConfig, trainable: 'none' | 'prefix' | 'all', pass: PlannedPass | undefined, backend: string, softwareAdapter: boolean, where: string): ModelBytes {
  const need = estimateModelBytes(c, trainable, pass);
  const ceiling = memoryCeiling(backend, softwareAdapter);
  if (ceiling && need.total > ceiling.bytes) {
    const p = pass ?? DEFAULT_PASS;
    throw new GlmflowError(
      `${where} needs about ${gb(need.total)} GB on the ${backend} backend, more than ${ceiling.what}: ` +
        `f32 weights ${gb(need.weights)} GB (${gb(need.stored)} GB as stored), activations ${gb(need.activations)} GB at batch ${p.batch} x ${p.length} tokens` +
        (need.optimizer > 0 ? `, gradients and optimizer ${gb(need.optimizer)} GB` : ''),
      'a model this size needs a GPU: --backend tensorflow (@tensorflow/tfjs-node-gpu) or --backend webgpu on a GPU with enough memory (README, "GPU"); or a smaller batch or sequence length',
    );
  }
  return need;
}
