// ROUGE-1, ROUGE-2 and ROUGE-L as the `rouge_chinese` package computes them
// (`Rouge().get_scores(hyp, ref)` on space-joined words), quirks included, so
// the numbers compare with finetune_demo's:
// - the text is cut into sentences at Chinese end punctuation (its cut_sent),
//   each sentence's whitespace collapsed, then split on single spaces (so a
//   whitespace-only sentence yields one empty-string word);
// - n-grams are counted as *sets* (a repeated n-gram counts once, on both sides);
// - ROUGE-L is summary-level: per reference sentence, the union of the LCS words
//   with every hypothesis sentence, over the numbers of distinct words;
// - F = 2PR / (P + R + 1e-8).

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
  return text
    .replace(/([。！？?])([^”’])/g, '$1\n$2')
    .replace(/(\.{6})([^”’])/g, '$1\n$2')
    .replace(/(…{2})([^”’])/g, '$1\n$2')
    .replace(/([。！？?][”’])([^，。！？?])/g, '$1\n$2')
    .trimEnd()
    .split('\n');
}

function sentencesOf(text: string): string[] {
  return cutSentences(text)
    .filter((s) => s.length > 0)
    .map((s) => s.split(/\s+/).filter(Boolean).join(' '));
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

/** The words of one longest common subsequence of x and y, reconstructed with the package's tie-breaking. */
function lcsWords(x: readonly string[], y: readonly string[]): string[] {
  const w = y.length + 1;
  const table = new Int32Array((x.length + 1) * w);
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      table[i * w + j] = x[i - 1] === y[j - 1] ? table[(i - 1) * w + j - 1]! + 1 : Math.max(table[(i - 1) * w + j]!, table[i * w + j - 1]!);
    }
  }
  const words: string[] = [];
  let [i, j] = [x.length, y.length];
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      words.push(x[i - 1]!);
      i--;
      j--;
    } else if (table[(i - 1) * w + j]! > table[i * w + j - 1]!) i--;
    else j--;
  }
  return words;
}

function rougeL(hyp: readonly string[], ref: readonly string[]): RougeScore {
  const union = new Set<string>();
  let llcs = 0;
  for (const refSentence of ref) {
    const before = union.size;
    const refWords = refSentence.split(' ');
    for (const hypSentence of hyp) for (const word of lcsWords(refWords, hypSentence.split(' '))) union.add(word);
    llcs += union.size - before;
  }
  const m = new Set(wordsOf(ref)).size;
  const n = new Set(wordsOf(hyp)).size;
  const p = llcs / n;
  const r = llcs / m;
  return { f: 2 * ((p * r) / (p + r + 1e-8)), p, r };
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
