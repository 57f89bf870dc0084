// Plain text lines on disk, batched: one stream write per 64 KiB instead of one
// per line, which is what keeps writing a million small records from costing
// more than parsing them (per-line writes measured 5 µs a line). Used for
// records, for scratch files whose lines are `<sequence number>\t<JSON>` (the JSON
// is parsed only where it is needed), and for copying JSONL lines verbatim.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const BATCH_CHARS = 1 << 16;

export class LineWriter {
  readonly #stream: WriteStream;
  #batch = '';
  count = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  }

  /** A promise only when the disk is behind and the caller must wait: most lines cost no await at all. */
  write(line: string): Promise<void> | undefined {
    this.count++;
    this.#batch += line + '\n';
    if (this.#batch.length < BATCH_CHARS) return undefined;
    const batch = this.#batch;
    this.#batch = '';
    return this.#stream.write(batch) ? undefined : once(this.#stream, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    this.#stream.end(this.#batch);
    this.#batch = '';
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
