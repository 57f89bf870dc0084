// The tokenize stage's run() with a hand-built context (the engine is not needed):
// outputs, rejected lines, summary, and ids identical to the official cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sharedPath } from '../shared.ts';
import { runStage } from '../stage-run.ts';
import { tokenizeStage } from '../../stages/tokenize.ts';
import { loadTokenizer } from '../../tokenizer/artifact.ts';
import { readEvalExamples, readTrainExamples } from '../../tokenizer/examples-arrow.ts';
import type { Message } from '../../formats/conversation.ts';

interface Case {
  conversations: Message[];
  max_input_length: number;
  input_ids: number[];
  labels: number[];
  eval: { input_ids: number[][]; output_ids: number[][] };
}

const BAD_LINES = [
  '{"conversations":[{"role":"user","content":42}]}',
  '{"conversations":[{"role":"customer","content":"hi"}]}',
  '{"conversations":[]}',
  '{not json',
];

async function tokenize(dir: string, params: Record<string, unknown>, splits: Record<'train' | 'dev' | 'test', string[]>) {
  const inputs = Object.fromEntries(
    Object.entries(splits).map(([split, lines]) => {
      const file = path.join(dir, `${split}.jsonl`);
      writeFileSync(file, lines.join('\n') + '\n');
      return [split, file];
    }),
  ) as Record<'train' | 'dev' | 'test', string>;
  const parsed = tokenizeStage.params.parse(params);
  const files = tokenizeStage.files!(parsed, dir);
  const tokenizerFiles = typeof files.tokenizer === 'string' ? [path.resolve(files.tokenizer)] : [...files.tokenizer];
  const { outputs, summary } = await runStage(tokenizeStage, { params, inputs, files: { tokenizer: tokenizerFiles }, dir });
  return { outputs, summary };
}

async function rows<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of gen) out.push(row);
  return out;
}

test('with the ChatGLM3 tokenizer the stage writes exactly the official ids (2 encode workers)', async (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  const fixtures = sharedPath(t, 'fixtures/tokenize/cases.jsonl');
  if (!model || !fixtures) return;
  const cases = readFileSync(fixtures, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Case).filter((c) => c.max_input_length === 256);
  const lines = cases.map((c) => JSON.stringify({ conversations: c.conversations }));
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-stage-'));
  const { outputs, summary } = await tokenize(dir, { tokenizer: path.dirname(model), max_input_length: 256, max_output_length: 512, workers: 2 }, { train: [...lines, ...BAD_LINES], dev: lines.slice(0, 5), test: lines });
  const train = await rows(readTrainExamples(outputs.train));
  assert.deepEqual(train.map((r) => [...r.input_ids]), cases.map((c) => c.input_ids));
  assert.deepEqual(train.map((r) => [...r.labels]), cases.map((c) => c.labels));
  assert.equal((await rows(readTrainExamples(outputs.dev))).length, 5);
  const evalRows = await rows(readEvalExamples(outputs.test));
  assert.deepEqual(evalRows.map((r) => [...r.input_ids]), cases.flatMap((c) => c.eval.input_ids));
  assert.deepEqual(evalRows.map((r) => [...r.output_ids]), cases.flatMap((c) => c.eval.output_ids));
  const artifact = JSON.parse(readFileSync(outputs.tokenizer, 'utf8')) as { type: string; model: string; sha256: string };
  assert.equal(artifact.type, 'sentencepiece');
  assert.equal(artifact.model, model);
  assert.equal(artifact.sha256, 'e7dc4c393423b76e4373e5157ddc34803a0189ba96b21ddbb40269d31468a6f2');
  assert.equal(loadTokenizer(outputs.tokenizer).vocabSize, 64798);
  assert.match(summary[0]!, new RegExp(`^train: ${cases.length + 4} conversations → ${cases.length} examples, 4 rejected; tokens p50 \\d+ / p95 \\d+ / max \\d+; [\\d.]+% truncated at 769; [\\d.]+% of tokens are labels$`));
  assert.match(summary[2]!, /^test: \d+ conversations → \d+ eval pairs, 0 rejected/);
});

test('with no tokenizer configured the stage builds the char tokenizer from train and rejects bad lines with reasons', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-stage-'));
  const good = [
    { conversations: [{ role: 'user', content: '发什么快递' }, { role: 'assistant', content: '默认韵达哦' }] },
    { conversations: [{ role: 'system', content: '客服' }, { role: 'user', content: '在吗' }, { role: 'assistant', content: '在的亲' }] },
  ].map((c) => JSON.stringify(c));
  const { outputs, summary } = await tokenize(dir, {}, { train: [good[0]!, ...BAD_LINES, good[1]!], dev: [good[1]!], test: ['{"conversations":[{"role":"user","content":"新字"},{"role":"assistant","content":"好"}]}'] });
  const rejected = readFileSync(outputs.rejected, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { split: string; file: string; line: number; reason: string });
  assert.deepEqual(rejected.map((r) => [r.split, r.file, r.line]), [['train', 'train.jsonl', 2], ['train', 'train.jsonl', 3], ['train', 'train.jsonl', 4], ['train', 'train.jsonl', 5]]);
  assert.match(rejected[0]!.reason, /content is not a string \(number\)/);
  assert.match(rejected[1]!.reason, /unknown role "customer"/);
  assert.equal(rejected[2]!.reason, 'empty conversation');
  assert.match(rejected[3]!.reason, /invalid JSON/);
  const tok = loadTokenizer(outputs.tokenizer);
  assert.equal(tok.kind, 'char');
  const train = await rows(readTrainExamples(outputs.train));
  assert.equal(train.length, 2);
  assert.equal(tok.decode([...train[0]!.input_ids]), '[gMASK]sop<|user|>\n发什么快递<|assistant|>\n默认韵达哦');
  const [pair] = await rows(readEvalExamples(outputs.test));
  // "新字" never occurs in train: <unk>, as at inference time.
  assert.equal(tok.decode([...pair!.input_ids]), '[gMASK]sop<|user|>\n\uFFFD\uFFFD<|assistant|>');
  assert.equal(summary.length, 4);
  assert.match(summary[3]!, /^tokenizer: char, \d+ ids; 4 conversations rejected/);
  // Same data → byte-identical tokenizer artifact.
  const again = await tokenize(mkdtempSync(path.join(tmpdir(), 'glmflow-stage-')), {}, { train: [good[1]!, good[0]!], dev: [], test: [] });
  assert.equal(readFileSync(again.outputs.tokenizer, 'utf8'), readFileSync(outputs.tokenizer, 'utf8'));
});
