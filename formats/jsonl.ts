// Streaming JSON Lines: read line by line (CRLF tolerated, line numbers kept for
// error messages), written in batches with backpressure.
import { LineWriter, readLineBatches } from './lines.ts';

export type JsonlLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown; readonly text: string }
  | { readonly line: number; readonly ok: false; readonly error: string; readonly text: string };

/** Lines of a file from `start` to `end` (bytes; see formats/ranges.ts), the first of them line `firstLine`. */
export interface LineRange {
  readonly start: number;
  readonly end: number;
  readonly firstLine: number;
}

/**
 * Every non-blank line of a JSONL file (or of `range` of it), parsed or with its parse error, a batch at a time
 * (an await per line is costly). Blank lines are skipped.
 */
export async function* readJsonlBatches(file: string, range?: LineRange): AsyncGenerator<JsonlLine[]> {
  let line = (range?.firstLine ?? 1) - 1;
  for await (const raws of readLineBatches(file, range)) {
    const batch: JsonlLine[] = [];
    for (const raw of raws) {
      const parsed = parseJsonLine(++line, raw);
      if (parsed) batch.push(parsed);
    }
    yield batch;
  }
}

/** Line `line` of a JSONL file (1-based; the first may start with a BOM), parsed or with its parse error; undefined when blank. */
export function parseJsonLine(line: number, raw: string): JsonlLine | undefined {
  const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
  if (text.trim() === '') return undefined;
  try {
    return { line, ok: true, value: JSON.parse(text), text };
  } catch (error) {
    return { line, ok: false, error: (error as Error).message, text };
  }
}

/** Every non-blank line of a JSONL file (or of `range` of it), parsed or with its parse error. Blank lines are skipped. */
export async function* readJsonl(file: string, range?: LineRange): AsyncGenerator<JsonlLine> {
  for await (const batch of readJsonlBatches(file, range)) yield* batch;
}

/** JSON values as lines, batched into large writes (see LineWriter). */
export class JsonlWriter {
  readonly #lines: LineWriter;

  constructor(file: string) {
    this.#lines = new LineWriter(file);
  }

  get count(): number {
    return this.#lines.count;
  }

  /** A promise only when the disk is behind. */
  write(value: unknown): Promise<void> | undefined {
    return this.#lines.write(JSON.stringify(value));
  }

  close(): Promise<void> {
    return this.#lines.close();
  }
}
