// What grouping a range or a bucket writes: its conversations and its rejects,
// each in order of a number (a session's first record's line, or a malformed
// line's own) kept beside the file, so that the parts merge into the stage's
// outputs in one order however the records were cut (merge.ts); and the counts
// of what it kept and rejected.
import { LineWriter } from '../../formats/lines.ts';
import { literal, type Malformed } from './record-line.ts';
import type { ConvertedSession, Line } from './session.ts';

/** A part file and the order number of each of its lines. */
export interface Part {
  readonly file: string;
  readonly seqs: Float64Array;
}

export interface PartCounts {
  /** Records this part accounts for: kept here or rejected here. */
  readonly records: number;
  readonly kept: number;
  readonly messages: number;
  readonly byReason: (readonly [string, number])[];
  readonly conversations: Part;
  readonly rejected: Part;
}

class PartWriter {
  readonly #lines: LineWriter;
  readonly #seqs: number[] = [];

  constructor(readonly file: string) {
    this.#lines = new LineWriter(file);
  }

  /** A promise only when the disk is behind. */
  write(seq: number, line: Line): Promise<void> | undefined {
    this.#seqs.push(seq);
    return typeof line === 'string' ? this.#lines.write(line, 'latin1') : this.#lines.writeBytes('', line);
  }

  async close(): Promise<Part> {
    await this.#lines.close();
    return { file: this.file, seqs: Float64Array.from(this.#seqs) };
  }
}

export class ConvertedParts {
  readonly #conversations: PartWriter;
  readonly #rejected: PartWriter;
  readonly #byReason = new Map<string, number>();
  #kept = 0;
  #messages = 0;
  /** Records grouped here, counted by the caller. */
  records = 0;

  constructor(
    files: { readonly conversations: string; readonly rejected: string },
    /** records.jsonl's name, for malformed lines' rejects. */
    readonly source: string,
  ) {
    this.#conversations = new PartWriter(files.conversations);
    this.#rejected = new PartWriter(files.rejected);
  }

  /** A promise only when the disk is behind. */
  session(first: number, converted: ConvertedSession): Promise<void> | undefined {
    this.#kept += converted.kept;
    this.#messages += converted.messages;
    let wait: Promise<void> | undefined;
    for (const { reason, line } of converted.rejected) wait = this.#reject(first, reason, line) ?? wait;
    if (converted.conversation !== undefined) wait = this.#conversations.write(first, converted.conversation) ?? wait;
    return wait;
  }

  malformed({ seq, error }: Malformed): Promise<void> | undefined {
    return this.#reject(seq, MALFORMED, literal({ file: this.source, line: seq, reason: MALFORMED, detail: error }));
  }

  #reject(first: number, reason: string, line: Line): Promise<void> | undefined {
    this.#byReason.set(reason, (this.#byReason.get(reason) ?? 0) + 1);
    return this.#rejected.write(first, line);
  }

  async close(): Promise<PartCounts> {
    const [conversations, rejected] = await Promise.all([this.#conversations.close(), this.#rejected.close()]);
    return { records: this.records, kept: this.#kept, messages: this.#messages, byReason: [...this.#byReason], conversations, rejected };
  }
}

const MALFORMED = 'malformed record';
