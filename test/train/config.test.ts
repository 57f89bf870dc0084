// ChatGLM3 finetune_demo YAML accepted as it is, and the schedules it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfigFile, resolveParams } from '../../engine/params.ts';
import { adaptFinetuneDemoConfig, isFinetuneDemoConfig } from '../../train/finetune-config.ts';
import { makeSchedule } from '../../train/schedule.ts';
import { trainStage } from '../../stages/train.ts';
import { sharedPath } from '../shared.ts';

const adapter = { name: 'ChatGLM3 finetune_demo', matches: isFinetuneDemoConfig, adapt: adaptFinetuneDemoConfig };

test("finetune_demo's ptuning_v2.yaml maps onto the tokenize and train stages", async (t) => {
  const file = sharedPath(t, 'chatglm3/finetune_demo/ptuning_v2.yaml');
  if (!file) return;
  const notes: string[] = [];
  const sources = await loadConfigFile(file, undefined, { adapters: [adapter], stages: ['tokenize', 'train'], note: (n) => notes.push(n) });
  assert.deepEqual(sources.config['tokenize'], { max_input_length: 256, max_output_length: 512 });
  const train = resolveParams(trainStage as never, sources);
  assert.equal(train['max_steps'], 3000);
  assert.equal(train['learning_rate'], 5e-5);
  assert.equal(train['per_device_train_batch_size'], 4);
  assert.equal(train['save_steps'], 500);
  assert.equal(train['eval_steps'], 500);
  assert.equal(train['logging_steps'], 10);
  assert.equal(train['per_device_eval_batch_size'], 16);
  assert.equal(train['pre_seq_len'], 128);
  assert.ok(notes.some((n) => /output_dir ignored/.test(n)));
  assert.ok(notes.some((n) => /settings for stage "generate" ignored: it is not in this pipeline/.test(n)) || sources.config['generate'] === undefined);
});

test("finetune_demo's sft.yaml (full fine-tuning) is refused with the reason", async (t) => {
  const file = sharedPath(t, 'chatglm3/finetune_demo/sft.yaml');
  if (!file) return;
  assert.throws(() => adaptFinetuneDemoConfig(parse(readFileSync(file, 'utf8')) as Record<string, unknown>, file), /full fine-tuning \(sft\.yaml\) is not supported/);
});

test('settings that would change results are errors, runtime plumbing is a note', () => {
  const { overrides, notes } = adaptFinetuneDemoConfig({ training_args: { learning_rate: 1e-3, dataloader_num_workers: 8 }, peft_config: { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 8 } }, 'x.yaml');
  assert.deepEqual(overrides['train'], { learning_rate: 1e-3, pre_seq_len: 8 });
  assert.deepEqual(notes, ['training_args.dataloader_num_workers ignored (no effect on results here)']);
  assert.throws(() => adaptFinetuneDemoConfig({ training_args: { label_smoothing_factor: 0.1 }, peft_config: { peft_type: 'PREFIX_TUNING' } }, 'x.yaml'), /training_args\.label_smoothing_factor/);
  assert.throws(() => adaptFinetuneDemoConfig({ training_args: { evaluation_strategy: 'epoch' }, peft_config: { peft_type: 'PREFIX_TUNING' } }, 'x.yaml'), /only "steps" is supported/);
  assert.throws(() => adaptFinetuneDemoConfig({ peft_config: { peft_type: 'LORA' } }, 'x.yaml'), /PREFIX_TUNING/);
});

test('learning-rate schedules follow Hugging Face', () => {
  const base = { learning_rate: 1, warmup_steps: 10, warmup_ratio: 0 };
  const linear = makeSchedule({ ...base, lr_scheduler_type: 'linear' }, 110);
  assert.deepEqual([0, 5, 10, 60, 110].map((k) => linear.rate(k)), [0, 0.5, 1, 0.5, 0]);
  const cosine = makeSchedule({ ...base, lr_scheduler_type: 'cosine' }, 110);
  assert.ok(Math.abs(cosine.rate(60) - 0.5) < 1e-12);
  assert.equal(cosine.rate(10), 1);
  assert.deepEqual([0, 50].map((k) => makeSchedule({ ...base, lr_scheduler_type: 'constant' }, 100).rate(k)), [1, 1]);
  assert.deepEqual([5, 50].map((k) => makeSchedule({ ...base, lr_scheduler_type: 'constant_with_warmup' }, 100).rate(k)), [0.5, 1]);
  assert.equal(makeSchedule({ learning_rate: 1, warmup_steps: 0, warmup_ratio: 0.1, lr_scheduler_type: 'linear' }, 100).warmupSteps, 10);
});
