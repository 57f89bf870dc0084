// rejected.jsonl: every input unit a stage does not pass on, with where it came
// from and why, so "nothing lost" can be checked by reading one file. Counts per
// reason feed the stage summary.
import { JsonlWriter } from './jsonl.ts';
import type { Location } from './record.ts';

export interface Rejected extends Location {
  readonly reason: string;
  readonly session?: string;
  /** The offending content (a cell, a JSONL line), cut to a readable length. */
  readonly detail?: string;
}

/** `reason ×count, …` sorted by count (ties in first-seen order), or `none`. */
export function describeReasons(byReason: ReadonlyMap<string, number>): string {
  const parts = [...byReason].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${reason} ×${count}`);
  return parts.length ? parts.join(', ') : 'none';
}

export class RejectLog {
  readonly #writer: JsonlWriter;
  readonly byReason = new Map<string, number>();
  /** The first entry of each reason since this map was last cleared: an example to show. */
  readonly firstByReason = new Map<string, Rejected>();
  total = 0;

  constructor(file: string) {
    this.#writer = new JsonlWriter(file);
  }

  /** A promise only when the disk is behind. */
  reject(entry: Rejected): Promise<void> | undefined {
    this.total++;
    this.byReason.set(entry.reason, (this.byReason.get(entry.reason) ?? 0) + 1);
    if (!this.firstByReason.has(entry.reason)) this.firstByReason.set(entry.reason, entry);
    return this.#writer.write(entry);
  }

  /** `reason ×count, …` sorted by count, or `none`. */
  describe(): string {
    return describeReasons(this.byReason);
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}
