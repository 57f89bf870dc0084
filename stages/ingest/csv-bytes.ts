// A UTF-8 CSV read straight from its bytes, for the rows most exports are made
// of. Rows are split by strict rules (a field is plain, or quoted with "" for a
// quote, and ends at a delimiter or line break), and a row TableReader would
// accept as written becomes its record line by copying bytes: no string, no
// array of cells, which were most of ingest's time on a million-row export.
// Any other row goes to TableReader as cells. The first row the strict rules
// cannot split as papaparse would (a stray quote, text after a closing quote,
// a CR or LF that is not the file's line break) ends this reader: papaparse
// (csv.ts) goes on from that row's first byte, where it would have been too.
import { ByteReader, hasBom } from '../../formats/byte-reader.ts';
import { hasEdgeSpace } from '../../formats/byte-text.ts';
import { linePieces, type RecordRole } from '../../formats/record.ts';
import { Utf8Check } from './csv.ts';
import type { IngestSink } from './sink.ts';
import type { TableReader } from './table.ts';

/** Bytes `[start, end)` of a file, from a row's first byte, the first of them row `firstRow`. */
export interface RowSpan {
  readonly start: number;
  readonly end: number;
  readonly firstRow: number;
}

export interface CsvDialect {
  readonly delimiter: string;
  readonly newline: '\n' | '\r\n';
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
// More fields than this in a row: left to papaparse.
const MAX_FIELDS = 64;
// A row's split: not yet (its end is in the next read), or not by these rules.
const MORE = -1;
const UNSURE = -2;

/**
 * Reads the rows of `span`; `table` is undefined when its first row is the header, which `newTable` maps.
 * Returns where papaparse must go on (and the table by then), or undefined when every row was read.
 */
export async function readCsvBytes(
  file: string,
  relative: string,
  span: RowSpan,
  dialect: CsvDialect,
  sink: IngestSink,
  table: TableReader | undefined,
  newTable: (header: string[]) => TableReader,
): Promise<{ readonly span: RowSpan; readonly table: TableReader | undefined } | undefined> {
  const rows = new RowSplitter(dialect);
  const line = new RecordLine(relative);
  let row = span.firstRow;
  // One row: the header, a record line written from its bytes, or cells for TableReader.
  const take = (bytes: Buffer): Promise<void> | undefined => {
    if (!table) {
      table = newTable(rows.cells(bytes));
      return undefined;
    }
    const size = line.set(bytes, rows, table, row);
    if (size > 0) return sink.acceptInto(size, line);
    return table.row(rows.cells(bytes), { file: relative, row });
  };
  // Checked as papaparse's input is (csv.ts), so that bad bytes stop the stage with the same message.
  const check = new Utf8Check(file, span.start);
  const reader = await ByteReader.open(file, span);
  try {
    while (await reader.fill()) {
      let whole = check.check(reader.bytes, reader.at, reader.readTo);
      // The BOM is not part of the first row.
      if (reader.at === 0 && hasBom(reader.bytes)) {
        reader.consume(3);
        whole -= 3;
      }
      const bytes = reader.bytes.subarray(0, whole);
      const last = reader.done && bytes.length === reader.bytes.length;
      let at = 0;
      while (at < bytes.length) {
        const end = rows.split(bytes, at, last);
        if (end === MORE) break;
        if (end === UNSURE) {
          reader.consume(at);
          return { span: { start: reader.at, end: span.end, firstRow: row }, table };
        }
        const wait = take(bytes);
        if (wait) await wait;
        row++;
        at = end;
      }
      reader.consume(at);
    }
    check.end(reader.readTo);
  } finally {
    await reader.close();
  }
  return undefined;
}

/** Splits a row into fields by the strict rules, into offsets reused from row to row. */
class RowSplitter {
  readonly #delimiter: number;
  readonly #crlf: boolean;
  readonly starts = new Int32Array(MAX_FIELDS);
  readonly ends = new Int32Array(MAX_FIELDS);
  /** Whether each field was quoted, and whether it holds "" (a quote, written twice). */
  readonly quoted = new Uint8Array(MAX_FIELDS);
  readonly doubled = new Uint8Array(MAX_FIELDS);
  count = 0;

  constructor(dialect: CsvDialect) {
    this.#delimiter = dialect.delimiter.charCodeAt(0);
    this.#crlf = dialect.newline === '\r\n';
  }

  /** The end of the row starting at `at` (after its line break), MORE, or UNSURE. `last`: `bytes` end where the span does. */
  split(bytes: Buffer, at: number, last: boolean): number {
    const length = bytes.length;
    const delimiter = this.#delimiter;
    const crlf = this.#crlf;
    this.count = 0;
    for (let field = at; ; ) {
      if (this.count === MAX_FIELDS) return UNSURE;
      let start = field;
      let end: number;
      let next: number;
      const quoted = bytes[field] === QUOTE;
      let doubled = false;
      if (quoted) {
        start = field + 1;
        let quote = start;
        for (;;) {
          quote = bytes.indexOf(QUOTE, quote);
          if (quote === -1 || quote + 1 === length) return last && quote + 1 === length ? this.#push(start, quote, true, doubled, length) : last ? UNSURE : MORE;
          if (bytes[quote + 1] !== QUOTE) break;
          doubled = true;
          quote += 2;
        }
        end = quote;
        next = quote + 1;
      } else {
        next = field;
        while (next < length) {
          const byte = bytes[next]!;
          if (byte === delimiter || byte === LF || byte === CR || byte === QUOTE) break;
          next++;
        }
        end = next;
        if (next === length) return last ? this.#push(start, end, false, false, length) : MORE;
      }
      const byte = bytes[next];
      if (byte === delimiter) {
        this.#push(start, end, quoted, doubled, 0);
        field = next + 1;
        continue;
      }
      if (crlf && byte === CR) {
        if (next + 1 === length) return last ? UNSURE : MORE;
        return bytes[next + 1] === LF ? this.#push(start, end, quoted, doubled, next + 2) : UNSURE;
      }
      if (!crlf && byte === LF) return this.#push(start, end, quoted, doubled, next + 1);
      return UNSURE;
    }
  }

  #push(start: number, end: number, quoted: boolean, doubled: boolean, rowEnd: number): number {
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.quoted[this.count] = quoted ? 1 : 0;
    this.doubled[this.count] = doubled ? 1 : 0;
    this.count++;
    return rowEnd;
  }

  /** The row's cells as byte text, as papaparse gives them. */
  cells(bytes: Buffer): string[] {
    const cells: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const text = bytes.toString('latin1', this.starts[i], this.ends[i]);
      cells.push(this.doubled[i] ? text.replaceAll('""', '"') : text);
    }
    return cells;
  }
}

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
const ROW = ascii(',"row":');
const SESSION = ascii(linePieces.session('').slice(0, -'","time":'.length));
const SESSION_END = ascii('","time":');
const NULL = ascii('null');

/** A record line as TableReader would have it written, from a row's bytes: set, then written by LineWriter. */
class RecordLine {
  readonly #source: Buffer;
  /** Sender labels of known roles, as the cells hold them, and the line's piece from the label to the text. */
  readonly #labels: Buffer[] = [];
  readonly #speakers: Buffer[] = [];
  #bytes: Buffer = Buffer.alloc(0);
  #rows: RowSplitter | undefined;
  #session = 0;
  #content = 0;
  #time = -1;
  #speaker: Buffer = Buffer.alloc(0);
  #row = 0;

  constructor(relative: string) {
    // Records name the file in byte text, as the cells hold text (TableReader's #inForm).
    this.#source = ascii(linePieces.source(Buffer.from(relative, 'utf8').toString('latin1')));
  }

  /** The line's size at most, or 0 when TableReader must read the row (anything it would reject, trim or escape). */
  set(bytes: Buffer, rows: RowSplitter, table: TableReader, row: number): number {
    const { columns } = table;
    const time = columns.time ?? -1;
    const { starts, ends } = rows;
    if (Math.max(columns.session, columns.sender, columns.content, time) >= rows.count) return 0;
    const session = plainText(bytes, rows, columns.session);
    if (session <= 0 || hasEdgeSpaceBytes(bytes, starts[columns.session]!, ends[columns.session]!)) return 0;
    if (plainText(bytes, rows, columns.content) < 0) return 0;
    if (time !== -1 && ends[time]! > starts[time]! && !isCanonicalTimeBytes(bytes, starts[time]!, ends[time]!)) return 0;
    const speaker = this.#speakerOf(bytes, rows, columns.sender, table);
    if (!speaker) return 0;
    this.#bytes = bytes;
    this.#rows = rows;
    this.#session = columns.session;
    this.#content = columns.content;
    this.#time = time;
    this.#speaker = speaker;
    this.#row = row;
    return this.#source.length + ROW.length + 16 + SESSION.length + session + SESSION_END.length + 21 + speaker.length + 2 + (ends[columns.content]! - starts[columns.content]!) + 2;
  }

  /** The piece from the label to the text for the row's label, if its role is known; a shop's few labels are compared byte by byte. */
  #speakerOf(bytes: Buffer, rows: RowSplitter, sender: number, table: TableReader): Buffer | undefined {
    const start = rows.starts[sender]!;
    const end = rows.ends[sender]!;
    for (let i = 0; i < this.#labels.length; i++) if (equalBytes(this.#labels[i]!, bytes, start, end)) return this.#speakers[i];
    const label = bytes.toString('latin1', start, end);
    const role: RecordRole | undefined = rows.doubled[sender] || hasEdgeSpace(label) ? undefined : table.knownRole(label);
    // Not yet known: TableReader reads this row, and learns or rejects the label.
    if (role === undefined) return undefined;
    const speaker = ascii(linePieces.speaker(label, role));
    // A copy: the reader reuses its buffer.
    this.#labels.push(Buffer.from(bytes.subarray(start, end)));
    this.#speakers.push(speaker);
    return speaker;
  }

  writeInto(batch: Buffer, at: number): number {
    const bytes = this.#bytes;
    const { starts, ends } = this.#rows!;
    const time = this.#time;
    let to = copy(this.#source, 0, this.#source.length, batch, at);
    to = copy(ROW, 0, ROW.length, batch, to);
    to = writeDigits(this.#row, batch, to);
    to = copy(SESSION, 0, SESSION.length, batch, to);
    to = copy(bytes, starts[this.#session]!, ends[this.#session]!, batch, to);
    to = copy(SESSION_END, 0, SESSION_END.length, batch, to);
    if (time === -1 || ends[time] === starts[time]) to = copy(NULL, 0, NULL.length, batch, to);
    else {
      batch[to++] = QUOTE;
      to = copy(bytes, starts[time]!, ends[time]!, batch, to);
      batch[to++] = QUOTE;
    }
    to = copy(this.#speaker, 0, this.#speaker.length, batch, to);
    batch[to++] = QUOTE;
    to = copy(bytes, starts[this.#content]!, ends[this.#content]!, batch, to);
    batch[to++] = QUOTE;
    batch[to++] = 0x7d; // }
    batch[to++] = LF;
    return to;
  }
}

/** The length of field `index` when its bytes need no JSON escape, else -1. A field with "" holds a quote. */
function plainText(bytes: Buffer, rows: RowSplitter, index: number): number {
  if (rows.doubled[index]) return -1;
  const start = rows.starts[index]!;
  const end = rows.ends[index]!;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20 || byte === BACKSLASH) return -1;
  }
  return end - start;
}

/** hasEdgeSpace on the bytes themselves: ASCII ids need no string to be checked. */
function hasEdgeSpaceBytes(bytes: Buffer, start: number, end: number): boolean {
  const first = bytes[start]!;
  const last = bytes[end - 1]!;
  if (first < 0x80 && last < 0x80) return first <= 0x20 || last <= 0x20;
  return hasEdgeSpace(bytes.toString('latin1', start, end));
}

const DIGIT_0 = 0x30;

/** isCanonicalTime (time.ts) on bytes: YYYY-MM-DD HH:MM:SS with month 01–12, day 01–31, hour 00–23, minutes and seconds 00–59. */
function isCanonicalTimeBytes(bytes: Buffer, start: number, end: number): boolean {
  if (end - start !== 19 || bytes[start + 4] !== 0x2d || bytes[start + 7] !== 0x2d || bytes[start + 10] !== 0x20 || bytes[start + 13] !== 0x3a || bytes[start + 16] !== 0x3a) return false;
  for (const at of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]) {
    const byte = bytes[start + at]!;
    if (byte < DIGIT_0 || byte > DIGIT_0 + 9) return false;
  }
  const month = twoDigits(bytes, start + 5);
  const day = twoDigits(bytes, start + 8);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && twoDigits(bytes, start + 11) <= 23 && twoDigits(bytes, start + 14) <= 59 && twoDigits(bytes, start + 17) <= 59;
}

function twoDigits(bytes: Buffer, at: number): number {
  return (bytes[at]! - DIGIT_0) * 10 + bytes[at + 1]! - DIGIT_0;
}

function equalBytes(a: Buffer, bytes: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== bytes[start + i]) return false;
  return true;
}

/** A row number's digits. */
function writeDigits(value: number, batch: Buffer, at: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  for (let i = digits - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 10)) batch[at + i] = DIGIT_0 + (rest % 10);
  return at + digits;
}

/** Short ranges are copied byte by byte, cheaper than making a view for a label or a time; longer ones with TypedArray set (measured 1.2x faster overall than Buffer.copy from 64 bytes). */
function copy(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  if (end - start > 16) {
    to.set(start === 0 && end === from.length ? from : from.subarray(start, end), at);
    return at + end - start;
  }
  for (let i = start; i < end; i++) to[at++] = from[i]!;
  return at;
}
