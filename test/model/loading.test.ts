// Checkpoint loading and saving: safetensors round trips (F32/F16/BF16), shards, clear errors for
// missing / unexpected / mis-shaped tensors, pickle checkpoints and bad configs; prefix save/load;
// the wasm memory guard.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { GlmflowError } from '../../engine/errors.ts';
import { loadModel, saveModel, savePrefix } from '../../model/load.ts';
import { SafetensorsFile, writeSafetensors } from '../../model/safetensors.ts';
import { sharedPath } from '../shared.ts';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-model-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A safetensors file written byte by byte, for dtypes the writer does not produce. */
function rawSafetensors(file: string, tensors: Record<string, { dtype: string; shape: number[]; bytes: Buffer }>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, ...Object.values(tensors).map((t) => t.bytes)]));
}

test('safetensors: F32 round trip, F16 and BF16 widened to float32', (t) => {
  const dir = scratch(t);
  const f32 = path.join(dir, 'a.safetensors');
  writeSafetensors(f32, new Map([['x', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, 65504]) }]]));
  assert.deepEqual([...new SafetensorsFile(f32).read('x').data], [...Float32Array.from([1, -2, 3.5, 0, 1e-8, 65504])]);
  const halves = Buffer.from(Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff]).buffer); // 1, -2, ~1/3, min subnormal, 65504
  const bf16 = Buffer.from(Uint16Array.from([0x3f80, 0xc040, 0x3eab]).buffer); // 1, -3, ~0.334
  const mixed = path.join(dir, 'b.safetensors');
  rawSafetensors(mixed, { h: { dtype: 'F16', shape: [5], bytes: halves }, b: { dtype: 'BF16', shape: [3], bytes: bf16 } });
  const file = new SafetensorsFile(mixed);
  assert.deepEqual([...file.read('h').data], [1, -2, 0.333251953125, 2 ** -24, 65504]);
  assert.deepEqual([...file.read('b').data], [1, -3, 0.333984375]);
});

test('loading errors name the tensor and both shapes; pickle checkpoints explain the way out', async (t) => {
  const fixture = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!fixture) return;
  const dir = scratch(t);
  const config = JSON.parse(readFileSync(path.join(fixture, 'config.json'), 'utf8')) as Record<string, unknown>;
  const writeConfig = (c: Record<string, unknown>) => writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  copyFileSync(path.join(fixture, 'model.safetensors'), path.join(dir, 'model.safetensors'));

  writeConfig({ ...config, ffn_hidden_size: 96 });
  await assert.rejects(loadModel(dir), (e: Error) => e instanceof GlmflowError && /dense_h_to_4h\.weight.*\[256, 64\].*\[192, 64\]/.test(e.message));

  writeConfig({ ...config, num_layers: 3 });
  await assert.rejects(loadModel(dir), (e: Error) => e instanceof GlmflowError && /layers\.2\.input_layernorm\.weight \(shape \[64\]\) is missing/.test(e.message));

  writeConfig({ ...config, pre_seq_len: null });
  await assert.rejects(loadModel(dir), (e: Error) => e instanceof GlmflowError && /prefix_encoder\.embedding\.weight \[8, 128\]/.test(e.message));

  writeConfig({ ...config, rope_ratio: 'x', original_rope: false });
  await assert.rejects(loadModel(dir), (e: Error) => e instanceof GlmflowError && /rope_ratio/.test(e.message) && /original_rope/.test(e.message));
  writeConfig({ ...config, multi_query_group_num: 3 });
  await assert.rejects(loadModel(dir), (e: Error) => e instanceof GlmflowError && /multiple of multi_query_group_num/.test(e.message));

  const pickle = scratch(t);
  writeFileSync(path.join(pickle, 'config.json'), JSON.stringify(config));
  writeFileSync(path.join(pickle, 'pytorch_model.bin'), 'not really');
  await assert.rejects(loadModel(pickle), (e: Error) => e instanceof GlmflowError && /pickle/.test(e.message) && /safe_serialization=True/.test(e.hint ?? ''));
});

test('rope_ratio changes the computation (long-context variants)', async (t) => {
  const fixture = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!fixture) return;
  const dir = scratch(t);
  const config = JSON.parse(readFileSync(path.join(fixture, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, rope_ratio: 50 }));
  copyFileSync(path.join(fixture, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  const batch = { inputIds: [[1, 2, 3, 4, 5, 6]], labels: [[-100, 2, 3, 4, 5, 6]] };
  const [a, b] = [await loadModel(fixture), await loadModel(dir)];
  const [la, lb] = [(await a.forward(batch, { logits: 'none' })).loss!, (await b.forward(batch, { logits: 'none' })).loss!];
  assert.notEqual(la, lb);
  a.dispose();
  b.dispose();
});

test('savePrefix / loadModel({prefix}) and saveModel / loadModel round trips', async (t) => {
  const fixture = sharedPath(t, 'fixtures/glm/tiny-f16-sharded');
  if (!fixture) return;
  const dir = scratch(t);
  const batch = { inputIds: [[64790, 64792, 30910, 13, 2]], labels: [[-100, -100, 30910, 13, 2]] };
  const trained = await loadModel(fixture);
  tf.tidy(() => trained.prefixEncoder!.embedding instanceof tf.Variable && (trained.prefixEncoder!.embedding as tf.Variable).assign(tf.mul(trained.prefixEncoder!.embedding, 1.5)));
  await savePrefix(trained, path.join(dir, 'prefix.safetensors'));
  const names = [...new SafetensorsFile(path.join(dir, 'prefix.safetensors')).entries.keys()].sort();
  assert.deepEqual(names, [
    'transformer.prefix_encoder.embedding.weight',
    'transformer.prefix_encoder.trans.0.bias',
    'transformer.prefix_encoder.trans.0.weight',
    'transformer.prefix_encoder.trans.2.bias',
    'transformer.prefix_encoder.trans.2.weight',
  ]);
  const reloaded = await loadModel(fixture, { prefix: path.join(dir, 'prefix.safetensors') });
  const [x, y] = [(await trained.forward(batch, { logits: 'none' })).loss!, (await reloaded.forward(batch, { logits: 'none' })).loss!];
  assert.equal(y, x);
  const original = await loadModel(fixture);
  assert.notEqual((await original.forward(batch, { logits: 'none' })).loss!, x, 'the saved prefix is the modified one');

  // a fresh prefix on a base checkpoint: seeded, trainable
  const fresh = await loadModel(fixture, { preSeqLen: 4, seed: 3 });
  assert.deepEqual(fresh.prefixEncoder!.embedding.shape, [4, 64]);
  assert.equal(fresh.trainableVariables().length, 1);

  await saveModel(trained, path.join(dir, 'full'));
  const again = await loadModel(path.join(dir, 'full'));
  assert.equal((await again.forward(batch, { logits: 'none' })).loss!, x);
  for (const m of [trained, reloaded, original, fresh, again]) m.dispose();
});

/** Runs `body` (module code, `model/` importable) in a fresh process on the wasm backend; returns what it printed. */
function onWasm(body: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], { env: { ...process.env, GLMFLOW_BACKEND: 'wasm' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

// In its own wasm process, whatever backend this test run uses: the guard exists for wasm's 4 GiB heap.
test('the wasm memory guard refuses a pass that would pass 4 GiB', () => {
  const out = onWasm(`
    import { createModel } from './model/load.ts';
    import { parseConfig } from './model/config.ts';
    import { currentBackend } from './model/backend.ts';
    const c = parseConfig({ model_type: 'chatglm', num_layers: 1, padded_vocab_size: 65024, hidden_size: 256, ffn_hidden_size: 704,
      kv_channels: 32, num_attention_heads: 8, multi_query_group_num: 2, seq_length: 8192, pre_seq_len: 16 });
    const model = await createModel(c, 0);
    const ids = Array.from({ length: 4096 }, (_, i) => i % 1000);
    const small = await model.lossAndGrads({ inputIds: [ids.slice(0, 64)], labels: [ids.slice(0, 64)] });
    small.loss.dispose(); for (const g of small.grads.values()) g.dispose();
    const refused = await model.lossAndGrads({ inputIds: Array(8).fill(ids), labels: Array(8).fill(ids) }).then(() => 'no error', (e) => e.constructor.name + ': ' + e.message);
    console.log(JSON.stringify({ backend: currentBackend().name, refused }));
  `);
  const r = JSON.parse(out.split('\n').pop()!) as { backend: string; refused: string };
  assert.equal(r.backend, 'wasm');
  assert.match(r.refused, /^GlmflowError: a training step with batch 8 x 4096 tokens needs about [\d.]+ GiB .* over the wasm backend's 4 GiB heap/);
});

test("a checkpoint too large for the backend stops before any weight is read, naming the estimate (ChatGLM3-6B: 25 GB of f32 weights)", (t) => {
  const dir = scratch(t);
  // ChatGLM3-6B's config.json and no weights at all: the check must come first
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    model_type: 'chatglm', num_layers: 28, padded_vocab_size: 65024, hidden_size: 4096, ffn_hidden_size: 13696, kv_channels: 128,
    num_attention_heads: 32, multi_query_group_num: 2, seq_length: 8192, add_qkv_bias: true,
  }));
  const out = onWasm(`
    import { loadModel } from './model/load.ts';
    const e = await loadModel(${JSON.stringify(dir)}, { preSeqLen: 128 }).then(() => undefined, (e) => e);
    console.log(JSON.stringify({ message: e?.message, hint: e?.hint }));
  `);
  const r = JSON.parse(out.split('\n').pop()!) as { message?: string; hint?: string };
  assert.match(r.message ?? 'no error', /^loading .* needs about [\d.]+ GB on the wasm backend, more than the wasm backend's 4 GiB heap: f32 weights 25\.0 GB \([\d.]+ GB as stored\), activations [\d.]+ GB at batch 1 x 256 tokens/);
  assert.match(r.hint ?? '', /--backend tensorflow .*--backend webgpu/);
});
