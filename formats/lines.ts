// Plain text lines on disk, batched: lines are encoded straight into a 64 KiB
// buffer and each full buffer is one stream write. Per-line stream writes measured
// 5 µs a line; batching lines as one concatenated string cost ~1 µs a line to
// flatten and encode, most of a million-row CSV ingest after parsing. Lines whose
// chars are bytes (latin1) are the exception: for them one concatenated string per
// batch is the cheaper way, as encoding it is a copy; and a writer that builds
// a line from bytes writes it into the batch itself (writeInto). Used for
// records, conversations, rejects and convert's scratch files.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

// Small enough for convert's 256 bucket writers at once (16 MiB), large enough that stream writes are rare.
const BATCH_BYTES = 1 << 16;
// UTF-8 takes at most 3 bytes per UTF-16 code unit (a 4-byte character is a surrogate pair).
const MAX_BYTES_PER_UNIT = 3;
const NEWLINE = 0x0a;
const CR = 0x0d;

export class LineWriter {
  readonly #stream: WriteStream;
  #batch: Buffer = Buffer.allocUnsafe(BATCH_BYTES);
  #used = 0;
  /** Batches the stream has written, free to fill again. */
  readonly #written: Buffer[] = [];
  /** latin1 lines waiting, after the batch's bytes. */
  #latin1 = '';
  count = 0;

  /**
   * `queueBytes`: how much may wait for the disk before write() asks the caller to wait.
   * 1 MiB keeps a single writer from pausing; convert's hundreds of bucket writers take less.
   */
  constructor(file: string, queueBytes = 1 << 20) {
    this.#stream = createWriteStream(file, { highWaterMark: queueBytes });
  }

  /**
   * A promise only when the disk is behind and the caller must wait: most lines cost no await at all.
   * `latin1` writes each char as one byte: for strings that hold UTF-8 bytes already.
   */
  write(line: string, encoding: 'utf8' | 'latin1' = 'utf8'): Promise<void> | undefined {
    if (encoding === 'latin1') {
      this.count++;
      this.#latin1 += `${line}\n`;
      return this.#latin1.length >= BATCH_BYTES ? this.#waitUnless(this.#flush()) : undefined;
    }
    const room = line.length * MAX_BYTES_PER_UNIT + 1;
    let ok = this.#makeRoom(room);
    if (room > BATCH_BYTES) ok = this.#stream.write(`${line}\n`) && ok;
    else {
      this.#used += this.#batch.write(line, this.#used);
      this.#batch[this.#used++] = NEWLINE;
    }
    return this.#waitUnless(ok);
  }

  /**
   * `head` (ASCII) and then `body[start, end)` as one line: copies a line read as bytes
   * without decoding and re-encoding it (nor making a Buffer of it).
   */
  writeBytes(head: string, body: Buffer, start = 0, end = body.length): Promise<void> | undefined {
    const room = head.length + end - start + 1;
    let ok = this.#makeRoom(room);
    if (room > BATCH_BYTES) ok = this.#stream.write(Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(start, end), Buffer.of(NEWLINE)])) && ok;
    else {
      this.#used += this.#batch.write(head, this.#used, 'latin1');
      this.#used += body.copy(this.#batch, this.#used, start, end);
      this.#batch[this.#used++] = NEWLINE;
    }
    return this.#waitUnless(ok);
  }

  /**
   * A line the caller writes straight into the batch: `line.writeInto(batch, at)` writes at most `size` bytes
   * (its line break included) from `at` and returns where it stopped. No string is made for it.
   */
  writeInto(size: number, line: { writeInto(batch: Buffer, at: number): number }): Promise<void> | undefined {
    if (size > BATCH_BYTES) {
      const bytes = Buffer.allocUnsafe(size);
      return this.writeBytes('', bytes, 0, line.writeInto(bytes, 0) - 1);
    }
    const ok = this.#makeRoom(size);
    this.#used = line.writeInto(this.#batch, this.#used);
    return this.#waitUnless(ok);
  }

  /** Counts a line and flushes the batch when the line may not fit, or when latin1 lines wait; false when the disk is behind. */
  #makeRoom(room: number): boolean {
    this.count++;
    return this.#used + room > BATCH_BYTES || this.#latin1 !== '' ? this.#flush() : true;
  }

  #waitUnless(ok: boolean): Promise<void> | undefined {
    return ok ? undefined : once(this.#stream, 'drain').then(() => undefined);
  }

  /** Hands the batch and then the latin1 lines to the stream (which keeps them until written), and starts a new batch. */
  #flush(): boolean {
    let ok = true;
    if (this.#used > 0) {
      const batch = this.#batch;
      // Written batches are used again: fresh ones were garbage the collector seldom came for, and memory grew with the output.
      ok = this.#stream.write(batch.subarray(0, this.#used), () => this.#written.push(batch));
      this.#batch = this.#written.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
      this.#used = 0;
    }
    if (this.#latin1 !== '') {
      ok = this.#stream.write(Buffer.from(this.#latin1, 'latin1')) && ok;
      this.#latin1 = '';
    }
    return ok;
  }

  async close(): Promise<void> {
    this.#flush();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}

/** Where readline breaks lines. */
export const LINE_BREAK = /\r?\n|\r(?!\n)/;

/**
 * The lines of a UTF-8 text file, a batch per 1 MiB read, split as readline splits
 * them (\n, \r\n or a lone \r; a BOM is kept). readline's per-line events and
 * regex cost more than the JSON.parse of each line on a million-record file.
 * With `range`, only its bytes: a range that starts at a line start and ends after
 * a \n (formats/ranges.ts) holds whole lines, split as the whole file's are.
 */
export async function* readLineBatches(file: string, range?: { readonly start: number; readonly end: number }): AsyncGenerator<string[]> {
  // TextDecoder, not StringDecoder: it decoded a million records' Chinese text in half the time.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const split = (text: string): string[] => (text.includes('\r') ? text.split(LINE_BREAK) : text.split('\n'));
  let carry = '';
  if (range && range.end <= range.start) return;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, ...(range && { start: range.start, end: range.end - 1 }) })) {
    const text = carry + decoder.decode(chunk as Buffer, { stream: true });
    // A trailing \r may be the first half of a \r\n split across reads.
    const cut = text.endsWith('\r') ? text.length - 1 : text.length;
    const lines = split(text.slice(0, cut));
    carry = lines.pop()! + text.slice(cut);
    if (lines.length > 0) yield lines;
  }
  const rest = split(carry + decoder.decode());
  // Text after the last line break is a line; an empty string there is not.
  if (rest.at(-1) === '') rest.pop();
  if (rest.length > 0) yield rest;
}

/**
 * The lines of a file as bytes, a batch per read (1 MiB unless `readBytes` says less),
 * split at \n (a \r before it is dropped; a lone \r stays in the line): for copying
 * lines without decoding them.
 */
export async function* readLineBuffers(file: string, readBytes = 1 << 20): AsyncGenerator<Buffer[]> {
  let carry: Buffer | undefined;
  const line = (bytes: Buffer): Buffer => (bytes.at(-1) === CR ? bytes.subarray(0, -1) : bytes);
  for await (const read of createReadStream(file, { highWaterMark: readBytes })) {
    const chunk = carry ? Buffer.concat([carry, read as Buffer]) : (read as Buffer);
    const lines: Buffer[] = [];
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; start = end + 1, end = chunk.indexOf(NEWLINE, start)) lines.push(line(chunk.subarray(start, end)));
    carry = start < chunk.length ? chunk.subarray(start) : undefined;
    if (lines.length > 0) yield lines;
  }
  if (carry) yield [line(carry)];
}
