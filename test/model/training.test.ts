// P-tuning v2 invariants: an AdamW step moves the prefix and nothing else; training every
// weight (trainable 'all') has correct gradients; no tensor leaks over training and generation.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW } from '../../model/adamw.ts';
import { parseConfig, toHfConfig } from '../../model/config.ts';
import { disposeGrads } from '../../model/glm.ts';
import { createModel, loadModel } from '../../model/load.ts';
import { VOCAB_BLOCK } from '../../model/output_layer.ts';
import { sharedPath } from '../shared.ts';
import { countReads, lossValue, readCases } from './helpers.ts';

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
    const { loss, grads } = await model.lossAndGrads({ inputIds: c.input_ids, attentionMask: c.attention_mask, positionIds: c.position_ids, labels: c.labels });
    loss.dispose();
    opt.step(grads);
    disposeGrads(grads);
    const after = model.namedWeights();
    let moved = 0;
    for (const [name, w] of before) {
      const allEqual = tf.tidy(() => tf.all(tf.equal(w, after.get(name)!)));
      const same = (await allEqual.data())[0] === 1;
      allEqual.dispose();
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
    const r = await model.lossAndGrads(BATCH);
    const { grads } = r;
    const loss = await lossValue(r.loss);
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
      const g = await named.get(name)!.data();
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

test("trainable 'all' with a vocabulary of several output blocks: loss and output-layer gradient match plain tfjs", async () => {
  const vocab = 2 * VOCAB_BLOCK + 100; // three blocks, the last one partial
  const model = await createModel(parseConfig({ ...toHfConfig(TINY), padded_vocab_size: vocab }), 3, { trainable: 'all' });
  // labels in every block
  const labels = BATCH.labels.map((row) => row.map((y, t) => (y === -100 ? y : (y * 997 + t * VOCAB_BLOCK) % vocab)));
  const batch = { ...BATCH, labels };
  try {
    const r = await model.lossAndGrads(batch);
    const { grads } = r;
    const loss = await lossValue(r.loss);
    const named = model.namedGrads(grads);
    const prepared = await model.prepare(batch);
    // the same loss written plainly: log-softmax over the full logits, autodiff through the HF weight
    const w = model.params.find((p) => p.name === 'transformer.output_layer.weight')!.hf();
    const { value, grad: plain } = tf.tidy(() => {
      const T = labels[0]!.length;
      const targets = labels.flatMap((row, b) => row.slice(1).flatMap((y, t) => (y === -100 ? [] : [[b * T + t, y] as const])));
      const h = tf.gather(model.hidden(prepared, undefined).h, targets.map(([r]) => r));
      const oneHot = tf.cast(tf.oneHot(tf.tensor1d(targets.map(([, y]) => y), 'int32'), vocab), 'float32');
      const f = (wt: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.matMul(h, wt as tf.Tensor2D, false, true)), oneHot), 1)));
      return tf.valueAndGrad(f)(w);
    });
    const plainLoss = (await value.data())[0]!;
    assert.ok(Math.abs(loss - plainLoss) <= 1e-5 * loss, `loss ${loss} vs ${plainLoss}`);
    const diffT = tf.tidy(() => tf.max(tf.abs(tf.sub(named.get('transformer.output_layer.weight')!, plain))));
    const diff = (await diffT.data())[0]!;
    diffT.dispose();
    assert.ok(diff <= 1e-6, `output_layer grad max abs diff ${diff}`);
    tf.dispose([w, value, plain]);
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
  const values = await original.data();
  for (const delta of [eps, -eps]) {
    const flat = values.slice();
    flat[index]! += delta;
    const bumped = tf.tensor(flat, original.shape);
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
    const first = await model.lossAndGrads(BATCH);
    opt.step(first.grads);
    disposeGrads(first.grads);
    first.loss.dispose();
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const { loss, grads } = await model.lossAndGrads(BATCH, { prefixDropout: 0.1, dropoutSeed: i });
      opt.step(grads);
      disposeGrads(grads);
      await lossValue(loss);
    }
    assert.equal(tf.memory().numTensors, baseline, 'after 100 training steps');
    const out = await model.forward(BATCH);
    out.logits!.dispose();
    assert.equal(tf.memory().numTensors, baseline, 'after a forward pass');
    await model.generate(BATCH.inputIds, { maxNewTokens: 5, attentionMask: BATCH.attentionMask, doSample: true, topP: 0.8 });
    await model.generate(BATCH.inputIds, { maxNewTokens: 3, useCache: false });
    await model.generate([BATCH.inputIds[0]!], { maxNewTokens: 5, attentionMask: [BATCH.attentionMask[0]!] }); // batch-1 decode path
    assert.equal(tf.memory().numTensors, baseline, 'after generation');
  } finally {
    opt.dispose();
    model.dispose();
  }
});

test('training, evaluation and generation never read the device synchronously; a training step reads nothing until its loss is asked for', async () => {
  const model = await createModel(TINY, 4);
  const opt = new AdamW({ lr: 1e-3 });
  const ids = tf.tensor2d(BATCH.inputIds, undefined, 'int32'); // tensor inputs are read back too
  const reads = countReads(tf);
  try {
    const { loss, grads } = await model.lossAndGrads({ ...BATCH, inputIds: ids });
    opt.step(grads);
    disposeGrads(grads);
    const inputReads = reads.async;
    assert.equal(inputReads, 1, 'only the tensor input ids were read before the loss');
    assert.ok(Number.isFinite(await lossValue(loss)));
    assert.equal(reads.async, inputReads + 1, 'one read for the loss');
    (await model.forward(BATCH)).logits!.dispose();
    await model.generate(BATCH.inputIds, { maxNewTokens: 3, attentionMask: BATCH.attentionMask });
    await model.generate([BATCH.inputIds[1]!], { maxNewTokens: 3 });
    assert.equal(reads.sync, 0, 'no synchronous read');
  } finally {
    reads.stop();
    ids.dispose();
    opt.dispose();
    model.dispose();
  }
});
