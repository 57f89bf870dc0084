// Parity with the reference PyTorch implementation on the shared fixtures (tolerances from
// ../shared/fixtures/glm/README.md): logits, hidden states, loss, prefix keys/values and
// gradients, masks, AdamW steps.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW } from '../../model/adamw.ts';
import { disposeGrads } from '../../model/glm.ts';
import { loadModel } from '../../model/load.ts';
import { blockedPattern } from '../../model/masks.ts';
import { sharedPath } from '../shared.ts';
import { compare, lossValue, readCases } from './helpers.ts';

const FIXTURES = ['fixtures/glm/tiny-f32', 'fixtures/glm/tiny-f16-sharded'];

for (const fixture of FIXTURES) {
  const label = fixture.split('/').pop()!;

  test(`${label}: forward matches the reference (logits, hidden states, loss, masks, prefix kv)`, async (t) => {
    const dir = sharedPath(t, fixture);
    if (!dir) return;
    const c = readCases(dir).train_case;
    const model = await loadModel(dir);
    try {
      const B = c.input_ids.length;
      const T = c.input_ids[0]!.length;
      const out = await model.forward(
        { inputIds: c.input_ids, attentionMask: c.attention_mask, positionIds: c.position_ids, labels: c.labels },
        { hiddenStates: true },
      );
      const logits = out.logits!;
      const V = logits.shape[2];
      const data = await logits.data();
      if (c.logits) assert.ok(compare(`${label} logits [${B},${T},${V}]`, data, c.logits, 1e-4) <= 1e-4);
      if (c.logits_last) {
        const last = await tf.tidy(() => tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, V]), [B, V])).data();
        assert.ok(compare(`${label} logits_last [${B},${V}]`, last, c.logits_last, 1e-4) <= 1e-4);
      }
      const [lse, max, argmax] = await Promise.all(tf.tidy(() => [tf.logSumExp(logits, 2), tf.max(logits, 2), tf.argMax(logits, 2)]).map(async (x) => {
        const d = await x.data();
        x.dispose();
        return d;
      }));
      assert.ok(compare(`${label} logits_logsumexp`, lse!, c.logits_logsumexp, 1e-4) <= 1e-4);
      assert.ok(compare(`${label} logits_max`, max!, c.logits_max, 1e-4) <= 1e-4);
      assert.ok(compare(`${label} logits_argmax (exact)`, argmax!, c.logits_argmax, 0) === 0);
      for (const [i, h] of out.hiddenStates!.entries()) assert.ok(compare(`${label} hidden_states[${i}]`, await h.data(), c.hidden_states[i]!, 1e-4) <= 1e-4);
      const lossDiff = Math.abs(out.loss! - c.loss);
      console.log(`${lossDiff <= 1e-5 * c.loss ? 'OK    ' : 'NOT OK'} ${label} loss ${out.loss} vs ${c.loss} (rel diff ${(lossDiff / c.loss).toExponential(2)})`);
      assert.ok(lossDiff <= 1e-5 * Math.abs(c.loss));
      logits.dispose();
      out.hiddenStates!.forEach((h) => h.dispose());

      const noPos = await model.forward({ inputIds: c.input_ids, attentionMask: c.attention_mask, labels: c.labels }, { logits: 'none' });
      assert.ok(Math.abs(noPos.loss! - c.loss_default_position_ids) <= 1e-5 * c.loss_default_position_ids, `default positions loss ${noPos.loss}`);
      console.log(`OK     ${label} loss_default_position_ids ${noPos.loss} vs ${c.loss_default_position_ids}`);

      const P = model.config.preSeqLen!;
      const mask = c.attention_mask.map((r) => [...new Array<number>(P).fill(1), ...r]);
      assert.ok(compare(`${label} full_attention_mask_blocked (exact)`, blockedPattern(mask, B, T, P), c.full_attention_mask_blocked, 0) === 0);

      // prefix_kv [L, 2, P, G, kv]; ours per layer and group kT (kv, P) and v (P, kv)
      const kvs = tf.tidy(() =>
        tf.stack(
          model.prefixEncoder!.keyValues(1).map((kv) =>
            tf.stack([tf.stack(kv.kT.map((k) => tf.transpose(k)), 1), tf.stack([...kv.v], 1)]),
          ),
        ),
      );
      assert.ok(compare(`${label} prefix_kv`, await kvs.data(), c.prefix_kv, 1e-5) <= 1e-5);
      kvs.dispose();
    } finally {
      model.dispose();
    }
  });

  test(`${label}: prefix gradients and AdamW steps match the reference`, async (t) => {
    const dir = sharedPath(t, fixture);
    if (!dir) return;
    const cases = readCases(dir);
    const c = cases.train_case;
    const batch = { inputIds: c.input_ids, attentionMask: c.attention_mask, positionIds: c.position_ids, labels: c.labels };
    const model = await loadModel(dir);
    try {
      const r0 = await model.lossAndGrads(batch);
      const { grads } = r0;
      const loss = await lossValue(r0.loss);
      assert.ok(Math.abs(loss - c.loss) <= 1e-5 * c.loss, `training loss ${loss}`);
      const named = model.namedGrads(grads);
      assert.deepEqual([...named.keys()].sort(), Object.keys(c.prefix_grads).sort());
      for (const [name, g] of named) {
        const tol = 1e-5; // README: 1e-5 abs (values up to ~0.09)
        assert.ok(compare(`${label} grad ${name}`, await g.data(), c.prefix_grads[name]!, tol) <= tol);
      }
      disposeGrads(named);
      disposeGrads(grads);

      const a = cases.adamw_case;
      const opt = new AdamW({ lr: a.lr, betas: a.betas, eps: a.eps, weightDecay: a.weight_decay });
      for (let step = 0; step < a.steps; step++) {
        const r = await model.lossAndGrads(batch);
        const loss = await lossValue(r.loss);
        assert.ok(Math.abs(loss - a.losses_before_each_step[step]!) <= 1e-4, `loss before step ${step}: ${loss}`);
        opt.step(r.grads);
        disposeGrads(r.grads);
      }
      const after = await model.forward(batch, { logits: 'none' });
      assert.ok(Math.abs(after.loss! - a.loss_after_last_step) <= 1e-4, `loss after AdamW: ${after.loss}`);
      const weights = model.prefixWeights();
      for (const [name, w] of weights) assert.ok(compare(`${label} AdamW x${a.steps} ${name}`, await w.data(), a.final_prefix_params[name]!, 1e-4) <= 1e-4);
      disposeGrads(weights);
      opt.dispose();
    } finally {
      model.dispose();
    }
  });
}

