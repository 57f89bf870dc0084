// Excel workbooks through exceljs's streaming reader: sheets and rows arrive as
// the zip is read, so a million-row export never sits in memory.
import type ExcelJS from 'exceljs';
import { WorkbookReader } from './exceljs-utf8.ts';

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

export async function* readSheets(file: string): AsyncGenerator<Sheet> {
  // styles are needed to tell date cells from numbers; shared strings are cached by index.
  const reader = new WorkbookReader(file, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  for await (const worksheet of reader) {
    const id = (worksheet as unknown as { id: number }).id;
    yield { name: sheetName(reader as unknown as ReaderInternals, id), rows: rowsOf(worksheet) };
  }
}

async function* rowsOf(worksheet: AsyncIterable<ExcelJS.Row>): AsyncGenerator<{ cells: readonly unknown[]; row: number }> {
  for await (const row of worksheet) {
    // exceljs rows are 1-based arrays with a hole at 0
    yield { cells: (row.values as unknown[]).slice(1), row: row.number };
  }
}

/** The sheet's tab name; exceljs's streaming reader only knows `Sheet<n>`, the file order. */
function sheetName(reader: ReaderInternals, id: number): string {
  const target = new RegExp(`(^|/)sheet${id}\\.xml$`);
  const rel = reader.workbookRels?.find((r) => target.test(r.Target));
  return reader.model?.sheets?.find((sheet) => sheet.rId === rel?.Id)?.name ?? `Sheet${id}`;
}
