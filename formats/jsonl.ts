// Streaming JSON Lines: read line by line (CRLF tolerated, line numbers kept for
// error messages), write with backpressure.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export type JsonlLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown; readonly text: string }
  | { readonly line: number; readonly ok: false; readonly error: string; readonly text: string };

/** Every non-blank line of a JSONL file, parsed or with its parse error. Blank lines are skipped. */
export async function* readJsonl(file: string): AsyncGenerator<JsonlLine> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    try {
      yield { line, ok: true, value: JSON.parse(text), text };
    } catch (error) {
      yield { line, ok: false, error: (error as Error).message, text };
    }
  }
}

export class JsonlWriter {
  readonly #stream: WriteStream;
  count = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file, 'utf8');
  }

  async write(value: unknown): Promise<void> {
    this.count++;
    if (!this.#stream.write(JSON.stringify(value) + '\n')) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}
