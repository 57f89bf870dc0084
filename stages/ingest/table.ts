// Table rows (xlsx, CSV, row-format JSON, loader rows) → records, with the
// mapping decided once per header row.
import type { Location } from '../../formats/record.ts';
import type { ColumnMap } from './mapping.ts';
import { excerpt, type IngestSink } from './sink.ts';
import { parseTime } from './time.ts';

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
  constructor(
    readonly sink: IngestSink,
    readonly columns: ColumnMap,
  ) {}

  /** Synchronous (no promise) for the usual accepted row: the hot path of a million-row export. */
  row(cells: readonly unknown[], at: Location): Promise<void> | undefined {
    const { sink, columns } = this;
    const session = cellText(cells[columns.session]).trim();
    // A row with a session id is not blank: the full blank check only runs for the rare rows without one.
    if (session === '') {
      if (cells.every((cell) => cellText(cell).trim() === '')) return sink.reject({ ...at, reason: 'blank row' });
      return sink.reject({ ...at, reason: 'empty session id', detail: excerpt(cells.map(cellText).join(' | ')) });
    }
    const label = cellText(cells[columns.sender]).trim();
    const role = sink.roles.role(label, at);
    if (role === undefined) return sink.reject({ ...at, reason: 'unknown sender label', session, detail: label });
    const time = columns.time === undefined ? null : parseTime(cells[columns.time]);
    if (time === undefined) return sink.reject({ ...at, reason: 'unreadable time', session, detail: cellText(cells[columns.time ?? 0]) });
    return sink.accept(at, [{ session, time, label, role, text: cellText(cells[columns.content]) }]);
  }
}
