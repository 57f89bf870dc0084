// A byte range of a file read piece by piece into one buffer that is reused:
// each read lands after the bytes the caller has not consumed yet (a row or line
// cut by the read). Reading a large export through fresh buffers left hundreds
// of megabytes of them for the collector, which runs seldom when the reader
// makes no JavaScript garbage: memory grew with the file.
import { open, type FileHandle } from 'node:fs/promises';
import type { ByteRange } from './ranges.ts';

const READ_BYTES = 1 << 20;

/** Whether bytes start with UTF-8's byte order mark. */
export function hasBom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

export class ByteReader {
  #buffer = Buffer.allocUnsafe(2 * READ_BYTES);
  /** Bytes held: [#start, #length) are not consumed yet. */
  #start = 0;
  #length = 0;
  /** The file offset of #buffer[0]. */
  #at: number;
  #readTo: number;

  private constructor(
    readonly handle: FileHandle,
    readonly range: ByteRange,
  ) {
    this.#at = range.start;
    this.#readTo = range.start;
  }

  static async open(file: string, range: ByteRange): Promise<ByteReader> {
    return new ByteReader(await open(file, 'r'), range);
  }

  /** The bytes not consumed yet, from the file offset `at`. */
  get bytes(): Buffer {
    return this.#buffer.subarray(this.#start, this.#length);
  }

  get at(): number {
    return this.#at + this.#start;
  }

  /** Where the reads have reached; the range's end once all is read. */
  get readTo(): number {
    return this.#readTo;
  }

  get done(): boolean {
    return this.#readTo >= this.range.end;
  }

  /** Drops the first `count` bytes of `bytes`. */
  consume(count: number): void {
    this.#start += count;
  }

  /** Reads the next piece after the bytes not consumed; false once the range is read. */
  async fill(): Promise<boolean> {
    if (this.done) return false;
    const held = this.#length - this.#start;
    if (held + READ_BYTES > this.#buffer.length) {
      const bigger = Buffer.allocUnsafe(2 * (held + READ_BYTES));
      this.#buffer.copy(bigger, 0, this.#start, this.#length);
      this.#buffer = bigger;
    } else this.#buffer.copy(this.#buffer, 0, this.#start, this.#length);
    this.#at += this.#start;
    this.#start = 0;
    this.#length = held;
    const { bytesRead } = await this.handle.read(this.#buffer, held, Math.min(READ_BYTES, this.range.end - this.#readTo), this.#readTo);
    // A file cut shorter than the range: its end is the range's.
    if (bytesRead === 0) this.#readTo = this.range.end;
    this.#readTo += bytesRead;
    this.#length += bytesRead;
    return true;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
