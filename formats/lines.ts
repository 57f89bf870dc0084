// Plain text lines on disk, batched: lines are encoded straight into a 64 KiB
// buffer and each full buffer is one stream write. Per-line stream writes measured
// 5 µs a line; batching lines as one concatenated string cost ~1 µs a line to
// flatten and encode, most of a million-row CSV ingest after parsing. Used for
// records, for scratch files whose lines are `<sequence number>\t<JSON>` (the JSON
// is parsed only where it is needed), and for copying JSONL lines verbatim.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

// Small enough for convert's 256 bucket writers at once (16 MiB), large enough that stream writes are rare.
const BATCH_BYTES = 1 << 16;
// UTF-8 takes at most 3 bytes per UTF-16 code unit (a 4-byte character is a surrogate pair).
const MAX_BYTES_PER_UNIT = 3;
const NEWLINE = 0x0a;

export class LineWriter {
  readonly #stream: WriteStream;
  #batch = Buffer.allocUnsafe(BATCH_BYTES);
  #used = 0;
  count = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file, { highWaterMark: 1 << 20 });
  }

  /** A promise only when the disk is behind and the caller must wait: most lines cost no await at all. */
  write(line: string): Promise<void> | undefined {
    this.count++;
    const room = line.length * MAX_BYTES_PER_UNIT + 1;
    let ok = true;
    if (this.#used + room > BATCH_BYTES) {
      ok = this.#flush();
      // Longer than any batch: written on its own.
      if (room > BATCH_BYTES) ok = this.#stream.write(`${line}\n`) && ok;
    }
    if (room <= BATCH_BYTES) {
      this.#used += this.#batch.write(line, this.#used);
      this.#batch[this.#used++] = NEWLINE;
    }
    return ok ? undefined : once(this.#stream, 'drain').then(() => undefined);
  }

  /** Hands the batch to the stream (which keeps it until written) and starts a new one. */
  #flush(): boolean {
    if (this.#used === 0) return true;
    const ok = this.#stream.write(this.#batch.subarray(0, this.#used));
    this.#batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.#used = 0;
    return ok;
  }

  async close(): Promise<void> {
    this.#flush();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}

/** `seq\ttext` lines of a scratch file. */
export async function* readSequenced(file: string): AsyncGenerator<{ seq: number; text: string }> {
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    const tab = line.indexOf('\t');
    yield { seq: Number(line.slice(0, tab)), text: line.slice(tab + 1) };
  }
}

export function sequenced(seq: number, text: string): string {
  return `${seq}\t${text}`;
}
