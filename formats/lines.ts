// Plain text lines on disk, for scratch files whose lines are `<sequence number>\t<JSON>`
// (the JSON is parsed only where it is needed), and for copying JSONL lines verbatim.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export class LineWriter {
  readonly #stream: WriteStream;

  constructor(file: string) {
    this.#stream = createWriteStream(file, 'utf8');
  }

  async write(line: string): Promise<void> {
    if (!this.#stream.write(line + '\n')) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
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
