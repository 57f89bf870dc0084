// A record line's session id found in its bytes, without decoding or parsing the
// line: where convert cuts records.jsonl between sessions (cuts.ts) it looks at a
// few lines only, and must not take one session for another. Only lines whose
// shape makes the search certain are answered; for any other the caller keeps
// the cut where it was.

const SESSION_KEY = Buffer.from(',"session":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CR = 0x0d;

/** Where the next `needle` at or after a position is; searched again only once passed, so rare bytes cost one search per chunk, not one per line. */
class NextOccurrence {
  #at = -2;

  constructor(
    readonly bytes: Buffer,
    readonly needle: number | Buffer,
  ) {}

  /** -1 when there is none. */
  from(position: number): number {
    if (this.#at !== -1 && this.#at < position) this.#at = this.bytes.indexOf(this.needle, position);
    return this.#at;
  }
}

/** Scans the lines of one chunk of bytes, in order. */
export class SessionScanner {
  readonly #key: NextOccurrence;
  readonly #brace: NextOccurrence;
  readonly #backslash: NextOccurrence;
  readonly #cr: NextOccurrence;

  constructor(readonly bytes: Buffer) {
    this.#key = new NextOccurrence(bytes, SESSION_KEY);
    this.#brace = new NextOccurrence(bytes, OPEN_BRACE);
    this.#backslash = new NextOccurrence(bytes, BACKSLASH);
    this.#cr = new NextOccurrence(bytes, CR);
  }

  /**
   * The byte range of the session id of the line `[start, stop)`, or undefined when the line
   * must be parsed to know it. A JSON string holds no bare quote, so `,"session":"` is a key;
   * with no nested object and no second such key it is the record's own, and with no
   * backslash its bytes are the id's. A CR (where readline would break the line) or a line
   * that is not an object is left to the parser too.
   */
  session(start: number, stop: number): { start: number; end: number } | undefined {
    const { bytes } = this;
    if (bytes[start] !== OPEN_BRACE || before(this.#cr.from(start), stop) || before(this.#brace.from(start + 1), stop)) return undefined;
    const key = this.#key.from(start);
    if (!before(key, stop) || before(this.#key.from(key + 1), stop)) return undefined;
    const idStart = key + SESSION_KEY.length;
    const idEnd = bytes.indexOf(QUOTE, idStart);
    if (!before(idEnd, stop) || before(this.#backslash.from(idStart), idEnd)) return undefined;
    return { start: idStart, end: idEnd };
  }
}

/** Whether a found position (-1: none) lies before `limit`. */
function before(position: number, limit: number): boolean {
  return position !== -1 && position < limit;
}
