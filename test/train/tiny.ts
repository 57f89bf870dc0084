// A tiny ChatGLM3-architecture model and synthetic examples, for trainer tests
// that must run in seconds. A prefix on a random frozen model can learn a fixed
// reply (what a shop's canned answer is), so loss can fall.
import { parseConfig } from '../../model/config.ts';
import type { GlmModel } from '../../model/glm.ts';
import { createModel } from '../../model/load.ts';
import { Rng } from '../../model/random.ts';
import type { TrainRow } from '../../tokenizer/examples-arrow.ts';
import { trainParams, type TrainParams } from '../../train/params.ts';

export const VOCAB = 64;

export function tinyModel(seed = 1, trainable: 'prefix' | 'all' = 'prefix', layers = 1): Promise<GlmModel> {
  const config = parseConfig({
    model_type: 'chatglm', num_layers: layers, padded_vocab_size: VOCAB, hidden_size: 32, ffn_hidden_size: 64, kv_channels: 8,
    num_attention_heads: 4, multi_query_group_num: 2, seq_length: 128, pre_seq_len: 4,
  });
  return createModel(config, seed, { trainable });
}

export const REPLY = [10, 11, 12, 13, 14, 15];

/** Rows "<random question> 2 <reply>"; only the reply carries labels. */
export function syntheticRows(count: number, seed: number, reply: readonly number[] = REPLY): TrainRow[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const n = 4 + Math.floor(rng.next() * 4);
    const question = Array.from({ length: n }, () => 3 + Math.floor(rng.next() * (VOCAB - 6)));
    const ids = [1, ...question, 2, ...reply];
    const labels = ids.map((id, i) => (i > n + 1 ? id : -100));
    return { input_ids: Int32Array.from(ids), labels: Int32Array.from(labels) };
  });
}

export function options(overrides: Partial<TrainParams> = {}): TrainParams {
  return trainParams.parse({ learning_rate: 5e-2, per_device_train_batch_size: 4, logging_steps: 2, eval_steps: 4, save_steps: 4, max_steps: 12, ...overrides });
}

export const silentHooks = { log: () => {}, metric: () => {}, progress: () => {} };

/** The run the resume test kills and restarts, and also runs uninterrupted to compare. */
export const KILL_TEST_OPTIONS = options({ max_steps: 60, save_steps: 5, eval_steps: 10, save_total_limit: 2 });
export const killTestData = () => ({ train: syntheticRows(32, 1), dev: syntheticRows(8, 2), padId: 0 });
