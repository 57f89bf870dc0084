// Greedy decoding equals the reference's, with and without the KV cache; sampling is
// reproducible from its seed; eos / stop tokens end a row; streaming sees every token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../../model/load.ts';
import { sharedPath } from '../shared.ts';
import { readCases } from './helpers.ts';
import { generate } from '../../model/generate.ts';

for (const fixture of ['fixtures/glm/tiny-f32', 'fixtures/glm/tiny-f16-sharded']) {
  const label = fixture.split('/').pop()!;

  test(`${label}: greedy generation matches the reference, with and without the KV cache`, async (t) => {
    const dir = sharedPath(t, fixture);
    if (!dir) return;
    const cases = readCases(dir);
    const model = await loadModel(dir);
    try {
      for (const [name, g] of [
        ['single', { ...cases.generation_case, attention_mask: undefined, position_ids: undefined }],
        ['batch (left padding)', cases.generation_batch_case],
      ] as const) {
        for (const useCache of [true, false]) {
          const got = await generate(model, g.prompt_ids, {
            maxNewTokens: g.max_new_tokens,
            eosTokenId: [], // the reference never stops at eos
            useCache,
            ...(g.attention_mask ? { attentionMask: g.attention_mask, positionIds: g.position_ids } : {}),
          });
          const ok = JSON.stringify(got) === JSON.stringify(g.new_token_ids);
          console.log(`${ok ? 'OK    ' : 'NOT OK'} ${label} greedy ${name}, ${useCache ? 'KV cache' : 'no cache'}: ${JSON.stringify(got)}`);
          assert.deepEqual(got, g.new_token_ids);
        }
      }
    } finally {
      model.dispose();
    }
  });
}

test('sampling is seeded, stops at eos / stop tokens, and streams every token', async (t) => {
  const dir = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!dir) return;
  const model = await loadModel(dir);
  try {
    const prompt = [[5, 6, 7, 8]];
    const opts = { maxNewTokens: 12, doSample: true, temperature: 0.9, topP: 0.9, topK: 50, repetitionPenalty: 1.2, eosTokenId: [] };
    const a = await generate(model, prompt, { ...opts, seed: 7 });
    const b = await generate(model, prompt, { ...opts, seed: 7 });
    const c = await generate(model, prompt, { ...opts, seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(a[0]!.length, 12);

    const streamed: number[] = [];
    const stopAt = a[0]![3]!;
    const stopped = await generate(model, prompt, { ...opts, seed: 7, stopTokenIds: [stopAt], onToken: (id, row) => (assert.equal(row, 0), streamed.push(id)) });
    const expected = a[0]!.slice(0, a[0]!.indexOf(stopAt));
    assert.deepEqual(stopped, [expected]);
    assert.deepEqual(streamed, expected);

    // top-k 1 is greedy whatever the temperature
    const greedy = await generate(model, prompt, { maxNewTokens: 6, eosTokenId: [] });
    assert.deepEqual(await generate(model, prompt, { maxNewTokens: 6, eosTokenId: [], doSample: true, topK: 1, temperature: 5, seed: 3 }), greedy);
  } finally {
    model.dispose();
  }
});
