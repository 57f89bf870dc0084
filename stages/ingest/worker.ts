// ingest's work on a worker thread (see parallel.ts): one file, or one byte range
// of a large CSV, read into its own part of records.jsonl and rejected.jsonl.
import type { LineRange } from '../../formats/jsonl.ts';
import type { RecordRole } from '../../formats/record.ts';
import type { CsvPart } from './csv.ts';
import { readCsv, readFile, type IngestOptions } from './ingest.ts';
import { readJsonFile } from './jsonl.ts';
import { readLoader } from './loader.ts';
import { RoleMapper, type ColumnOverrides } from './mapping.ts';
import { ObjectReader } from './objects.ts';
import { IngestSink } from './sink.ts';

export interface ReadUnit {
  readonly file: string;
  readonly relative: string;
  readonly loader: boolean;
  /** A range of a CSV file, with the file's header and encoding. */
  readonly part?: { readonly range: CsvPart; readonly header: readonly string[]; readonly encoding: string };
  /** A range of lines of a file of JSON lines. */
  readonly lines?: LineRange;
  readonly recordsFile: string;
  readonly rejectedFile: string;
  readonly options: { readonly projectDir: string; readonly encoding: string; readonly columns: ColumnOverrides; readonly roles: Readonly<Record<string, RecordRole>>; readonly unknownLabels: 'error' | 'reject'; readonly csvBytes?: boolean };
}

/** What a unit's reading adds to the stage's counts, notes and log, in the order a single thread would have them. */
export interface UnitResult {
  readonly unitsIn: number;
  readonly unitsAccepted: number;
  readonly records: number;
  readonly byReason: (readonly [string, number])[];
  /** The first reject's detail for each reason. */
  readonly examples: (readonly [string, string | undefined])[];
  readonly unknown: (readonly [string, { count: number; first: string }])[];
  readonly notes: string[];
  readonly log: string[];
  /** The keys row objects were mapped by (JSON lines), from the first row object read. */
  readonly rowKeys?: readonly string[];
}

export async function readUnit(unit: ReadUnit, progress: (unitsIn: number) => void): Promise<UnitResult> {
  const sink = new IngestSink(unit.recordsFile, unit.rejectedFile, new RoleMapper(unit.options.roles), progress);
  const notes: string[] = [];
  const log: string[] = [];
  const options: IngestOptions = { ...unit.options, log: (message) => void log.push(message) };
  let objects: ObjectReader | undefined;
  try {
    if (unit.loader) await readLoader(unit.file, unit.relative, new ObjectReader(sink, options.columns));
    else if (unit.part) await readCsv(unit.file, unit.relative, sink, options, unit.part);
    else if (unit.lines) await readJsonFile(unit.file, unit.relative, (objects = new ObjectReader(sink, options.columns)), unit.lines);
    else await readFile(unit.file, unit.relative, sink, options, (message) => void notes.push(message));
  } finally {
    await sink.close();
  }
  return {
    unitsIn: sink.unitsIn,
    unitsAccepted: sink.unitsAccepted,
    records: sink.records.count,
    byReason: [...sink.rejects.byReason],
    examples: [...sink.rejects.firstByReason].map(([reason, entry]) => [reason, entry.detail] as const),
    unknown: [...sink.roles.unknown],
    notes,
    log,
    ...(objects?.rowKeys && { rowKeys: objects.rowKeys }),
  };
}

export const tasks = { read: readUnit };
