// The outputs from the parts (parts.ts): joined as they are when they follow
// each other in order, as the ranges' parts do; else merged in order of their
// lines' numbers, leaving out the lines of sessions grouped again. The counts
// come from the indexes of the lines the outputs hold.
import { rename } from 'node:fs/promises';
import { JoinedFile, joinFiles } from '../../formats/ranges.ts';
import { LineWriter, readLineBuffers } from '../../formats/lines.ts';
import type { Part, Parts } from './parts.ts';

// Every part is read at once: small reads keep that to a few MiB however many parts there are.
const CURSOR_READ_BYTES = 1 << 16;

/**
 * Each output joined from its parts, which follow each other in order, appended as each is ready while the
 * later ones are still being written. A single part is moved, and is then the output.
 */
export async function joinWhenReady(ready: readonly Promise<readonly Part[]>[], outputs: readonly string[]): Promise<void> {
  if (ready.length === 1) {
    const parts = await ready[0]!;
    await Promise.all(outputs.map((output, index) => move(parts[index]!.file, output)));
    return;
  }
  const joined: JoinedFile[] = [];
  try {
    for (const output of outputs) joined.push(await JoinedFile.open(output));
    for (const parts of ready) for (const [index, part] of (await parts).entries()) await joined[index]!.append(part.file);
  } finally {
    await Promise.all(joined.map((file) => file.close()));
  }
}

/** Renamed, or copied where the scratch folder is on another file system. */
export async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await joinFiles(to, [from]);
  }
}

/** The parts' lines in order of their numbers into `output`, without those of the sessions in `leaveOut`. */
export async function mergeParts(parts: readonly Part[], leaveOut: ReadonlySet<number>, output: string): Promise<void> {
  const cursors = await Promise.all(parts.map((part) => PartCursor.open(part, leaveOut)));
  const out = new LineWriter(output);
  try {
    for (;;) {
      let best: PartCursor | undefined;
      for (const cursor of cursors) {
        if (cursor.line && (!best || cursor.seq < best.seq)) best = cursor;
      }
      if (!best) break;
      const wait = out.writeBytes('', best.line!);
      if (wait) await wait;
      await best.advance();
    }
  } finally {
    await out.close();
  }
}

export interface OutputCounts {
  readonly kept: number;
  readonly messages: number;
  readonly conversations: number;
  readonly byReason: Map<string, number>;
}

/** What the outputs hold: the parts' lines but those of the sessions in `leaveOut`. */
export function countOutputs(parts: readonly Parts[], leaveOut: ReadonlySet<number>): OutputCounts {
  let kept = 0;
  let messages = 0;
  let conversations = 0;
  const byReason = new Map<string, number>();
  for (const { conversations: c, rejected: r } of parts) {
    for (let i = 0; i < c.seqs.length; i++) {
      if (leaveOut.has(c.hashes[i]!)) continue;
      conversations++;
      kept += c.counts[0][i]!;
      messages += c.counts[1][i]!;
    }
    for (let i = 0; i < r.seqs.length; i++) {
      if (leaveOut.has(r.hashes[i]!)) continue;
      const reason = r.reasons[r.counts[0][i]!]!;
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
  }
  return { kept, messages, conversations, byReason };
}

/** A part's current line as bytes, read a batch at a time so that moving on rarely awaits; left-out lines are passed over. */
class PartCursor {
  #batch: readonly Buffer[] = [];
  #index = 0;
  #read = 0;
  /** Undefined at the end of the part. */
  line: Buffer | undefined;
  seq = 0;

  private constructor(
    readonly part: Part,
    readonly leaveOut: ReadonlySet<number>,
    readonly batches: AsyncGenerator<Buffer[]>,
  ) {}

  static async open(part: Part, leaveOut: ReadonlySet<number>): Promise<PartCursor> {
    const cursor = new PartCursor(part, leaveOut, readLineBuffers(part.file, CURSOR_READ_BYTES));
    await cursor.advance();
    return cursor;
  }

  async advance(): Promise<void> {
    do {
      if (this.#index >= this.#batch.length) {
        const next = await this.batches.next();
        this.#batch = next.done ? [] : next.value;
        this.#index = 0;
      }
      this.line = this.#batch[this.#index++];
      this.seq = this.part.seqs[this.#read] ?? 0;
    } while (this.line && this.leaveOut.has(this.part.hashes[this.#read++]!));
  }
}
