// Reads every raw file into records.jsonl / rejected.jsonl and accounts for each
// input unit. Exceptions are the user's to fix (unknown headers, labels,
// encodings): they stop the stage rather than drop data silently.
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { GlmflowError } from '../../engine/errors.ts';
import type { RecordRole } from '../../formats/record.ts';
import { readCsvBytes } from './csv-bytes.ts';
import { guessDialect } from './csv-ranges.ts';
import { UTF8_BYTES } from './cell-form.ts';
import { csvCellForm, detectEncoding, parseCsv, type CsvPart } from './csv.ts';
import { readJsonFile } from './jsonl.ts';
import { LOADER_EXTENSIONS, readLoader } from './loader.ts';
import { conversationColumns, mapColumns, RoleMapper, type ColumnOverrides } from './mapping.ts';
import { ObjectReader } from './objects.ts';
import { IngestSink } from './sink.ts';
import { cellText, TableReader } from './table.ts';

export interface IngestOptions {
  readonly projectDir: string;
  /** Loader modules to run (ingest.loaders). Code among the raw files is never run. */
  readonly loaders?: readonly string[];
  /** `auto`, or a WHATWG label (utf-8, gbk, …) for every CSV. */
  readonly encoding: string;
  readonly columns: ColumnOverrides;
  readonly roles: Readonly<Record<string, RecordRole>>;
  readonly unknownLabels: 'error' | 'reject';
  readonly log: (message: string) => void;
  /** Rows/lines read so far, and the file being read. */
  readonly progress?: (unitsIn: number, file: string) => void;
  /** Threads reading at once (1: this one only); used for 256 MiB of files or more, unless `rangeBytes` is given. */
  readonly workers?: number;
  /** CSV bytes per range read by one thread; tests make it small to use workers on a few rows. */
  readonly rangeBytes?: number;
  /** false: papaparse reads every row of a UTF-8 CSV, not only those csv-bytes.ts leaves; tests compare the two. */
  readonly csvBytes?: boolean;
}

export interface IngestReport {
  readonly files: number;
  /** Table rows, JSONL lines and loader items read. */
  readonly unitsIn: number;
  readonly unitsAccepted: number;
  readonly records: number;
  readonly rejected: number;
  readonly rejectedByReason: string;
  /** Files and sheets left out, and why. */
  readonly notes: readonly string[];
}

/** `files`: the raw data files; loader modules come in `options.loaders`. */
export async function ingest(files: readonly string[], outputs: { records: string; rejected: string }, options: IngestOptions): Promise<IngestReport> {
  const loaders = options.loaders ?? [];
  if ((options.workers ?? 1) > 1) {
    // Loaded only then: it starts worker threads.
    const { ingestInWorkers } = await import('./parallel.ts');
    const report = await ingestInWorkers(files, loaders, outputs, options);
    if (report) return report;
  }
  let current = '';
  const sink = new IngestSink(outputs.records, outputs.rejected, new RoleMapper(options.roles), (units) => options.progress?.(units, current));
  const notes: string[] = [];
  const note = (message: string): void => {
    notes.push(message);
    options.log(message);
  };
  try {
    for (const [file, loader] of [...files.map((f) => [f, false] as const), ...loaders.map((f) => [f, true] as const)]) {
      const relative = relativeTo(options.projectDir, file);
      current = relative;
      const before = { units: sink.unitsIn, byReason: new Map(sink.rejects.byReason) };
      // Examples of this file's rejects, not an earlier file's.
      sink.rejects.firstByReason.clear();
      if (loader) await readLoader(file, relative, new ObjectReader(sink, options.columns));
      else await readFile(file, relative, sink, options, note);
      const units = sink.unitsIn - before.units;
      const here = [...sink.rejects.byReason].map(([reason, count]) => [reason, count - (before.byReason.get(reason) ?? 0)] as const).filter(([, count]) => count > 0);
      fileDone(relative, units, here, (reason) => sink.rejects.firstByReason.get(reason)?.detail, sink.roles, options, note);
    }
  } finally {
    await sink.close();
  }
  return checkedReport({ files: files.length + loaders.length, unitsIn: sink.unitsIn, unitsAccepted: sink.unitsAccepted, records: sink.records.count, rejected: sink.rejects.total, rejectedByReason: sink.rejects.describe(), notes });
}

export function checkedReport(report: IngestReport): IngestReport {
  if (report.unitsIn !== report.unitsAccepted + report.rejected) {
    throw new Error(`ingest lost input: ${report.unitsIn} in, ${report.unitsAccepted} accepted, ${report.rejected} rejected`);
  }
  return report;
}

/**
 * After each file: its row count in the log, a note when most of it was rejected, and the stop for
 * unknown sender labels (all seen so far, with where each was first seen).
 */
export function fileDone(
  relative: string,
  units: number,
  rejectedHere: readonly (readonly [string, number])[],
  example: (reason: string) => string | undefined,
  roles: RoleMapper,
  options: IngestOptions,
  note: (message: string) => void,
): void {
  options.log(`${relative}: ${units} rows/lines`);
  const mostlyRejected = describeMostlyRejected(units, rejectedHere, example);
  if (mostlyRejected) note(`${relative}: ${mostlyRejected}`);
  const labelsError = options.unknownLabels === 'error' ? roles.unknownLabelsError() : undefined;
  if (labelsError) throw new GlmflowError(`${relative}: ${labelsError.message}`, labelsError.hint);
}

// Spreadsheets exceljs cannot read. They are data the user meant to give, so they stop the stage with the way out rather than being skipped.
const UNREADABLE_SPREADSHEETS = new Map([
  ['.xls', 'Excel 97–2003'],
  ['.et', 'WPS'],
  ['.ods', 'OpenDocument'],
  ['.numbers', 'Numbers'],
]);

export async function readFile(file: string, relative: string, sink: IngestSink, options: IngestOptions, note: (message: string) => void): Promise<void> {
  const extension = path.extname(file).toLowerCase();
  // A file that failed to download or export, or a placeholder: said, since no rows come from it.
  if ((await stat(file)).size === 0) return note(`${relative}: skipped, empty file (0 bytes)`);
  if (extension === '.csv' || extension === '.tsv') return readCsv(file, relative, sink, options);
  if (extension === '.xlsx' || extension === '.xlsm') return readWorkbook(file, relative, sink, options, note);
  const spreadsheet = UNREADABLE_SPREADSHEETS.get(extension);
  if (spreadsheet) throw new GlmflowError(`${relative}: ${spreadsheet} spreadsheets (${extension}) cannot be read`, 'open it and save it as .xlsx, or export it as CSV (UTF-8); or leave it out of ingest.glob');
  if (extension === '.jsonl' || extension === '.json') return readJsonFile(file, relative, new ObjectReader(sink, options.columns));
  // Raw data is what others send: code that arrives with it is not run.
  if (LOADER_EXTENSIONS.includes(extension)) return note(`${relative}: not run: code among the raw files is never run; to read it as a loader module, list it in ingest.loaders (e.g. --set 'ingest.loaders=["loaders/db.ts"]') and keep it out of the raw folder`);
  note(`${relative}: skipped, not a data file (reads .xlsx, .xlsm, .csv, .tsv, .jsonl and .json; loader modules come from ingest.loaders)`);
}

/** The encoding a CSV is read in, logged. */
export async function csvEncoding(file: string, relative: string, options: IngestOptions): Promise<string> {
  const encoding = options.encoding === 'auto' ? await detectEncoding(file) : options.encoding;
  options.log(`${relative}: ${encoding}${options.encoding === 'auto' ? ' (detected)' : ''}`);
  return encoding;
}

/**
 * With `part`, only its rows, mapped by the file's header (csv-ranges.ts) unless the part starts with it.
 * UTF-8 rows are read from their bytes (csv-bytes.ts) as far as they can be; papaparse reads the rest.
 */
export async function readCsv(file: string, relative: string, sink: IngestSink, options: IngestOptions, part?: { readonly range: CsvPart; readonly header: readonly string[]; readonly encoding: string }): Promise<void> {
  const encoding = part?.encoding ?? (await csvEncoding(file, relative, options));
  const form = csvCellForm(encoding);
  const newTable = (header: readonly string[]): TableReader => new TableReader(sink, mapColumns(header.map(form.decode), options.columns, relative), form);
  let table: TableReader | undefined = part && part.range.firstRow > 1 ? newTable(part.header) : undefined;
  let range = part?.range;
  const layout = form === UTF8_BYTES && options.csvBytes !== false ? (range ?? (await wholeFile(file))) : undefined;
  if (layout) {
    const rest = await readCsvBytes(file, relative, layout, layout, sink, table, newTable);
    if (!rest) return;
    table = rest.table;
    // From the first row, papaparse reads the file as it would have, guesses included.
    if (part || rest.span.firstRow > 1) range = { ...layout, ...rest.span };
  }
  // Synchronous while the output keeps up, so parsing is not paused for nothing.
  const readRows = (rows: string[][], firstRow: number, from: number): Promise<void> | undefined => {
    for (let index = from; index < rows.length; index++) {
      const cells = rows[index]!;
      if (!table) table = newTable(cells);
      else {
        const wait = table.row(cells, { file: relative, row: firstRow + index });
        if (wait) return wait.then(() => readRows(rows, firstRow, index + 1));
      }
    }
    return undefined;
  };
  await parseCsv(file, encoding, (rows, firstRow) => readRows(rows, firstRow, 0), range);
}

/** A whole UTF-8 file as a part, with the delimiter and line break papaparse would guess; undefined where it might guess otherwise. */
async function wholeFile(file: string): Promise<CsvPart | undefined> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const dialect = await guessDialect(handle, size);
    return dialect && { start: 0, end: size, firstRow: 1, delimiter: dialect.delimiter, newline: dialect.newline };
  } finally {
    await handle.close();
  }
}

async function readWorkbook(file: string, relative: string, sink: IngestSink, options: IngestOptions, note: (message: string) => void): Promise<void> {
  const skipped: { name: string; headers: string[] }[] = [];
  let conversationSheets = 0;
  // Loaded here: exceljs takes a good part of a second to import, which a worker thread reading CSV should not pay.
  const { readSheets } = await import('./xlsx.ts');
  for await (const sheet of readSheets(file, relative)) {
    let table: TableReader | undefined;
    let headers: string[] | undefined;
    let rows = 0;
    for await (const { cells, row } of sheet.rows) {
      if (headers === undefined) {
        headers = cells.map(cellText);
        const columns = conversationColumns(headers, options.columns, `${relative}, sheet ${sheet.name}`);
        if (columns) table = new TableReader(sink, columns);
      } else if (table) {
        await table.row(cells, { file: relative, sheet: sheet.name, row });
      } else rows++;
    }
    if (table) conversationSheets++;
    else {
      skipped.push({ name: sheet.name, headers: headers ?? [] });
      note(`${relative}: sheet "${sheet.name}" skipped, not conversation data (${rows} rows; headers: ${headers?.map((h) => h.trim()).join(', ') || 'none'})`);
    }
  }
  const [first] = skipped;
  if (conversationSheets === 0 && first) {
    // Explain with the first sheet's headers; the others are named in the message.
    mapColumns(first.headers, options.columns, `${relative}: no sheet holds conversation data (sheets: ${skipped.map((s) => `"${s.name}"`).join(', ')}); sheet "${first.name}"`);
  }
}

// A file that loses more than this share of its rows is more likely mapped wrongly than full of bad rows.
const MOSTLY_REJECTED = 0.5;
const MOSTLY_REJECTED_MIN_ROWS = 10;

/** A warning when most of the file just read was rejected, naming the main reason and an example. */
function describeMostlyRejected(units: number, here: readonly (readonly [string, number])[], examples: (reason: string) => string | undefined): string | undefined {
  const rejected = here.reduce((sum, [, count]) => sum + count, 0);
  if (units < MOSTLY_REJECTED_MIN_ROWS || rejected <= units * MOSTLY_REJECTED) return undefined;
  const [reason, count] = [...here].sort((a, b) => b[1] - a[1])[0]!;
  const example = examples(reason);
  return `${rejected} of ${units} rows/lines rejected, ${count} for "${reason}"${example === undefined ? '' : ` (e.g. "${example}")`}: a column may be mapped to the wrong header or hold a format not read; see artifacts/ingest/rejected.jsonl`;
}

export function relativeTo(projectDir: string, file: string): string {
  const relative = path.relative(projectDir, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}
