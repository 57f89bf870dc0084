// Successive halving: every trial trains a few steps, the better half by eval
// loss goes on with twice the steps, and so on until one rung reaches the full
// max_steps. The train stage continues from its checkpoints when only
// max_steps grows, so a survivor pays only for the extra steps.

/** max_steps of each rung, the last being `finalSteps`: enough rungs to halve `trials` down to one. */
export function rungSteps(trials: number, finalSteps: number): number[] {
  const rungs = Math.ceil(Math.log2(Math.max(1, trials)));
  return Array.from({ length: rungs + 1 }, (_, r) => Math.max(1, Math.round(finalSteps / 2 ** (rungs - r))));
}

/** The better half (rounded up), by a score where lower is better; unscored (failed) trials never go on. */
export function betterHalf<T>(trials: readonly T[], score: (t: T) => number | null): T[] {
  const scored = trials.filter((t) => score(t) !== null).sort((a, b) => score(a)! - score(b)!);
  return scored.slice(0, Math.ceil(trials.length / 2));
}
