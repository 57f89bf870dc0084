// train: P-tuning v2 on the base model. Only the prefix (pre_seq_len virtual
// tokens of past keys/values in every layer) trains; the base stays frozen.
// Checkpoints live in the stage's work folder under a key that leaves out
// max_steps and num_train_epochs, so a killed run resumes and a longer run
// continues from the shorter one instead of starting over.
import type { z } from 'zod';
import { defineStage, output, type StageContext } from '../engine/stage.ts';
import { trainParams, UNTRACKED_TRAIN_PARAMS } from '../train/params.ts';

export const trainStage = defineStage({
  name: 'train',
  module: import.meta.url,
  description: 'P-tuning v2: train the prefix on the training split, evaluate on dev, keep the best checkpoint',
  params: trainParams,
  untracked: [...UNTRACKED_TRAIN_PARAMS],
  inputs: { train: 'train-examples', dev: 'train-examples', tokenizer: 'tokenizer', base: 'base-model', baseConfig: 'base-config', baseWeights: 'base-weights' },
  outputs: {
    prefix: output('prefix', 'prefix.safetensors', 'the trained prefix (transformer.prefix_encoder.*), best or last checkpoint'),
    record: output('training-record', 'training.json', 'params, backend, steps, best step, loss history: the same bytes for the same params and data'),
    timings: output('training-timings', 'timings.json', 'wall time, tokens/s, the checkpoint folder and the step resumed from'),
  },
  packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  resources: ['device'],
  async run(ctx) {
    // Loaded here, not at the top: the model code pulls in tfjs, and a no-op run should not pay for it.
    const { runTraining } = await import('./train/run.ts');
    await runTraining(ctx);
  },
});

export type TrainContext = StageContext<z.output<typeof trainParams>, (typeof trainStage)['inputs'], (typeof trainStage)['outputs'], never>;
