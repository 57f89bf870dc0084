// The ChatGLM3 tokenizer and preprocessing against the official outputs in
// ../shared/fixtures/tokenize, and the encoder against the C++ SentencePiece
// (its WebAssembly build) on every shared real message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sentencepieceJs from '@agnai/sentencepiece-js';
import { sharedPath } from '../shared.ts';
import { GlmflowError } from '../../engine/errors.ts';
import { loadChatGLM3Tokenizer } from '../../tokenizer/chatglm3.ts';
import { evalExamples, messageIds, trainExample } from '../../tokenizer/preprocess.ts';
import type { Message } from '../../formats/conversation.ts';

interface Case {
  id: string;
  conversations: Message[];
  max_input_length: number;
  max_output_length: number;
  input_ids: number[];
  labels: number[];
  eval: { input_ids: number[][]; output_ids: number[][] };
}

const EDGE_STRINGS = ['', ' ', '  a  b ', '\t', '\n\n\n', 'a\r\nb\tc', '\u3000全角\u3000', '👌', '😀😀 ok 👍🏽', '👨‍👩‍👧', 'héllo wörld', 'Ünïcödé ελληνικά русский 日本語 한국어 العربية', 'https://example.com/a?b=1&c=%20', '<|assistant|>[gMASK]</s><unk>', '0123456789', '你好'.repeat(300), 'a'.repeat(2000), '\u{10FFFF}\u0000\u007f'];

test('ChatGLM3 special ids follow the 64789 SentencePiece pieces; eos is 2', (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  if (!model) return;
  const tok = loadChatGLM3Tokenizer(path.dirname(model));
  assert.equal(tok.vocabSize, 64798);
  assert.equal(tok.eosId, 2);
  assert.deepEqual(Object.values(tok.special), [64789, 64790, 64791, 64792, 64793, 64794, 64795, 64796, 64797]);
  assert.deepEqual(tok.encode('你好'), [36474, 54591]);
  assert.deepEqual(tok.encode('👌'), [30910, 243, 162, 148, 143]);
  assert.deepEqual(messageIds(tok, 'user', '发什么快递'), [64795, 30910, 13, 30910, 54559, 31642, 35779]);
  assert.equal(tok.decode([64790, 64792, 64795, 30910, 13, 30910, 54559]), '[gMASK]sop<|user|>\n 发');
  assert.equal(tok.decode([64790, 64795, 30910, 54559, 2], { skipSpecialTokens: true }), '发');
});

test('all 68 shared cases: training ids/labels and eval pairs identical to the official preprocessing', (t) => {
  const file = sharedPath(t, 'fixtures/tokenize/cases.jsonl');
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  if (!file || !model) return;
  const tok = loadChatGLM3Tokenizer(model);
  const cases = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Case);
  assert.equal(cases.length, 68);
  for (const c of cases) {
    const limits = { maxInputLength: c.max_input_length, maxOutputLength: c.max_output_length };
    const train = trainExample(tok, c.conversations, limits);
    assert.deepEqual(train.inputIds, c.input_ids, `${c.id}: input_ids`);
    assert.deepEqual(train.labels, c.labels, `${c.id}: labels`);
    const pairs = evalExamples(tok, c.conversations, limits);
    assert.deepEqual(pairs.inputIds, c.eval.input_ids, `${c.id}: eval input_ids`);
    assert.deepEqual(pairs.outputIds, c.eval.output_ids, `${c.id}: eval output_ids`);
  }
});

test('encode and decode equal C++ SentencePiece on every shared message and on edge strings', async (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  const data = sharedPath(t, 'data/ecommerce-cs/conversations.expected.jsonl');
  if (!model || !data) return;
  const tok = loadChatGLM3Tokenizer(model);
  const reference = new sentencepieceJs.SentencePieceProcessor();
  await reference.load(model);
  const messages = readFileSync(data, 'utf8').split('\n').filter(Boolean).flatMap((line) => (JSON.parse(line) as { conversations: Message[] }).conversations.map((m) => m.content));
  assert.ok(messages.length > 6000);
  for (const text of [...messages, ...EDGE_STRINGS]) {
    const ids = tok.encode(text);
    assert.deepEqual(ids, reference.encodeIds(text), `encode ${JSON.stringify(text.slice(0, 40))}`);
    assert.equal(tok.sp.decode(ids), reference.decodeIds(ids), `decode ${JSON.stringify(text.slice(0, 40))}`);
  }
  for (const ids of [[1, 30910, 36474], [0, 30910, 36474], [243, 162, 30910], [162, 30910], [30910, 243, 162, 148, 143], [2, 30910]]) {
    assert.equal(tok.sp.decode(ids), reference.decodeIds(ids), `decode ${JSON.stringify(ids)}`);
  }
});

test('decode(encode(x)) gives x back on edge strings (the dummy-prefix space is dropped)', (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  if (!model) return;
  const tok = loadChatGLM3Tokenizer(model);
  for (const text of EDGE_STRINGS) assert.equal(tok.decode(tok.encode(text)), text, JSON.stringify(text.slice(0, 40)));
});

test('a missing or corrupt tokenizer is an error naming the path and what was expected', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-tok-'));
  const missing = path.join(dir, 'nope', 'tokenizer.model');
  assert.throws(() => loadChatGLM3Tokenizer(missing), (e: unknown) => e instanceof GlmflowError && e.message.includes(missing) && /tokenizer\.model/.test(e.message));
  assert.throws(() => loadChatGLM3Tokenizer(dir), (e: unknown) => e instanceof GlmflowError && e.message.includes(dir) && e.message.includes('no tokenizer.model'));
  for (const [name, bytes] of [['garbage.model', Buffer.from('this is not a protobuf at all \xff\xff\xff')], ['empty.model', Buffer.alloc(0)], ['truncated.model', Buffer.from([0x0a, 0x50, 0x0a])]] as const) {
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    assert.throws(() => loadChatGLM3Tokenizer(file), (e: unknown) => e instanceof GlmflowError && e.message.includes(file) && e.message.includes('SentencePiece'), name);
  }
});
