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
  const where = `${at.sheet === undefined ? '' : `,"sheet":${sheets.quote(at.sheet)}`}${at.row === undefined ? '' : `,"row":${at.row}`}${at.line === undefined ? '' : `,"line":${at.line}`}${at.item === undefined ? '' : `,"item":${at.item}`}`;
  // A time is null or parseTime's `YYYY-MM-DD HH:MM:SS`, which never needs escaping.
  const time = fields.time === null ? 'null' : `"${fields.time}"`;
  return `{"file":${files.quote(at.file)}${where},"session":${sessions.quote(fields.session)},"time":${time},"label":${labels.quote(fields.label)},"role":"${fields.role}","text":${jsonString(fields.text)}}`;
}

// What JSON.stringify escapes: quotes, backslashes, control characters, lone surrogates (pairs are let through it).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string; most cells need no escaping, and quoting them measured ~2× faster. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** jsonString of the last text seen: file and sheet names, session ids and sender labels repeat row after row. */
class LastQuoted {
  #text = '';
  #quoted = '""';

  quote(text: string): string {
    if (text !== this.#text) {
      this.#text = text;
      this.#quoted = jsonString(text);
    }
    return this.#quoted;
  }
}

const files = new LastQuoted();
const sheets = new LastQuoted();
const sessions = new LastQuoted();
const labels = new LastQuoted();

export function describeLocation(at: Location): string {
  const where = [at.sheet !== undefined ? `sheet ${at.sheet}` : '', at.row !== undefined ? `row ${at.row}` : '', at.line !== undefined ? `line ${at.line}` : '', at.item !== undefined ? `item ${at.item}` : ''];
  return [at.file, ...where.filter(Boolean)].join(', ');
}
