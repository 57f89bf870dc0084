// Where a conversation goes depends only on its session id and the seed: two
// uniform numbers from one hash, `u` choosing the split and `w` the subset.
// Appending data therefore never moves an existing conversation, and a smaller
// subset is always inside a larger one.
import { createHash } from 'node:crypto';

export const SPLITS = ['train', 'dev', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

const SCALE = 2 ** 48;

export function draw(seed: number, session: string): { u: number; w: number } {
  const digest = createHash('sha256').update(`${seed}\0${session}`).digest();
  return { u: digest.readUIntBE(0, 6) / SCALE, w: digest.readUIntBE(6, 6) / SCALE };
}

/** Upper bounds of `u` for test and dev (test takes the lowest draws, dev the next, train the rest). */
export interface Cuts {
  readonly test: number;
  readonly dev: number;
}

export function splitOf(u: number, cuts: Cuts): SplitName {
  return u < cuts.test ? 'test' : u < cuts.dev ? 'dev' : 'train';
}

export function cutsFromRatios(ratios: Readonly<Record<SplitName, number>>): Cuts {
  const total = ratios.train + ratios.dev + ratios.test;
  return { test: ratios.test / total, dev: (ratios.test + ratios.dev) / total };
}

/** Cuts that give exactly `counts` conversations to test and dev, from all draws sorted ascending. */
export function cutsFromCounts(sortedU: readonly number[], counts: { readonly dev: number; readonly test: number }): Cuts {
  return { test: boundAfter(sortedU, counts.test), dev: boundAfter(sortedU, counts.test + counts.dev) };
}

/** A bound below which exactly the `n` smallest sorted values fall. */
export function boundAfter(sorted: readonly number[], n: number): number {
  return n <= 0 ? 0 : n >= sorted.length ? Infinity : sorted[n]!;
}
