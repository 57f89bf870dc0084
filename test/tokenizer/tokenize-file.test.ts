import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sharedPath } from '../shared.ts';
import { GlmflowError } from '../../engine/errors.ts';
import { tokenizeCommand } from '../../tokenizer/cli.ts';
import { tokenizeFile } from '../../tokenizer/tokenize-file.ts';

interface Case {
  conversations: unknown[];
  max_input_length: number;
  max_output_length: number;
  input_ids: number[];
  labels: number[];
  eval: { input_ids: number[][]; output_ids: number[][] };
}

test('tokenizeFile writes one line per conversation, in order, train or eval form', async (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  const fixtures = sharedPath(t, 'fixtures/tokenize/cases.jsonl');
  if (!model || !fixtures) return;
  const cases = readFileSync(fixtures, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Case).filter((c) => c.max_input_length === 16);
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-tokfile-'));
  const input = path.join(dir, 'conv.jsonl');
  writeFileSync(input, cases.map((c) => JSON.stringify({ conversations: c.conversations })).join('\n'));
  const out = path.join(dir, 'ids.jsonl');
  assert.equal(await tokenizeFile({ in: input, tokenizer: model, out, maxInput: 16, maxOutput: 8 }), cases.length);
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown), cases.map((c) => ({ input_ids: c.input_ids, labels: c.labels })));
  await tokenizeCommand(['--in', input, '--tokenizer', path.dirname(model), '--out', out, '--max-input', '16', '--max-output', '8', '--eval']);
  assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown), cases.map((c) => c.eval));
});

test('tokenizeFile stops at a bad line instead of shifting the output', async (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  if (!model) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-tokfile-'));
  const input = path.join(dir, 'conv.jsonl');
  writeFileSync(input, '{"conversations":[{"role":"user","content":"hi"}]}\n{"conversations":[{"role":"bot","content":"x"}]}\n');
  await assert.rejects(tokenizeFile({ in: input, tokenizer: model, out: path.join(dir, 'o.jsonl') }), (e: unknown) => e instanceof GlmflowError && e.message.includes('line 2') && e.message.includes('unknown role'));
});

test('tokenize command: missing flags and bad numbers are errors pointing at --help', async () => {
  await assert.rejects(tokenizeCommand(['--in', 'x.jsonl']), (e: unknown) => e instanceof GlmflowError && /--tokenizer, --out/.test(e.message) && /--help/.test(e.hint ?? ''));
  await assert.rejects(tokenizeCommand(['--in', 'a', '--tokenizer', 'b', '--out', 'c', '--max-input', '2.5']), /whole number/);
  await assert.rejects(tokenizeCommand(['--bogus']), (e: unknown) => e instanceof GlmflowError);
});
