// Messages between the trainer and its data-parallel workers. Trainable variables travel
// as one flat Float32Array in trainableVariables() order (variable names differ between
// threads); a shard is a slice of a collated batch's rows, left as collated (same length,
// same padding), so each row computes exactly what it would in the whole batch.
import type { GlmConfig } from '../../model/config.ts';
import type { Trainable } from '../../model/params.ts';

export interface ShardBatch {
  readonly inputIds: number[][];
  readonly attentionMask?: number[][];
  readonly positionIds?: number[][];
  readonly labels: number[][];
}

export interface WorkerInit {
  readonly config: GlmConfig;
  readonly trainable: Trainable;
  readonly backend: string;
  /** Every parameter by Hugging Face name, in HF layout. */
  readonly weights: readonly { readonly name: string; readonly data: Float32Array }[];
}

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'grads'; readonly values: Float32Array; readonly batch: ShardBatch; readonly prefixDropout: number; readonly dropoutSeed?: number }
  | { readonly id: number; readonly kind: 'eval'; readonly values: Float32Array; readonly batches: readonly ShardBatch[] };

export type WorkerResponse =
  | { readonly id: number; readonly kind: 'grads'; readonly loss: number; readonly grads: Float32Array }
  | { readonly id: number; readonly kind: 'eval'; readonly losses: readonly number[] }
  | { readonly id: number; readonly kind: 'error'; readonly message: string; readonly hint?: string };
