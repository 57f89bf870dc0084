// The metrics against the reference's own output (../shared/fixtures/metrics, made by
// ../shared/reference/metrics_ref.py: Python jieba 0.42.1, rouge_chinese 1.0.3, NLTK):
// the same words for every text, the same scores for every pair.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { scoreExample, SCORE_NAMES } from '../../metrics/finetune-demo.ts';
import { pyStrip } from '../../metrics/python-text.ts';
import { segment } from '../../metrics/segment.ts';
import { sharedPath } from '../shared.ts';

const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

test('words equal Python jieba 0.42.1 on every text of the shared jieba fixture', (t) => {
  const file = sharedPath(t, 'fixtures/metrics/jieba.jsonl');
  if (!file) return;
  const texts = readJsonl<{ text: string; tokens: string[] }>(file);
  assert.ok(texts.length > 5000, `${texts.length} texts`);
  const differ = texts.filter(({ text, tokens }) => JSON.stringify(segment(text)) !== JSON.stringify(tokens));
  assert.deepEqual(
    differ.map(({ text }) => ({ text, words: segment(text) })),
    [],
    `${differ.length} of ${texts.length} texts split differently`,
  );
});

test("every reference pair scores within 1e-4 of finetune_demo's compute_metrics, empty pairs 0", (t) => {
  const pairsFile = sharedPath(t, 'fixtures/metrics/pairs.jsonl');
  const referenceFile = sharedPath(t, 'fixtures/metrics/reference.jsonl');
  if (!pairsFile || !referenceFile) return;
  type Reference = { id: number; pred_tokens: string[]; label_tokens: string[]; error?: string } & Record<(typeof SCORE_NAMES)[number], number>;
  const references = new Map(readJsonl<Reference>(referenceFile).map((r) => [r.id, r]));
  const pairs = readJsonl<{ id: number; pred: string; label: string }>(pairsFile);
  assert.equal(pairs.length, references.size);
  const problems: string[] = [];
  let maxDiff = 0;
  let empty = 0;
  for (const pair of pairs) {
    const ref = references.get(pair.id)!;
    assert.deepEqual(segment(pyStrip(pair.pred)), ref.pred_tokens, `pair ${pair.id}: prediction words`);
    assert.deepEqual(segment(pyStrip(pair.label)), ref.label_tokens, `pair ${pair.id}: label words`);
    const got = scoreExample(pair.pred, pair.label);
    // The reference raises exactly where a text is empty after the strip; glmflow scores that pair 0.
    assert.equal(got.empty, ref.error !== undefined, `pair ${pair.id}: empty ${got.empty}, reference error ${ref.error}`);
    if (got.empty) {
      empty++;
      assert.deepEqual(Object.values(got.scores), [0, 0, 0, 0], `pair ${pair.id}`);
      continue;
    }
    for (const name of SCORE_NAMES) {
      const diff = Math.abs(got.scores[name] - ref[name]);
      maxDiff = Math.max(maxDiff, diff);
      if (!(diff <= 1e-4)) problems.push(`pair ${pair.id} ${name}: ${got.scores[name]} vs reference ${ref[name]}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(empty > 0, 'the fixture has pairs the reference cannot score');
  t.diagnostic(`${pairs.length} pairs, ${empty} empty, max difference ${maxDiff}`);
});
