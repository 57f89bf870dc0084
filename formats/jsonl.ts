// Streaming JSON Lines: read line by line (CRLF tolerated, line numbers kept for
// error messages), write with backpressure.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { readLineBatches } from './lines.ts';

export type JsonlLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown; readonly text: string }
  | { readonly line: number; readonly ok: false; readonly error: string; readonly text: string };

/** Every non-blank line of a JSONL file, parsed or with its parse error, a batch at a time (an await per line is costly). Blank lines are skipped. */
export async function* readJsonlBatches(file: string): AsyncGenerator<JsonlLine[]> {
  let line = 0;
  for await (const raws of readLineBatches(file)) {
    const batch: JsonlLine[] = [];
    for (const raw of raws) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      try {
        batch.push({ line, ok: true, value: JSON.parse(text), text });
      } catch (error) {
        batch.push({ line, ok: false, error: (error as Error).message, text });
      }
    }
    yield batch;
  }
}

/** Every non-blank line of a JSONL file, parsed or with its parse error. Blank lines are skipped. */
export async function* readJsonl(file: string): AsyncGenerator<JsonlLine> {
  for await (const batch of readJsonlBatches(file)) yield* batch;
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
