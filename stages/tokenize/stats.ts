// Token statistics of one split, for the stage summary: how long examples are
// before truncation, how many the limit cut, and how much of the data is labels.
export class SplitStats {
  conversations = 0;
  rejected = 0;
  examples = 0;
  truncated = 0;
  tokens = 0;
  labelTokens = 0;
  readonly #lengths: number[] = [];

  /** `fullLength`: the example's length before truncation. */
  addLength(fullLength: number): void {
    this.#lengths.push(fullLength);
  }

  percentile(p: number): number {
    if (this.#lengths.length === 0) return 0;
    const sorted = [...this.#lengths].sort((a, b) => a - b);
    // Nearest-rank percentile: an actual example length, never an interpolation.
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  }

  get maxLength(): number {
    return this.#lengths.reduce((a, b) => Math.max(a, b), 0);
  }
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function describeTrainSplit(split: string, s: SplitStats, limit: number): string {
  return (
    `${split}: ${s.conversations} conversations → ${s.examples} examples, ${s.rejected} rejected; ` +
    `tokens p50 ${s.percentile(50)} / p95 ${s.percentile(95)} / max ${s.maxLength}; ` +
    `${percent(s.truncated, s.examples)} truncated at ${limit}; ${percent(s.labelTokens, s.tokens)} of tokens are labels`
  );
}

export function describeEvalSplit(split: string, s: SplitStats): string {
  return (
    `${split}: ${s.conversations} conversations → ${s.examples} eval pairs, ${s.rejected} rejected; ` +
    `prompt tokens p50 ${s.percentile(50)} / p95 ${s.percentile(95)} / max ${s.maxLength}`
  );
}
