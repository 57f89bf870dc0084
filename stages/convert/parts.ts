// What grouping a range or a bucket writes: its conversations and its rejects,
// and beside each file an index of its lines: the number the outputs are
// ordered by (a session's first record's line, or a malformed line's own), the
// session's hash, and what the line counts for (records kept and messages, or
// the reason of a reject). The outputs are merged from the parts (merge.ts),
// leaving out the lines of sessions grouped again from buckets, and counted
// from the indexes of the lines they hold.
import { LineWriter } from '../../formats/lines.ts';
import { literal, type Malformed } from './record-line.ts';
import type { ConvertedSession } from './session.ts';

/** The hash of a line that belongs to no session (a malformed line's reject): never grouped again. */
export const NO_SESSION = -1;

/** A part file and its lines' index, line by line. */
export interface Part {
  readonly file: string;
  readonly seqs: Float64Array;
  readonly hashes: Float64Array;
  /** Conversations: records kept and messages; rejects: the index of the reason in `reasons`, and 0. */
  readonly counts: readonly [Uint32Array, Uint32Array];
  readonly reasons: readonly string[];
}

/** Numbers appended one by one into a typed array that doubles when full: an index of a million lines takes a few MB, not a JavaScript array's tens. */
class Column<T extends Float64Array | Uint32Array> {
  #values: T;
  length = 0;

  constructor(readonly make: (length: number) => T) {
    this.#values = make(1024);
  }

  push(value: number): void {
    if (this.length === this.#values.length) {
      const bigger = this.make(this.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.length++] = value;
  }

  /** The values, in an array of their own length. */
  values(): T {
    return this.#values.slice(0, this.length) as T;
  }
}

class PartWriter {
  readonly #lines: LineWriter;
  readonly #seqs = new Column((n) => new Float64Array(n));
  readonly #hashes = new Column((n) => new Float64Array(n));
  readonly #counts = [new Column((n) => new Uint32Array(n)), new Column((n) => new Uint32Array(n))] as const;
  readonly #reasons = new Map<string, number>();

  constructor(readonly file: string) {
    this.#lines = new LineWriter(file);
  }

  /** A line of byte text; a promise only when the disk is behind. */
  write(seq: number, hash: number, line: string, counts: readonly [number, number]): Promise<void> | undefined {
    this.#seqs.push(seq);
    this.#hashes.push(hash);
    this.#counts[0].push(counts[0]);
    this.#counts[1].push(counts[1]);
    return this.#lines.write(line, 'latin1');
  }

  reject(seq: number, hash: number, line: string, reason: string): Promise<void> | undefined {
    let index = this.#reasons.get(reason);
    if (index === undefined) this.#reasons.set(reason, (index = this.#reasons.size));
    return this.write(seq, hash, line, [index, 0]);
  }

  async close(): Promise<Part> {
    await this.#lines.close();
    return { file: this.file, seqs: this.#seqs.values(), hashes: this.#hashes.values(), counts: [this.#counts[0].values(), this.#counts[1].values()], reasons: [...this.#reasons.keys()] };
  }
}

export interface Parts {
  /** Records read (blank lines aside), each kept or rejected in some part. */
  readonly records: number;
  readonly conversations: Part;
  readonly rejected: Part;
}

export class ConvertedParts {
  readonly #conversations: PartWriter;
  readonly #rejected: PartWriter;
  /** Records read, counted by the caller. */
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
  session(first: number, hash: number, converted: ConvertedSession): Promise<void> | undefined {
    // One file's writes wait for the same drain: the last promise of each stands for all of that file's.
    let rejected: Promise<void> | undefined;
    for (const { reason, line } of converted.rejected) rejected = this.#rejected.reject(first, hash, line, reason) ?? rejected;
    const conversation = converted.conversation === undefined ? undefined : this.#conversations.write(first, hash, converted.conversation, [converted.kept, converted.messages]);
    return both(conversation, rejected);
  }

  malformed({ seq, error }: Malformed): Promise<void> | undefined {
    return this.#rejected.reject(seq, NO_SESSION, literal({ file: this.source, line: seq, reason: MALFORMED, detail: error }), MALFORMED);
  }

  async close(): Promise<Parts> {
    const [conversations, rejected] = await Promise.all([this.#conversations.close(), this.#rejected.close()]);
    return { records: this.records, conversations, rejected };
  }
}

const MALFORMED = 'malformed record';

/** Waits for either or both. */
export function both(a: Promise<void> | undefined, b: Promise<void> | undefined): Promise<void> | undefined {
  return a && b ? Promise.all([a, b]).then(() => undefined) : (a ?? b);
}
