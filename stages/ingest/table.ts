// Table rows (xlsx, CSV, row-format JSON, loader rows) → records, with the
// mapping decided once per header row.
import type { Location, RecordRole } from '../../formats/record.ts';
import { TEXT, type CellForm } from './cell-form.ts';
import type { ColumnMap } from './mapping.ts';
import { excerpt, type IngestSink } from './sink.ts';
import { isCanonicalTime, parseTime } from './time.ts';

/** Text of a cell as exceljs, papaparse or a JSON object gives it. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    // exceljs: rich text, hyperlinks, formulas (their cached result), errors
    const cell = value as { richText?: readonly { text: string }[]; text?: unknown; result?: unknown; error?: unknown };
    if (cell.richText) return cell.richText.map((run) => run.text).join('');
    if (cell.text !== undefined) return cellText(cell.text);
    if ('result' in cell) return cellText(cell.result);
    if (cell.error !== undefined) return String(cell.error);
  }
  return JSON.stringify(value);
}

export class TableReader {
  /** Labels as the cells hold them → role; unknown labels go to the sink's RoleMapper each time, which counts them. */
  readonly #roles = new Map<string, RecordRole>();
  #file = '';
  #fileInForm = '';

  constructor(
    readonly sink: IngestSink,
    readonly columns: ColumnMap,
    readonly form: CellForm = TEXT,
  ) {}

  /** Synchronous (no promise) for the usual accepted row: the hot path of a million-row export. */
  row(cells: readonly unknown[], at: Location): Promise<void> | undefined {
    const { sink, columns, form } = this;
    const session = form.trim(cellText(cells[columns.session]));
    // A row with a session id is not blank: the full blank check only runs for the rare rows without one.
    if (session === '') {
      if (cells.every((cell) => form.trim(cellText(cell)) === '')) return sink.reject({ ...at, reason: 'blank row' });
      return sink.reject({ ...at, reason: 'empty session id', detail: excerpt(cells.map((cell) => form.decode(cellText(cell))).join(' | ')) });
    }
    const label = form.trim(cellText(cells[columns.sender]));
    const role = this.#roles.get(label) ?? this.#role(label, at);
    if (role === undefined) return sink.reject({ ...at, reason: 'unknown sender label', session: form.decode(session), detail: form.decode(label) });
    const time = columns.time === undefined ? null : this.#time(cells[columns.time]);
    if (time === undefined) return sink.reject({ ...at, reason: 'unreadable time', session: form.decode(session), detail: form.decode(cellText(cells[columns.time ?? 0])) });
    return sink.accept(this.#inForm(at), [{ session, time, label, role, text: cellText(cells[columns.content]) }], form.encoding);
  }

  /** The role of a sender label as the cells hold it, if a row has carried it already. */
  knownRole(label: string): RecordRole | undefined {
    return this.#roles.get(label);
  }

  #role(label: string, at: Location): RecordRole | undefined {
    const role = this.sink.roles.role(this.form.decode(label), at);
    if (role !== undefined) this.#roles.set(label, role);
    return role;
  }

  #time(cell: unknown): string | null | undefined {
    // Canonical times are ASCII, the same in every form; others are parsed as text.
    if (typeof cell !== 'string') return parseTime(cell);
    return isCanonicalTime(cell) ? cell : parseTime(this.form.decode(cell));
  }

  /** Where a record came from, its file name in the cells' form (record lines are written whole in one form). */
  #inForm(at: Location): Location {
    if (this.form === TEXT) return at;
    if (at.file !== this.#file) {
      this.#file = at.file;
      this.#fileInForm = this.form.encode(at.file);
    }
    return { ...at, file: this.#fileInForm };
  }
}
