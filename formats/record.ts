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

export function describeLocation(at: Location): string {
  const where = [at.sheet !== undefined ? `sheet ${at.sheet}` : '', at.row !== undefined ? `row ${at.row}` : '', at.line !== undefined ? `line ${at.line}` : '', at.item !== undefined ? `item ${at.item}` : ''];
  return [at.file, ...where.filter(Boolean)].join(', ');
}
