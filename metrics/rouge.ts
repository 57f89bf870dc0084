// ROUGE-1, ROUGE-2 and ROUGE-L as the `rouge_chinese` package computes them
// (`Rouge().get_scores(hyp, ref)` on space-joined words), quirks included, so
// the numbers compare with finetune_demo's:
// - the text is cut into sentences at Chinese end punctuation (its cut_sent),
//   each sentence's whitespace (Python's) collapsed, then split on single spaces
//   (so a whitespace-only sentence yields one empty-string word);
// - ROUGE-1/2 count n-grams as *sets* (a repeated n-gram counts once, on both sides);
// - ROUGE-L is one plain longest common subsequence over all the words of each
//   side, over the word counts with repeats (version 1.0.3 no longer takes the
//   summary-level union LCS its name and docstring still speak of);
// - F = 2PR / (P + R + 1e-8).
import { pyRstrip, pySplit } from './python-text.ts';

export interface RougeScore {
  readonly f: number;
  readonly p: number;
  readonly r: number;
}

export interface RougeScores {
  readonly 'rouge-1': RougeScore;
  readonly 'rouge-2': RougeScore;
  readonly 'rouge-l': RougeScore;
}

const ZERO: RougeScore = { f: 0, p: 0, r: 0 };

/** rouge_chinese's cut_sent: a line break after end punctuation (and after a closing quote that follows it). */
export function cutSentences(text: string): string[] {
  const cut = text
    .replace(/([。！？?])([^”’])/gu, '$1\n$2')
    .replace(/(\.{6})([^”’])/gu, '$1\n$2')
    .replace(/(…{2})([^”’])/gu, '$1\n$2')
    .replace(/([。！？?][”’])([^，。！？?])/gu, '$1\n$2');
  return pyRstrip(cut).split('\n');
}

function sentencesOf(text: string): string[] {
  return cutSentences(text)
    .filter((s) => s.length > 0)
    .map((s) => pySplit(s).join(' '));
}

const wordsOf = (sentences: readonly string[]): string[] => sentences.flatMap((s) => s.split(' '));

function ngramSet(words: readonly string[], n: number): Set<string> {
  const grams = new Set<string>();
  for (let i = 0; i + n <= words.length; i++) grams.add(words.slice(i, i + n).join('\u0001'));
  return grams;
}

function fScore(overlap: number, hypCount: number, refCount: number): RougeScore {
  const p = hypCount === 0 ? 0 : overlap / hypCount;
  const r = refCount === 0 ? 0 : overlap / refCount;
  return { f: 2 * ((p * r) / (p + r + 1e-8)), p, r };
}

function rougeN(hyp: readonly string[], ref: readonly string[], n: number): RougeScore {
  const h = ngramSet(wordsOf(hyp), n);
  const r = ngramSet(wordsOf(ref), n);
  let overlap = 0;
  for (const gram of h) if (r.has(gram)) overlap++;
  return fScore(overlap, h.size, r.size);
}

/** The length of a longest common subsequence of x and y (repeated words count each time). */
function lcsLength(x: readonly string[], y: readonly string[]): number {
  let previous = new Int32Array(y.length + 1);
  let current = new Int32Array(y.length + 1);
  for (const word of x) {
    for (let j = 1; j <= y.length; j++) {
      current[j] = word === y[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    }
    [previous, current] = [current, previous];
  }
  return previous[y.length]!;
}

function rougeL(hyp: readonly string[], ref: readonly string[]): RougeScore {
  const hypWords = wordsOf(hyp);
  const refWords = wordsOf(ref);
  return fScore(lcsLength(refWords, hypWords), hypWords.length, refWords.length);
}

/**
 * Scores of a hypothesis against a reference, both words joined by spaces. Where the package
 * raises (an empty hypothesis or reference), every score is 0.
 */
export function rougeChinese(hypothesis: string, reference: string): RougeScores {
  const hyp = sentencesOf(hypothesis);
  const ref = sentencesOf(reference);
  if (hyp.length === 0 || ref.length === 0) return { 'rouge-1': ZERO, 'rouge-2': ZERO, 'rouge-l': ZERO };
  return { 'rouge-1': rougeN(hyp, ref, 1), 'rouge-2': rougeN(hyp, ref, 2), 'rouge-l': rougeL(hyp, ref) };
}
