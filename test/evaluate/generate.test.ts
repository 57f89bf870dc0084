// Batched generation on the tiny fixture: stops at eos and at max_new_tokens,
// keeps the prompts' order, leaks no tensors; the generate stage's output lines
// up with the references.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { backendLabel, currentBackend } from '../../model/backend.ts';
import { loadModel } from '../../model/load.ts';
import { readEvalExamples } from '../../tokenizer/examples-arrow.ts';
import { generateAll, leftPad } from '../../generation/batched.ts';
import { readGenerations } from '../../formats/generation.ts';
import { runGenerate } from '../../stages/generate/run.ts';
import { generateParams, type GenerateContext } from '../../stages/generate.ts';
import { sharedPath } from '../shared.ts';
import { tokenizer, writeEvalFiles } from './fixture.ts';
import { generate } from '../../model/generate.ts';

const PROMPTS = [[5, 6, 7, 8, 9, 10], [11, 12], [13, 14, 15, 16]];

test('left padding', () => {
  assert.deepEqual(leftPad([[1, 2], [3]], 0), { inputIds: [[1, 2], [0, 3]], attentionMask: [[1, 1], [0, 1]] });
});

test('batched generation: prompt order kept, stops at eos and max_new_tokens, no tensors left', async (t) => {
  const dir = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!dir) return;
  const model = await loadModel(dir);
  try {
    const batch = { size: 2, padId: 0 };
    const before = tf.memory().numTensors;
    const free = await generateAll(model, PROMPTS, { maxNewTokens: 6, eosTokenId: [] }, batch);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(free.map((r) => r.length), [6, 6, 6], 'never stopping: exactly max_new_tokens');
    // Each row alone (no padding, no reordering) gives the same tokens: results are in prompt order.
    for (const [i, prompt] of PROMPTS.entries()) {
      assert.deepEqual((await generate(model, [prompt], { maxNewTokens: 6, eosTokenId: [] }))[0], free[i], `row ${i}`);
    }
    // Make row 0's third token the eos: that row ends with it, the others run on.
    const eos = free[0]![2]!;
    const stopped = await generateAll(model, PROMPTS, { maxNewTokens: 6, eosTokenId: eos }, batch);
    const upToEos = (row: number[]) => (row.includes(eos) ? row.slice(0, row.indexOf(eos) + 1) : row);
    assert.deepEqual(stopped[0], upToEos(free[0]!));
    assert.equal(stopped[0]!.at(-1), eos);
    for (const i of [1, 2]) assert.deepEqual(stopped[i], upToEos(free[i]!));
    const short = await generateAll(model, PROMPTS, { maxNewTokens: 2, eosTokenId: [] }, batch);
    assert.deepEqual(short, free.map((r) => r.slice(0, 2)));
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('the generate stage: one line per eval example, aligned with its reference, naming the backend it ran on', async (t) => {
  const tiny = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!tiny) return;
  const files = await writeEvalFiles(tiny);
  const out = path.join(files.dir, 'generations.jsonl');
  const ctx = {
    params: generateParams.parse({ max_new_tokens: 5, batch_size: 2 }),
    inputs: files,
    outputs: { generations: out },
    signal: new AbortController().signal,
    log: () => {},
    progress: () => {},
    summary: (line: string) => summary.push(line),
  } as unknown as GenerateContext;
  const summary: string[] = [];
  await runGenerate(ctx);
  const backend = currentBackend()!;
  assert.ok(summary.includes(backend.description), `summary names the backend: ${summary.join(' | ')}`);
  const lines = readGenerations(readFileSync(out, 'utf8'));
  const references: string[] = [];
  for await (const row of readEvalExamples(files.test)) references.push(tokenizer.decode(Array.from(row.output_ids), { skipSpecialTokens: true }));
  assert.equal(lines.length, files.examples);
  assert.deepEqual(lines.map((l) => l.reference), references);
  for (const line of lines) {
    assert.ok(line.prediction_tokens <= 5);
    assert.equal(line.finish, line.prediction_tokens === 5 ? 'length' : 'stop');
    assert.ok(Number.isFinite(line.loss) && line.loss > 0, `loss ${line.loss}`);
    assert.match(line.prompt, /\[gMASK\]sop<\|user\|>/);
    assert.equal(line.backend, backendLabel(backend));
  }
});
