// records.jsonl lines as convert reads them: each record's JSON pieces kept as
// byte text (formats/byte-text.ts), exactly as JSON.stringify writes them, so
// that conversations and rejects are built by joining pieces, and grouping a
// million records needs no UTF-8 decoding and no JSON.parse. Lines in the shape
// ingest writes are read with one regular expression; any other line (edited
// by hand, say) is decoded and parsed, and gives the same pieces.
import { isUtf8 } from 'node:buffer';
import { ByteReader, hasBom } from '../../formats/byte-reader.ts';
import { fromByteText, toByteText } from '../../formats/byte-text.ts';
import type { ByteRange } from '../../formats/ranges.ts';
import { LINE_BREAK } from '../../formats/lines.ts';

/** A record, its fields as JSON literals in byte text. */
export interface LineRecord {
  /** Its line number in records.jsonl. */
  readonly seq: number;
  /** The members before `session`, where the record came from (`"file":"shop.csv","row":2`): the start of its rejects. */
  readonly location: string;
  readonly file: string;
  readonly session: string;
  /** The time as text (it sorts as text), or null. */
  readonly time: string | null;
  readonly role: string;
  readonly text: string;
}

export interface Malformed {
  readonly seq: number;
  readonly error: string;
}

// A JSON string without escapes, and one with any.
const PLAIN = String.raw`"[^"\\\x00-\x1f]*"`;
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
// Up to 15 digits: larger numbers may not survive JSON.parse and JSON.stringify unchanged.
// A time as ingest writes them: printable ASCII, its literal the text between the quotes.
const TIME = String.raw`"[\x20\x21\x23-\x5b\x5d-\x7e]*"`;
const NUMBER = String.raw`(?:0|[1-9]\d{0,14})`;
/**
 * A record line as ingest writes it (formats/record.ts). Where a piece is copied into the output (location, session), it must
 * hold no escape, which JSON.stringify may have written otherwise; the text's escapes are rewritten as JSON.stringify writes them.
 */
const INGEST_LINE = new RegExp(
  String.raw`^\{("file":(${PLAIN})(?:,"sheet":${PLAIN})?(?:,"row":${NUMBER})?(?:,"line":${NUMBER})?(?:,"item":${NUMBER})?),"session":(${PLAIN}),"time":(null|${TIME}),"label":${STRING},"role":("[a-z]+"),"text":(${STRING})\}$`,
);

/**
 * The record on line `seq` (byte text, without its line break or a BOM), a Malformed line, or undefined for a blank one.
 * `utf8`: whether the line's bytes are known to be valid UTF-8; other lines are decoded as readers decode them, with U+FFFD.
 */
export function readRecord(seq: number, line: string, utf8: boolean): LineRecord | Malformed | undefined {
  const match = utf8 ? INGEST_LINE.exec(line) : null;
  if (match) {
    const [, location, file, session, time, role, text] = match as unknown as [string, string, string, string, string, string, string];
    return { seq, location, file, session, time: time === 'null' ? null : time.slice(1, -1), role, text: text.includes('\\') ? literal(JSON.parse(fromByteText(text))) : text };
  }
  return parseRecord(seq, fromByteText(line));
}

/** A line not in ingest's shape, decoded: parsed and checked field by field. */
function parseRecord(seq: number, text: string): LineRecord | Malformed | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { seq, error: (error as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { seq, error: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  const wrong: string[] = ['file', 'session', 'role', 'text'].filter((key) => typeof record[key] !== 'string');
  if (record['time'] !== null && typeof record['time'] !== 'string') wrong.push('time');
  if (wrong.length > 0) return { seq, error: `not a record: ${wrong.join(', ')} missing or not text` };
  const { session, time, label: _label, role, text: message, ...location } = record;
  return { seq, location: literal(location).slice(1, -1), file: literal(record['file']), session: literal(session), time: time as string | null, role: literal(role), text: literal(message) };
}

/** JSON.stringify, as byte text. */
export function literal(value: unknown): string {
  return toByteText(JSON.stringify(value));
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/** A line's bytes, `bytes[start, stop)`, and whether they are valid UTF-8. */
export type LineVisitor = (seq: number, bytes: Buffer, start: number, stop: number, utf8: boolean) => Promise<void> | undefined;

/**
 * Calls `visit` with each line of `range`, numbered from `firstLine` as readline numbers lines (\n,
 * \r\n and a lone \r each end one); the file's BOM is not part of its first line. When `visit`
 * returns a promise (its output is behind), reading waits for it. Returns the number of lines.
 */
export async function forEachLine(file: string, range: ByteRange, firstLine: number, visit: LineVisitor): Promise<number> {
  let seq = firstLine;
  // A line with a lone CR is several lines to readline; such a line is never in ingest's shape.
  const pieces = async (bytes: Buffer, start: number, stop: number, utf8: boolean): Promise<void> => {
    for (const piece of bytes.toString('latin1', start, stop).split(LINE_BREAK)) {
      const wait = visit(seq++, Buffer.from(piece, 'latin1'), 0, piece.length, utf8);
      if (wait) await wait;
    }
  };
  const reader = await ByteReader.open(file, range);
  try {
    while (await reader.fill()) {
      const chunk = reader.bytes;
      const whole = reader.done ? chunk.length : chunk.lastIndexOf(NEWLINE) + 1;
      // Checked once per read, not per line: a read with a bad byte has all its lines decoded.
      const utf8 = isUtf8(chunk.subarray(0, whole));
      let start = reader.at === 0 && hasBom(chunk) ? 3 : 0;
      // The next CR at or after `start`, searched again only once passed: one search per line that has one, not one per byte.
      let cr = chunk.indexOf(CR, start);
      for (let end = chunk.indexOf(NEWLINE, start); end !== -1 && end < whole; start = end + 1, end = chunk.indexOf(NEWLINE, start)) {
        const stop = end > start && chunk[end - 1] === CR ? end - 1 : end;
        if (cr !== -1 && cr < start) cr = chunk.indexOf(CR, start);
        if (cr !== -1 && cr < stop) await pieces(chunk, start, stop, utf8);
        else {
          const wait = visit(seq++, chunk, start, stop, utf8);
          if (wait) await wait;
        }
      }
      // Text after the last line break is a line.
      if (reader.done && start < chunk.length) {
        await pieces(chunk, start, chunk.length, isUtf8(chunk.subarray(start)));
        start = chunk.length;
      }
      reader.consume(start);
    }
  } finally {
    await reader.close();
  }
  return seq - firstLine;
}
