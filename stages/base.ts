// base: the model P-tuning v2 starts from. With `model` set, a user's ChatGLM3
// checkpoint folder (its files are part of the key). Without, the embedded
// default: a small ChatGLM3-architecture model built from a seed and
// pretrained briefly on the training split, so the pipeline runs anywhere.
import { z } from 'zod';
import { defineStage, outputDir, type StageContext } from '../engine/stage.ts';

export const baseParams = z.object({
  /** A ChatGLM3 checkpoint folder (config.json + safetensors). Empty: build the embedded small model. */
  model: z.string().default(''),
  num_layers: z.number().int().positive().default(2),
  hidden_size: z.number().int().positive().default(128),
  num_attention_heads: z.number().int().positive().default(4),
  multi_query_group_num: z.number().int().positive().default(2),
  ffn_hidden_size: z.number().int().positive().default(384),
  seq_length: z.number().int().positive().default(1024),
  // Brief on purpose: the base learns the shop's language, and P-tuning still has the agents' replies to learn.
  pretrain_steps: z.number().int().min(1).default(100),
  learning_rate: z.number().positive().default(3e-3),
  batch_size: z.number().int().positive().default(8),
  seed: z.number().int().min(0).default(42),
});

export const baseStage = defineStage({
  name: 'base',
  module: import.meta.url,
  description: 'The base model: your ChatGLM3 checkpoint, or a small one built and pretrained here',
  params: baseParams,
  inputs: { tokenizer: 'tokenizer', train: 'train-examples', dev: 'train-examples' },
  files: (p) => ({ model: p.model ? [`${p.model}/config.json`, `${p.model}/*.safetensors`, `${p.model}/*.safetensors.index.json`] : [] }),
  outputs: {
    model: outputDir('base-model', 'model', 'the base model: base.json (where it comes from), config.json and, for the embedded model, model.safetensors (a checkpoint folder stays where it is)'),
  },
  packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  resources: ['device'],
  async run(ctx) {
    // Loaded here, not at the top: the model code pulls in tfjs, and a no-op run should not pay for it.
    const { buildBase } = await import('./base/build.ts');
    await buildBase(ctx);
  },
});

export type BaseContext = StageContext<z.output<typeof baseParams>, (typeof baseStage)['inputs'], (typeof baseStage)['outputs'], 'model'>;
