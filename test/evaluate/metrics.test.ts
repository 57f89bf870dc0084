// BLEU and ROUGE against hand-computed values, NLTK's and rouge_chinese's quirks included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sentenceBleu } from '../../metrics/bleu.ts';
import { meanScores, scoreExample } from '../../metrics/finetune-demo.ts';
import { evalLoss } from '../../metrics/loss.ts';
import { pyRstrip, pySplit, pyStrip } from '../../metrics/python-text.ts';
import { cutSentences, rougeChinese } from '../../metrics/rouge.ts';
import { segment } from '../../metrics/segment.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
const w = (s: string) => (s === '' ? [] : s.split(' '));

test('BLEU-4: identical, partial, clipped and brevity-penalised hypotheses', () => {
  close(sentenceBleu([w('a b c d')], w('a b c d')), 1, 'identical');
  // p = 3/5, 2/4, 1/3, and 0/2 smoothed to 1/(2·2); equal lengths: no penalty.
  close(sentenceBleu([w('a b c d e')], w('a b c x y')), (0.6 * 0.5 * (1 / 3) * 0.25) ** 0.25, 'partial');
  // "the" clipped to its one reference occurrence: p1 = 1/3; zero counts smoothed 1/(2·2), 1/(4·1), 1/(8·1).
  close(sentenceBleu([w('the cat')], w('the the the')), ((1 / 3) * (1 / 4) * (1 / 4) * (1 / 8)) ** 0.25, 'clipped');
  // 2 words against 4: BP = exp(1 - 4/2); no 3- or 4-grams: denominators are max(1, 0) = 1.
  close(sentenceBleu([w('a b c d')], w('a b')), Math.exp(-1) * (1 * 1 * 0.5 * 0.25) ** 0.25, 'short');
});

test('BLEU-4 smoothing method 3: each further zero precision halves again', () => {
  // p1 = 2/4; bigrams 0/3 → 1/(2·3); trigrams 0/2 → 1/(4·2); 4-grams 0/1 → 1/(8·1).
  close(sentenceBleu([w('a b c d')], w('a x b y')), (0.5 * (1 / 6) * (1 / 8) * (1 / 8)) ** 0.25, 'three zeros');
  // A single matching word: the smoothing makes it (1 · 1/2 · 1/4 · 1/8)^(1/4), not 0.
  close(sentenceBleu([w('您好')], w('您好')), (1 / 64) ** 0.25, 'one word');
  // The closest reference length (2, not 6) decides the penalty: none here; p = 2/2, 1/1, 1/(2·1), 1/(4·1).
  close(sentenceBleu([w('a b c d e f'), w('a b')], w('a b')), (1 / 8) ** 0.25, 'closest reference');
});

test('BLEU-4 is 0 without a unigram match and for empty strings', () => {
  assert.equal(sentenceBleu([w('a b')], w('c d')), 0);
  assert.equal(sentenceBleu([w('a b')], []), 0);
  assert.equal(sentenceBleu([[]], w('a b')), 0);
  assert.equal(sentenceBleu([[]], []), 0);
});

test('ROUGE-1/2 count n-grams as sets, ROUGE-L counts repeated words; F = 2PR/(P+R+1e-8)', () => {
  const f = (p: number, r: number) => 2 * ((p * r) / (p + r + 1e-8));
  const s = rougeChinese('a b c', 'a b d');
  close(s['rouge-1'].f, f(2 / 3, 2 / 3), 'rouge-1');
  close(s['rouge-2'].f, f(1 / 2, 1 / 2), 'rouge-2');
  close(s['rouge-l'].f, f(2 / 3, 2 / 3), 'rouge-l');
  // ROUGE-1/2: a repeated word counts once on both sides; no reference bigram: ROUGE-2 is 0.
  const rep = rougeChinese('a a a', 'a');
  close(rep['rouge-1'].p, 1, 'repeated rouge-1 p');
  close(rep['rouge-2'].f, 0, 'repeated rouge-2');
  // ROUGE-L: an LCS of 1 word over 3 hypothesis words and 1 reference word.
  close(rep['rouge-l'].p, 1 / 3, 'repeated rouge-l p');
  close(rep['rouge-l'].f, f(1 / 3, 1), 'repeated rouge-l');
  // finetune_demo's "好的好的好的好的" against "好的": ROUGE-L 40 (F = 0.3999999968), not 100.
  close(rougeChinese('好的 好的 好的 好的', '好的')['rouge-l'].f, f(1 / 4, 1), 'four times 好的');
});

test('ROUGE-L is one plain LCS over all words, across the sentences cut at Chinese end punctuation', () => {
  assert.deepEqual(cutSentences('你好 。 谢谢！ 再见'), ['你好 。', ' 谢谢！', ' 再见']);
  // A union of per-sentence LCSs would find all 3 words; one LCS over the whole lists finds 1.
  const s = rougeChinese('你好 。 谢谢', '谢谢 。 你好');
  close(s['rouge-l'].r, 1 / 3, 'rouge-l recall');
  close(s['rouge-2'].f, 0, 'rouge-2');
  // An LCS may run across a sentence boundary: 4 of 5 words in order.
  close(rougeChinese('a 。 b c d', 'a 。 b x d')['rouge-l'].r, 4 / 5, 'across sentences');
});

test('ROUGE of an empty hypothesis or reference is 0 (the package raises)', () => {
  for (const [h, r] of [['', 'a'], ['a', ''], ['   ', 'a'], ['', '']]) {
    const s = rougeChinese(h!, r!);
    assert.deepEqual([s['rouge-1'].f, s['rouge-2'].f, s['rouge-l'].f], [0, 0, 0], `${JSON.stringify(h)} vs ${JSON.stringify(r)}`);
  }
});

test('finetune_demo scores: jieba words, 0-100, a pair with an empty text scores 0 and is marked empty', () => {
  const zero = { 'rouge-1': 0, 'rouge-2': 0, 'rouge-l': 0, 'bleu-4': 0 };
  const same = scoreExample('您好，请问有什么可以帮您？', '您好，请问有什么可以帮您？');
  assert.deepEqual(same, { scores: { 'rouge-1': 100, 'rouge-2': 100, 'rouge-l': 100, 'bleu-4': 1 }, empty: false });
  assert.deepEqual(scoreExample('', '您好'), { scores: zero, empty: true });
  assert.deepEqual(scoreExample('  \n', '您好'), { scores: zero, empty: true });
  assert.deepEqual(scoreExample('您好', '\t'), { scores: zero, empty: true });
  // Empty after Python's strip, which takes U+001C and U+0085 and leaves the BOM.
  assert.deepEqual(scoreExample('\x1c\x85 ', '您好'), { scores: zero, empty: true });
  assert.equal(scoreExample('\ufeff', '您好').empty, false);
  const mean = meanScores([same.scores, scoreExample('', '您好').scores]);
  assert.equal(mean['rouge-1'], 50);
  assert.deepEqual(meanScores([]), zero);
});

test("Python's whitespace: strip, rstrip and split take U+001C–U+001F and U+0085, and not the BOM", () => {
  assert.equal(pyStrip('\x1c\x1d a b\x1e\x1f\x85\u3000'), 'a b');
  assert.equal(pyStrip('\ufeff您好\ufeff'), '\ufeff您好\ufeff');
  assert.equal(pyStrip(' \t\n\v\f\r\xa0\u2028'), '');
  assert.equal(pyRstrip('  a \x85'), '  a');
  assert.deepEqual(pySplit('\x1ca\x85\x85b\ufeffc  '), ['a', 'b\ufeffc']);
});

test('words as Python jieba cuts them: its rules for Latin and digits, its tie rule, characters beyond U+9FD5', () => {
  // Inside a run of unknown characters, Latin/digit words and every other character stand alone.
  assert.deepEqual(segment('ship in 2-3 days'), ['ship', ' ', 'in', ' ', '2', '-', '3', ' ', 'days']);
  assert.deepEqual(segment('2019-06-18'), ['2019', '-', '06', '-', '18']);
  assert.deepEqual(segment('GB+6'), ['GB', '+', '6']);
  assert.deepEqual(segment('3.5% C++'), ['3.5%', ' ', 'C++']);
  // Two routes with the same score: Python's max over (score, end) takes the later end.
  assert.deepEqual(segment('亲亲亲 在吗'), ['亲亲', '亲', ' ', '在', '吗']);
  // Beyond U+9FD5 (and outside the BMP) a character is a word of its own.
  assert.deepEqual(segment('㐀㐁好的'), ['㐀', '㐁', '好', '的']);
  assert.deepEqual(segment('𠀀𠀁亲'), ['𠀀', '𠀁', '亲']);
  // Whitespace: \r\n is one word, other whitespace characters one word each.
  assert.deepEqual(segment('好\r\n\x85好'), ['好', '\r\n', '\x85', '好']);
  assert.deepEqual(segment(''), []);
});

test('eval loss is the mean per reference token', () => {
  close(evalLoss([{ loss: 1, reference_tokens: 1 }, { loss: 4, reference_tokens: 3 }]), 13 / 4, 'weighted');
  assert.ok(Number.isNaN(evalLoss([])));
});
