// Sentence BLEU-4 exactly as NLTK's `sentence_bleu(references, hypothesis,
// smoothing_function=SmoothingFunction().method3)` computes it: clipped n-gram
// precisions with NLTK's unreduced fractions, NIST geometric smoothing of zero
// counts, and the brevity penalty against the closest reference length.

const ORDERS = 4;

function ngramCounts(words: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  // \u0001 never occurs inside a word, so joined n-grams cannot collide.
  for (let i = 0; i + n <= words.length; i++) {
    const key = words.slice(i, i + n).join('\u0001');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** NLTK's modified_precision, as the (numerator, denominator) pair it keeps unreduced. */
function modifiedPrecision(references: readonly (readonly string[])[], hypothesis: readonly string[], n: number): [number, number] {
  const counts = ngramCounts(hypothesis, n);
  const maxRef = new Map<string, number>();
  for (const reference of references) {
    for (const [gram, count] of ngramCounts(reference, n)) maxRef.set(gram, Math.max(maxRef.get(gram) ?? 0, count));
  }
  let clipped = 0;
  let total = 0;
  for (const [gram, count] of counts) {
    clipped += Math.min(count, maxRef.get(gram) ?? 0);
    total += count;
  }
  return [clipped, Math.max(1, total)];
}

function closestReferenceLength(references: readonly (readonly string[])[], hypLength: number): number {
  let best = references[0]?.length ?? 0;
  for (const { length } of references) {
    const [d, bestD] = [Math.abs(length - hypLength), Math.abs(best - hypLength)];
    if (d < bestD || (d === bestD && length < best)) best = length;
  }
  return best;
}

function brevityPenalty(referenceLength: number, hypLength: number): number {
  if (hypLength > referenceLength) return 1;
  if (hypLength === 0) return 0;
  return Math.exp(1 - referenceLength / hypLength);
}

/** BLEU-4 in [0, 1] of one hypothesis against its references (lists of words). */
export function sentenceBleu(references: readonly (readonly string[])[], hypothesis: readonly string[]): number {
  const fractions = Array.from({ length: ORDERS }, (_, i) => modifiedPrecision(references, hypothesis, i + 1));
  // NLTK returns 0 outright when not a single unigram matches (no smoothing applies then).
  if (fractions[0]![0] === 0) return 0;
  const bp = brevityPenalty(closestReferenceLength(references, hypothesis.length), hypothesis.length);
  // method3: the k-th zero precision becomes 1 / (2^k * denominator).
  let k = 1;
  const logSum = fractions.reduce((sum, [numerator, denominator]) => {
    const p = numerator === 0 ? 1 / (2 ** k++ * denominator) : numerator / denominator;
    return sum + Math.log(p) / ORDERS;
  }, 0);
  return bp * Math.exp(logSum);
}
