import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTokenizer, writeTokenizerArtifact } from '../../tokenizer/artifact.ts';
import { CharVocabBuilder } from '../../tokenizer/char-tokenizer.ts';
import { IGNORE_INDEX, messageIds, trainExample, evalExamples } from '../../tokenizer/preprocess.ts';
import { SPECIAL_TOKENS } from '../../tokenizer/tokenizer.ts';

function build(texts: readonly string[]) {
  const builder = new CharVocabBuilder();
  for (const text of texts) builder.add(text);
  return builder.build();
}

test('char tokenizer uses the ChatGLM3 layout: <unk>=0 (pad), eos 2, specials after the characters', () => {
  const tok = build(['好的', 'ok 👌']);
  assert.deepEqual(tok.chars, ['\n', ' ', 'k', 'o', '好', '的', '👌']);
  const base = 3 + tok.chars.length;
  assert.equal(tok.vocabSize, base + SPECIAL_TOKENS.length);
  assert.equal(tok.eosId, 2);
  assert.equal(tok.padId, 0);
  assert.deepEqual(Object.values(tok.special), SPECIAL_TOKENS.map((_, i) => base + i));
  // Role token, the encoding of "\n", then the content, as in ChatGLM3.
  assert.deepEqual(messageIds(tok, 'assistant', '好的'), [tok.special.assistant, 3, 7, 8]);
  assert.deepEqual(tok.encode('好X👌'), [7, 0, 9]);
  const example = trainExample(tok, [{ role: 'user', content: '好' }, { role: 'assistant', content: '的' }], { maxInputLength: 16, maxOutputLength: 16 });
  assert.deepEqual(example.inputIds, [tok.special.gmask, tok.special.sop, tok.special.user, 3, 7, tok.special.assistant, 3, 8, 2]);
  assert.deepEqual(example.labels, [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 3, 8, 2]);
  const pairs = evalExamples(tok, [{ role: 'user', content: '好' }, { role: 'assistant', content: '的' }], { maxInputLength: 16, maxOutputLength: 16 });
  assert.deepEqual(pairs, { inputIds: [[tok.special.gmask, tok.special.sop, tok.special.user, 3, 7, tok.special.assistant]], outputIds: [[3, 8, 2]] });
});

test('char tokenizer round-trips text made of known characters; unknown ones decode as U+FFFD', () => {
  const edge = ['', ' ', '  a  b ', '\r\n\t', '😀😀 ok', 'héllo ελληνικά 日本語', '\u3000'];
  const tok = build(edge);
  for (const text of edge) assert.equal(tok.decode(tok.encode(text)), text);
  assert.equal(tok.decode(tok.encode('aZ')), 'a\uFFFD');
  assert.equal(tok.decode([tok.special.user, ...tok.encode('a'), tok.eosId]), '<|user|>a');
  assert.equal(tok.decode([tok.special.user, ...tok.encode('a')], { skipSpecialTokens: true }), 'a');
});

test('the char tokenizer artifact is byte-identical for the same data in any order, and loads back', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-char-'));
  const a = path.join(dir, 'a.json');
  const b = path.join(dir, 'b.json');
  writeTokenizerArtifact(a, build(['你好', 'hello 😀', '\u{FF5E}']));
  writeTokenizerArtifact(b, build(['\u{FF5E}', 'hello 😀', '你好', '你']));
  assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'));
  const loaded = loadTokenizer(a);
  const original = build(['你好', 'hello 😀', '\u{FF5E}']);
  assert.equal(loaded.kind, 'char');
  assert.equal(loaded.vocabSize, original.vocabSize);
  assert.deepEqual(loaded.special, original.special);
  assert.deepEqual(loaded.encode('hello 你好 😀?'), original.encode('hello 你好 😀?'));
});
