// ChatGLM3's finetune_demo YAML (ptuning_v2.yaml, sft.yaml) accepted as it is:
// its keys are mapped onto glmflow's stages. Keys that only steer the Python
// runtime are ignored with a note; keys whose meaning glmflow does not
// reproduce stop the run, since ignoring them would change results.
import { GlmflowError } from '../engine/errors.ts';
import type { Overrides } from '../engine/params.ts';

export interface AdaptedConfig {
  readonly overrides: Overrides;
  readonly notes: readonly string[];
}

/** training_args keys taken over one to one by the train stage. */
const TRAIN_KEYS = new Set([
  'learning_rate', 'weight_decay', 'adam_beta1', 'adam_beta2', 'adam_epsilon', 'max_grad_norm', 'lr_scheduler_type',
  'warmup_steps', 'warmup_ratio', 'per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps',
  'max_steps', 'num_train_epochs', 'logging_steps', 'eval_steps', 'save_steps', 'save_total_limit', 'seed', 'load_best_model_at_end',
]);

/** Runtime plumbing with no effect on the result here (paths, worker counts, devices, logging). */
const IGNORED = new Set([
  'output_dir', 'dataloader_num_workers', 'remove_unused_columns', 'log_level', 'use_cpu', 'deepspeed', 'report_to', 'logging_dir',
  'overwrite_output_dir', 'dataloader_pin_memory', 'ddp_find_unused_parameters', 'run_name',
]);

/** Strategies glmflow follows when they are 'steps' (its only mode); anything else would train differently. */
const STEP_STRATEGIES = ['save_strategy', 'logging_strategy', 'evaluation_strategy', 'eval_strategy'];

export function isFinetuneDemoConfig(parsed: Record<string, unknown>): boolean {
  return 'training_args' in parsed || 'peft_config' in parsed || 'data_config' in parsed;
}

export function adaptFinetuneDemoConfig(parsed: Record<string, unknown>, file: string): AdaptedConfig {
  const train: Record<string, unknown> = {};
  const tokenize: Record<string, unknown> = {};
  const generate: Record<string, unknown> = {};
  const notes: string[] = [];
  const unsupported: string[] = [];

  for (const key of ['max_input_length', 'max_output_length']) if (key in parsed) tokenize[key] = parsed[key];
  if ('data_config' in parsed) notes.push('data_config ignored: glmflow makes train/dev/test itself (stage split)');

  const args = record(parsed['training_args']);
  for (const [key, value] of Object.entries(args)) {
    if (TRAIN_KEYS.has(key)) train[key] = value;
    else if (IGNORED.has(key)) notes.push(`training_args.${key} ignored (no effect on results here)`);
    else if (STEP_STRATEGIES.includes(key)) {
      if (value !== 'steps') unsupported.push(`training_args.${key}: ${JSON.stringify(value)} (only "steps" is supported)`);
    } else if (key === 'predict_with_generate') notes.push('training_args.predict_with_generate: generation runs in the generate stage');
    else if (key === 'generation_config') {
      const gen = record(value);
      if ('max_new_tokens' in gen) generate['max_new_tokens'] = gen['max_new_tokens'];
    } else if (key === 'debug') notes.push('training_args.debug ignored: NaN/Inf losses always stop training');
    else unsupported.push(`training_args.${key}`);
  }

  const peft = record(parsed['peft_config']);
  if (Object.keys(peft).length) {
    if (peft['peft_type'] !== 'PREFIX_TUNING') unsupported.push(`peft_config.peft_type: ${JSON.stringify(peft['peft_type'])} (glmflow trains P-tuning v2, PREFIX_TUNING)`);
    if ('num_virtual_tokens' in peft) train['pre_seq_len'] = peft['num_virtual_tokens'];
    if ('prefix_projection' in peft) train['prefix_projection'] = peft['prefix_projection'];
    for (const key of Object.keys(peft)) if (!['peft_type', 'task_type', 'num_virtual_tokens', 'prefix_projection'].includes(key)) unsupported.push(`peft_config.${key}`);
  } else if ('training_args' in parsed) {
    unsupported.push('no peft_config: full fine-tuning (sft.yaml) is not supported, only P-tuning v2');
  }

  for (const key of Object.keys(parsed)) {
    if (!['data_config', 'max_input_length', 'max_output_length', 'training_args', 'peft_config'].includes(key)) unsupported.push(key);
  }
  if (unsupported.length) {
    throw new GlmflowError(`${file}: settings glmflow cannot honour, and ignoring them would change results:\n  ${unsupported.join('\n  ')}`, 'remove them from the file, or set the equivalent with --set (see `npx tsx pipeline.ts explain train`)');
  }
  const overrides: Overrides = {};
  if (Object.keys(tokenize).length) overrides['tokenize'] = tokenize;
  if (Object.keys(train).length) overrides['train'] = train;
  if (Object.keys(generate).length) overrides['generate'] = generate;
  return { overrides, notes };
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
