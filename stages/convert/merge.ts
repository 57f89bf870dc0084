// Parts (parts.ts) merged into one file in order of their lines' numbers. Parts
// that follow each other in order, as the ranges' parts do when no session was
// spilled, are joined as they are, each as soon as it is written.
import { rename } from 'node:fs/promises';
import { JoinedFile, joinFiles } from '../../formats/ranges.ts';
import { LineWriter, readLineBuffers } from '../../formats/lines.ts';
import type { Part } from './parts.ts';

// Every part is read at once: small reads keep that to a few MiB however many parts there are.
const CURSOR_READ_BYTES = 1 << 16;

/**
 * Each output joined from its parts, which follow each other in order, appended as each is ready while
 * the later ones are still being written. A single part becomes the output.
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
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await joinFiles(to, [from]);
  }
}

export async function mergeParts(parts: readonly Part[], output: string): Promise<void> {
  const filled = parts.filter((part) => part.seqs.length > 0);
  if (filled.every((part, index) => index === 0 || part.seqs[0]! > filled[index - 1]!.seqs.at(-1)!)) {
    await joinFiles(output, filled.map((part) => part.file));
    return;
  }
  const cursors = await Promise.all(filled.map((part) => PartCursor.open(part)));
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

/** A part's current line as bytes, read a batch at a time so that moving on rarely awaits. */
class PartCursor {
  #batch: readonly Buffer[] = [];
  #index = 0;
  #read = 0;
  /** Undefined at the end of the part. */
  line: Buffer | undefined;
  seq = 0;

  private constructor(
    readonly part: Part,
    readonly batches: AsyncGenerator<Buffer[]>,
  ) {}

  static async open(part: Part): Promise<PartCursor> {
    const cursor = new PartCursor(part, readLineBuffers(part.file, CURSOR_READ_BYTES));
    await cursor.advance();
    return cursor;
  }

  async advance(): Promise<void> {
    if (this.#index >= this.#batch.length) {
      const next = await this.batches.next();
      this.#batch = next.done ? [] : next.value;
      this.#index = 0;
    }
    this.line = this.#batch[this.#index++];
    this.seq = this.part.seqs[this.#read++] ?? 0;
  }
}
