// The normalized message record that ingest writes (records.jsonl) and convert
// reads: one per table row or per message of a ChatGLM3 conversation, with
// enough provenance to point a user back at the cell it came from.
import type { Role } from './conversation.ts';

/** Where an input unit came from: a table row (1-based, header included), a JSONL line, or an item of a JSON array / loader. */
export interface Location {
  /** Path relative to the project directory (absolute when outside it). */
  readonly file: string;
  readonly sheet?: string;
  readonly row?: number;
  readonly line?: number;
  readonly item?: number;
}

/** `notice` is a shop system's own message (客户已接入会话): not a ChatGLM3 `system` prompt, and dropped by convert. */
export type RecordRole = Role | 'notice';

export interface SourceRecord extends Location {
  readonly session: string;
  /** Wall-clock time `YYYY-MM-DD HH:MM:SS` (no time zone; sorts as text), or null when the source has none. */
  readonly time: string | null;
  /** The sender label as written in the source. */
  readonly label: string;
  readonly role: RecordRole;
  /** The cell text as read: normalizing it is convert's job. */
  readonly text: string;
}

/** A record's fields beyond where it came from. */
export type RecordFields = Omit<SourceRecord, keyof Location>;

/**
 * The records.jsonl line of a record: exactly `JSON.stringify({ ...at, ...fields })`
 * (same keys in the same order), written as one template because spreading and
 * stringifying an object per row was most of ingest's time on a million-row CSV.
 * Given strings of UTF-8 bytes (one char per byte) it gives that line's bytes the
 * same way, as JSON escapes only ASCII and every other byte passes through.
 */
export function recordLine(at: Location, fields: RecordFields): string {
  const number = `${at.row === undefined ? '' : `,"row":${at.row}`}${at.line === undefined ? '' : `,"line":${at.line}`}${at.item === undefined ? '' : `,"item":${at.item}`}`;
  // A time is null or parseTime's `YYYY-MM-DD HH:MM:SS`, which never needs escaping.
  const time = fields.time === null ? 'null' : `"${fields.time}"`;
  // Few pieces per line: the line is a rope of them until it is written, and writing walks every piece.
  return `${sources.get(at.file, at.sheet)}${number}${sessions.get(fields.session)}${time}${speakers.get(fields.label, fields.role)}${jsonString(fields.text)}}`;
}

// What JSON.stringify escapes: quotes, backslashes, control characters, lone surrogates (pairs are let through it).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string; most cells need no escaping, and quoting them measured ~2× faster. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * The part of a line made from one or two fields, kept while they repeat: file and sheet,
 * session id, and sender label with its role change rarely from one row to the next.
 */
class LastPart {
  #a: string | undefined;
  #b: string | undefined;
  #part = '';

  constructor(readonly make: (a: string, b: string | undefined) => string) {}

  get(a: string, b?: string): string {
    if (a !== this.#a || b !== this.#b) {
      this.#a = a;
      this.#b = b;
      this.#part = this.make(a, b);
    }
    return this.#part;
  }
}

/** The pieces of a record line around its row number, time and text; ingest's CSV reader writes lines from them too (stages/ingest/csv-bytes.ts). */
export const linePieces = {
  source: (file: string, sheet?: string): string => `{"file":${jsonString(file)}${sheet === undefined ? '' : `,"sheet":${jsonString(sheet)}`}`,
  session: (session: string): string => `,"session":${jsonString(session)},"time":`,
  speaker: (label: string, role: string | undefined): string => `,"label":${jsonString(label)},"role":"${role}","text":`,
};

const sources = new LastPart(linePieces.source);
const sessions = new LastPart(linePieces.session);
const speakers = new LastPart(linePieces.speaker);

export function describeLocation(at: Location): string {
  const where = [at.sheet !== undefined ? `sheet ${at.sheet}` : '', at.row !== undefined ? `row ${at.row}` : '', at.line !== undefined ? `line ${at.line}` : '', at.item !== undefined ? `item ${at.item}` : ''];
  return [at.file, ...where.filter(Boolean)].join(', ');
}
