// The trainer's params, named as Hugging Face's Seq2SeqTrainingArguments names
// them (ChatGLM3's finetune_demo passes those through), validated once.
import { z } from 'zod';

export const SCHEDULES = ['linear', 'cosine', 'constant', 'constant_with_warmup'] as const;

export const trainParams = z.object({
  learning_rate: z.number().positive().max(1).default(2e-2),
  weight_decay: z.number().min(0).max(1).default(0),
  adam_beta1: z.number().min(0).lt(1).default(0.9),
  adam_beta2: z.number().min(0).lt(1).default(0.999),
  adam_epsilon: z.number().positive().default(1e-8),
  max_grad_norm: z.number().min(0).default(1),
  lr_scheduler_type: z.enum(SCHEDULES).default('linear'),
  warmup_steps: z.number().int().min(0).default(0),
  warmup_ratio: z.number().min(0).max(1).default(0),
  per_device_train_batch_size: z.number().int().positive().default(8),
  per_device_eval_batch_size: z.number().int().positive().default(16),
  gradient_accumulation_steps: z.number().int().positive().default(1),
  /** > 0: the number of optimizer steps, overriding num_train_epochs (as in Hugging Face). */
  max_steps: z.number().int().default(-1),
  num_train_epochs: z.number().positive().default(3),
  logging_steps: z.number().int().positive().default(10),
  eval_steps: z.number().int().positive().default(40),
  save_steps: z.number().int().positive().default(40),
  /** Checkpoints kept by rotation (the best one is never deleted); 0 keeps all. */
  save_total_limit: z.number().int().min(0).default(3),
  seed: z.number().int().min(0).default(42),
  load_best_model_at_end: z.boolean().default(true),
  /** Evaluations without improvement before stopping; 0 turns early stopping off. */
  early_stopping_patience: z.number().int().min(0).default(0),
  early_stopping_threshold: z.number().min(0).default(0),
  /**
   * Worker threads computing beside the trainer's own, each with a copy of the model (data
   * parallel: batches split by rows, gradients averaged; results equal up to summation order).
   * Default: one thread per core (at most 4 in all) on the CPU backends, none on tensorflow.
   */
  workers: z.number().int().min(0).max(15).optional(),
  /** P-tuning v2: virtual tokens (num_virtual_tokens in a PEFT config). */
  pre_seq_len: z.number().int().positive().default(16),
  prefix_projection: z.boolean().default(false),
});

export type TrainParams = z.output<typeof trainParams>;

/** Params that never change the trained result: left out of the cache key. */
export const UNTRACKED_TRAIN_PARAMS = ['logging_steps', 'save_steps', 'save_total_limit', 'per_device_eval_batch_size', 'workers'] as const;
