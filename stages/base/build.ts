// Builds the base model for the base stage: a user's checkpoint folder passed
// through, or the embedded small model created from a seed and pretrained.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GlmflowError } from '../../engine/errors.ts';
import { parseConfig } from '../../model/config.ts';
import { createModel, saveModel } from '../../model/load.ts';
import { backendRecord, selectBackend } from '../../model/backend.ts';
import { loadTokenizer } from '../../tokenizer/artifact.ts';
import { Checkpoints } from '../../train/checkpoint.ts';
import { trainParams } from '../../train/params.ts';
import { readTrainRows } from '../../train/rows.ts';
import { train } from '../../train/trainer.ts';
import type { BaseContext } from '../base.ts';
import type { BaseDescriptor } from './model-files.ts';
import { reportTraining } from '../train/report.ts';

export async function buildBase(ctx: BaseContext): Promise<void> {
  const tokenizer = loadTokenizer(ctx.inputs.tokenizer);
  if (ctx.params.model) {
    const dir = path.resolve(ctx.projectDir, ctx.params.model);
    if (tokenizer.kind === 'char') {
      throw new GlmflowError(`base.model is a ChatGLM3 checkpoint (${dir}) but the data was tokenized with the character-level tokenizer`, `tokenize with the model's own tokenizer: --set tokenize.tokenizer=${ctx.params.model}`);
    }
    copyFileSync(path.join(dir, 'config.json'), ctx.outputs.config);
    writeFileSync(ctx.outputs.weights, '');
    writeFileSync(ctx.outputs.descriptor, JSON.stringify({ source: 'checkpoint', dir } satisfies BaseDescriptor) + '\n');
    ctx.summary(`base model: ${dir}`);
    return;
  }

  const backend = await selectBackend();
  ctx.log(backend.description);
  const p = ctx.params;
  const config = parseConfig({
    model_type: 'chatglm',
    num_layers: p.num_layers,
    // Rounded up as ChatGLM pads its vocabulary, so matrix shapes stay friendly.
    padded_vocab_size: Math.ceil(tokenizer.vocabSize / 64) * 64,
    hidden_size: p.hidden_size,
    ffn_hidden_size: p.ffn_hidden_size,
    kv_channels: p.hidden_size / p.num_attention_heads,
    num_attention_heads: p.num_attention_heads,
    multi_query_group_num: p.multi_query_group_num,
    seq_length: p.seq_length,
    eos_token_id: tokenizer.eosId,
    pad_token_id: tokenizer.padId,
  }, 'the embedded base model params');
  const model = await createModel(config, p.seed, { trainable: 'all' });
  try {
    // Pretraining learns the language of the chats: every token is a target, not only the agent's.
    const asLm = (rows: Awaited<ReturnType<typeof readTrainRows>>) => rows.map((r) => ({ input_ids: r.input_ids, labels: r.input_ids }));
    const data = { train: asLm(await readTrainRows(ctx.inputs.train)), dev: asLm(await readTrainRows(ctx.inputs.dev)), padId: tokenizer.padId };
    const options = trainParams.parse({
      learning_rate: p.learning_rate,
      weight_decay: 0.01,
      warmup_ratio: 0.05,
      lr_scheduler_type: 'cosine',
      per_device_train_batch_size: p.batch_size,
      max_steps: p.pretrain_steps,
      eval_steps: Math.max(1, Math.floor(p.pretrain_steps / 5)),
      save_steps: Math.max(1, Math.floor(p.pretrain_steps / 5)),
      logging_steps: Math.max(1, Math.floor(p.pretrain_steps / 30)),
      load_best_model_at_end: false,
      save_total_limit: 1,
      seed: p.seed,
    });
    const result = await train(model, data, options, new Checkpoints(path.join(ctx.workDir, ctx.key)), {
      signal: ctx.signal,
      log: ctx.log,
      metric: ctx.metric,
      progress: (step, total, detail) => ctx.progress(step, total, detail),
    });
    const parameters = model.params.reduce((n, param) => n + param.shape.reduce((a, b) => a * b, 1), 0);
    const dir = path.join(ctx.workDir, `${ctx.key}.model`);
    await saveModel(model, dir);
    copyFileSync(path.join(dir, 'config.json'), ctx.outputs.config);
    copyFileSync(path.join(dir, 'model.safetensors'), ctx.outputs.weights);
    writeFileSync(ctx.outputs.descriptor, JSON.stringify({ source: 'embedded', parameters, pretrainSteps: result.steps, finalLoss: result.lastTrainLoss, backend: backendRecord(backend) } satisfies BaseDescriptor) + '\n');
    ctx.summary(`embedded base model: ${p.num_layers} layers, hidden ${p.hidden_size}, vocab ${config.vocabSize}, ${(parameters / 1e6).toFixed(2)}M parameters`);
    ctx.summary(backend.description);
    for (const line of reportTraining(result)) ctx.summary(line);
  } finally {
    model.dispose();
  }
}
