// Byte ranges of a text file for workers that read parts of it at once, and
// joining the parts they write back into one file in order.
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const NEWLINE = 0x0a;
const PROBE_BYTES = 1 << 16;

/** Ranges of about `rangeBytes` each, every one starting at a line start: cut after the first \n at or after each mark. */
export async function lineRanges(file: string, size: number, rangeBytes: number): Promise<ByteRange[]> {
  const handle = await open(file, 'r');
  try {
    const cuts: number[] = [0];
    const probe = Buffer.alloc(PROBE_BYTES);
    for (let mark = Math.max(1, rangeBytes); mark < size; ) {
      let cut = -1;
      for (let at = Math.max(mark - 1, cuts.at(-1)!); at < size && cut === -1; at += PROBE_BYTES) {
        const { bytesRead } = await handle.read(probe, 0, PROBE_BYTES, at);
        const newline = probe.subarray(0, bytesRead).indexOf(NEWLINE);
        if (newline !== -1) cut = at + newline + 1;
      }
      if (cut === -1 || cut >= size) break;
      if (cut > cuts.at(-1)!) cuts.push(cut);
      mark = Math.max(cut, mark) + rangeBytes;
    }
    cuts.push(size);
    return cuts.slice(1).map((end, index) => ({ start: cuts[index]!, end }));
  } finally {
    await handle.close();
  }
}

const CR = 0x0d;
const COUNT_BYTES = 1 << 23;

/**
 * The number of each range's first line, as readline numbers the whole file's lines (\n, \r\n and a
 * lone \r each end one): ranges that start after a \n, as lineRanges cuts them, in order.
 */
export async function firstLines(file: string, ranges: readonly ByteRange[]): Promise<number[]> {
  const handle = await open(file, 'r');
  try {
    const numbers: number[] = [];
    const buffer = Buffer.allocUnsafe(COUNT_BYTES);
    let breaks = 0;
    let at = 0;
    // Whether the byte before `at` was a CR: a CR and an LF read apart are still one line break.
    let afterCr = false;
    for (const { start } of ranges) {
      while (at < start) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(COUNT_BYTES, start - at), at);
        if (bytesRead === 0) break;
        const bytes = buffer.subarray(0, bytesRead);
        for (let lf = bytes.indexOf(NEWLINE); lf !== -1; lf = bytes.indexOf(NEWLINE, lf + 1)) breaks++;
        for (let cr = bytes.indexOf(CR); cr !== -1; cr = bytes.indexOf(CR, cr + 1)) if (cr + 1 < bytesRead && bytes[cr + 1] !== NEWLINE) breaks++;
        // A CR ending this read and one ending the range before: the next byte decides.
        if (afterCr && bytes[0] !== NEWLINE) breaks++;
        afterCr = bytes[bytesRead - 1] === CR;
        at += bytesRead;
      }
      numbers.push(breaks + 1);
    }
    return numbers;
  } finally {
    await handle.close();
  }
}

const COPY_BYTES = 1 << 23;

/** Writes the parts, in order, into `target`: after what it holds with `append`, else in its place. */
export async function joinFiles(target: string, parts: readonly string[], append = false): Promise<void> {
  const joined = await JoinedFile.open(target, append);
  try {
    for (const part of parts) await joined.append(part);
  } finally {
    await joined.close();
  }
}

/** A file written as parts in order, appended as each is ready, so joining overlaps the work of writing the later ones. */
export class JoinedFile {
  readonly #buffer = Buffer.allocUnsafe(COPY_BYTES);
  /** Bytes written so far. */
  size: number;

  private constructor(
    readonly out: FileHandle,
    size: number,
  ) {
    this.size = size;
  }

  static async open(target: string, append = false): Promise<JoinedFile> {
    const out = await open(target, append ? 'a' : 'w');
    return new JoinedFile(out, append ? (await out.stat()).size : 0);
  }

  async append(part: string): Promise<void> {
    const input = await open(part, 'r');
    try {
      for (let read = await input.read(this.#buffer, 0, COPY_BYTES); read.bytesRead > 0; read = await input.read(this.#buffer, 0, COPY_BYTES)) {
        await this.out.write(this.#buffer, 0, read.bytesRead, this.size);
        this.size += read.bytesRead;
      }
    } finally {
      await input.close();
    }
  }

  /** Drops what was written after `size` bytes. */
  async truncate(size: number): Promise<void> {
    await this.out.truncate(size);
    this.size = size;
  }

  close(): Promise<void> {
    return this.out.close();
  }
}
