// Excel workbooks through exceljs's streaming reader: sheets and rows arrive as
// the zip is read, so a million-row export never sits in memory. A damaged or
// incomplete workbook stops with the file, the sheet and row reached, and what
// to do: exceljs's own errors (`FILE_ENDED`, `invalid signature`) say none of it.
import type ExcelJS from 'exceljs';
import { GlmflowError } from '../../engine/errors.ts';
import { WorkbookReader } from './exceljs-utf8.ts';
import { zipProblem } from './zip-check.ts';

export interface Sheet {
  readonly name: string;
  /** Cells 0-based; `row` is the sheet's 1-based row number. Must be read to the end before the next sheet. */
  readonly rows: AsyncIterable<{ readonly cells: readonly unknown[]; readonly row: number }>;
}

interface ReaderInternals {
  // Parsed from xl/workbook.xml and its rels before the sheets (exceljs keeps them, untyped).
  readonly model?: { readonly sheets?: readonly { readonly name: string; readonly rId: string }[] };
  readonly workbookRels?: readonly { readonly Id: string; readonly Target: string }[];
}

const REPAIR_HINT = 'the file is damaged or was not copied whole: copy it again from where it was exported, or open it in Excel and save it again (or export the sheet as CSV, UTF-8); or leave it out of ingest.glob';

/** `name` is the file as messages show it (relative to the project). */
export async function* readSheets(file: string, name: string): AsyncGenerator<Sheet> {
  const zip = await zipProblem(file);
  if (zip) throw new GlmflowError(`${name} cannot be read as an Excel workbook: ${zip.problem}`, zip.text ? 'it looks like a text file: if it is a CSV export, rename it to .csv' : REPAIR_HINT);
  // Where the reader was when it failed, for the message.
  const at = { sheet: undefined as string | undefined, row: 0 };
  // styles are needed to tell date cells from numbers; shared strings are cached by index.
  const reader = new WorkbookReader(file, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  const worksheets = reader[Symbol.asyncIterator]();
  for (;;) {
    const next = await guarded(worksheets.next(), name, at);
    if (next.done) return;
    const id = (next.value as unknown as { id: number }).id;
    at.sheet = sheetName(reader as unknown as ReaderInternals, id);
    at.row = 0;
    yield { name: at.sheet, rows: rowsOf(next.value, name, at) };
  }
}

async function* rowsOf(worksheet: AsyncIterable<ExcelJS.Row>, name: string, at: { sheet: string | undefined; row: number }): AsyncGenerator<{ cells: readonly unknown[]; row: number }> {
  const rows = worksheet[Symbol.asyncIterator]();
  for (;;) {
    const next = await guarded(rows.next(), name, at);
    if (next.done) return;
    at.row = next.value.number;
    // exceljs rows are 1-based arrays with a hole at 0
    yield { cells: (next.value.values as unknown[]).slice(1), row: at.row };
  }
}

/**
 * The reader's next step, or an error naming the file and place when it fails, or when it can
 * never finish: nothing left for the process to wait on (its input read to the end) while the
 * step is still pending. Without this the process exits in silence, mid-run.
 */
export function guarded<T>(step: Promise<T>, name: string, at: { readonly sheet: string | undefined; readonly row: number }): Promise<T> {
  const where = (): string => (at.sheet === undefined ? name : `${name}, sheet "${at.sheet}"${at.row > 0 ? ` after row ${at.row}` : ''}`);
  return new Promise((resolve, reject) => {
    const stuck = (): void => reject(new GlmflowError(`${where()}: the workbook ended before its data did`, REPAIR_HINT));
    process.once('beforeExit', stuck);
    step.then(
      (value) => {
        process.off('beforeExit', stuck);
        resolve(value);
      },
      (error: unknown) => {
        process.off('beforeExit', stuck);
        reject(error instanceof GlmflowError ? error : new GlmflowError(`${where()}: cannot be read (${(error as Error)?.message ?? String(error)})`, REPAIR_HINT));
      },
    );
  });
}

/** The sheet's tab name; exceljs's streaming reader only knows `Sheet<n>`, the file order. */
function sheetName(reader: ReaderInternals, id: number): string {
  const target = new RegExp(`(^|/)sheet${id}\\.xml$`);
  const rel = reader.workbookRels?.find((r) => target.test(r.Target));
  return reader.model?.sheets?.find((sheet) => sheet.rId === rel?.Id)?.name ?? `Sheet${id}`;
}
