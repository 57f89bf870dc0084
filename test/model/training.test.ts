// P-tuning v2 invariants: an AdamW step moves the prefix and nothing else; training every
// weight (trainable 'all') has correct gradients; no tensor leaks over training and generation.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW } from '../../model/adamw.ts';
import { parseConfig } from '../../model/config.ts';
import { disposeGrads } from '../../model/glm.ts';
import { createModel, loadModel } from '../../model/load.ts';
import { sharedPath } from '../shared.ts';
import { readCases } from './helpers.ts';

const TINY = parseConfig({
  model_type: 'chatglm',
  num_layers: 2,
  padded_vocab_size: 48,
  hidden_size: 16,
  ffn_hidden_size: 24,
  kv_channels: 8,
  num_attention_heads: 4,
  multi_query_group_num: 2,
  seq_length: 32,
  pre_seq_len: 3,
  prefix_projection: true,
});

const BATCH = {
  inputIds: [
    [0, 0, 5, 9, 11, 3],
    [7, 8, 9, 10, 11, 12],
  ],
  attentionMask: [
    [0, 0, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
  ],
  positionIds: [
    [0, 0, 0, 1, 2, 3],
    [0, 1, 2, 3, 4, 5],
  ],
  labels: [
    [-100, -100, -100, 9, 11, 3],
    [-100, -100, 9, 10, 11, 12],
  ],
};

test('an AdamW step on the prefix leaves every base weight unchanged', async (t) => {
  const dir = sharedPath(t, 'fixtures/glm/tiny-f16-sharded');
  if (!dir) return;
  const c = readCases(dir).train_case;
  const model = await loadModel(dir);
  try {
    const before = model.namedWeights();
    const opt = new AdamW({ lr: 1e-2 });
    const { grads } = model.lossAndGrads({ inputIds: c.input_ids, attentionMask: c.attention_mask, positionIds: c.position_ids, labels: c.labels });
    opt.step(grads);
    disposeGrads(grads);
    const after = model.namedWeights();
    let moved = 0;
    for (const [name, w] of before) {
      const same = tf.tidy(() => tf.all(tf.equal(w, after.get(name)!)).dataSync()[0] === 1);
      if (name.startsWith('transformer.prefix_encoder.')) moved += same ? 0 : 1;
      else assert.ok(same, `${name} changed`);
    }
    assert.equal(moved, 5, 'all five prefix tensors move');
    disposeGrads(before);
    disposeGrads(after);
    opt.dispose();
  } finally {
    model.dispose();
  }
});

test("trainable 'all': gradients of every weight match finite differences", async () => {
  const model = await createModel(TINY, 1, { trainable: 'all' });
  try {
    const { loss, grads } = model.lossAndGrads(BATCH);
    const named = model.namedGrads(grads);
    assert.equal(named.size, model.params.length, 'every parameter has a gradient');
    // central differences on a few entries of several tensors, through the HF-layout weights
    const eps = 1e-2;
    for (const name of [
      'transformer.embedding.word_embeddings.weight',
      'transformer.encoder.layers.0.self_attention.query_key_value.weight',
      'transformer.encoder.layers.1.mlp.dense_h_to_4h.weight',
      'transformer.encoder.layers.1.input_layernorm.weight',
      'transformer.output_layer.weight',
      'transformer.prefix_encoder.trans.0.bias',
    ]) {
      const g = named.get(name)!.dataSync();
      const param = model.params.find((p) => p.name === name)!;
      const probe = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!))[0]!;
      const numeric = await finiteDifference(model, name, probe, eps);
      console.log(`${name} [${param.shape}] #${probe}: analytic ${g[probe]!.toExponential(4)} numeric ${numeric.toExponential(4)}`);
      assert.ok(Math.abs(numeric - g[probe]!) <= 2e-3 + 2e-2 * Math.abs(numeric), name);
    }
    assert.ok(Number.isFinite(loss));
    disposeGrads(named);
    disposeGrads(grads);
  } finally {
    model.dispose();
  }
});

/** d loss / d (entry `index` of HF tensor `name`) by central differences, editing the model's variables. */
async function finiteDifference(model: Awaited<ReturnType<typeof createModel>>, name: string, index: number, eps: number): Promise<number> {
  const param = model.params.find((p) => p.name === name)!;
  const original = param.hf();
  const losses: number[] = [];
  for (const delta of [eps, -eps]) {
    const bumped = tf.tidy(() => {
      const flat = original.dataSync().slice();
      flat[index]! += delta;
      return tf.tensor(flat, original.shape);
    });
    setHf(model, name, bumped);
    losses.push((await model.forward(BATCH, { logits: 'none' })).loss!);
    bumped.dispose();
  }
  setHf(model, name, original);
  original.dispose();
  return (losses[0]! - losses[1]!) / (2 * eps);
}

/** Writes an HF-layout value into the variables behind a parameter (test-only inverse of Param.hf). */
function setHf(model: Awaited<ReturnType<typeof createModel>>, name: string, value: tf.Tensor): void {
  const vars = model.params.find((p) => p.name === name)!.variables;
  tf.tidy(() => {
    if (vars.length === 1 && vars[0]!.shape.length === value.shape.length && vars[0]!.shape.every((d, i) => d === value.shape[i])) vars[0]!.assign(value);
    else if (value.shape.length === 1) {
      let row = 0;
      for (const v of vars) (v.assign(tf.slice(value, [row], [v.shape[0]!])), (row += v.shape[0]!));
    } else {
      // pre-transposed [in, out] blocks of a fused [out, in] weight
      let row = 0;
      for (const v of vars) (v.assign(tf.transpose(tf.slice(value, [row, 0], [v.shape[1]!, -1]))), (row += v.shape[1]!));
    }
  });
}

test('no tensor leaks over training steps, a forward pass and generation', async () => {
  const model = await createModel(TINY, 2);
  const opt = new AdamW({ lr: 1e-3 });
  try {
    // first step creates the optimizer's moments: count from after it
    const first = model.lossAndGrads(BATCH);
    opt.step(first.grads);
    disposeGrads(first.grads);
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const { grads } = model.lossAndGrads(BATCH, { prefixDropout: 0.1, dropoutSeed: i });
      opt.step(grads);
      disposeGrads(grads);
    }
    assert.equal(tf.memory().numTensors, baseline, 'after 100 training steps');
    const out = await model.forward(BATCH);
    out.logits!.dispose();
    assert.equal(tf.memory().numTensors, baseline, 'after a forward pass');
    await model.generate(BATCH.inputIds, { maxNewTokens: 5, attentionMask: BATCH.attentionMask, doSample: true, topP: 0.8 });
    await model.generate(BATCH.inputIds, { maxNewTokens: 3, useCache: false });
    assert.equal(tf.memory().numTensors, baseline, 'after generation');
  } finally {
    opt.dispose();
    model.dispose();
  }
});
