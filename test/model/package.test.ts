// Library use: the model through the package's own "exports" (self-reference), as a
// consumer's `import { loadModel } from 'glmflow/model'` resolves it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate, loadModel } from 'glmflow/model';
import { sharedPath } from '../shared.ts';
import { readCases } from './helpers.ts';

test("'glmflow/model': loadModel, forward with labels, generate", async (t) => {
  const dir = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!dir) return;
  const c = readCases(dir);
  const model = await loadModel(dir);
  try {
    const B = c.train_case.input_ids.length;
    const T = c.train_case.input_ids[0]!.length;
    const { logits, loss } = await model.forward({
      inputIds: c.train_case.input_ids,
      attentionMask: c.train_case.attention_mask,
      positionIds: c.train_case.position_ids,
      labels: c.train_case.labels,
    });
    assert.deepEqual(logits!.shape, [B, T, model.config.vocabSize]);
    logits!.dispose();
    assert.ok(Math.abs(loss! - c.train_case.loss) <= 1e-5 * c.train_case.loss, `loss ${loss} vs ${c.train_case.loss}`);
    const g = c.generation_case;
    assert.deepEqual(await generate(model, g.prompt_ids, { maxNewTokens: g.max_new_tokens, eosTokenId: [] }), g.new_token_ids);
  } finally {
    model.dispose();
  }
});
