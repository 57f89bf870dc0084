// A large UTF-8 CSV cut into byte ranges that workers parse at once. A cut must
// fall where papaparse ends a row (never inside a quoted field, which may hold
// line breaks), and each range must know the number of its first row, so the
// file is scanned once for row ends, following papaparse's rules for quotes.
// Only rows with a quote need those rules; the others end at the next line break.
import { open, type FileHandle } from 'node:fs/promises';
import Papa from 'papaparse';
import type { CsvDialect } from './csv-bytes.ts';
import { hasBom } from '../../formats/byte-reader.ts';
import { PARSE_CHARS } from './csv.ts';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const READ_BYTES = 1 << 23;

export interface CsvRange {
  readonly start: number;
  readonly end: number;
  /** The 1-based number of the range's first row (the header is row 1). */
  readonly firstRow: number;
}

export interface CsvLayout {
  /** As papaparse guesses them from the first piece of text it is given; ranges are parsed with these set. */
  readonly delimiter: string;
  readonly newline: '\n' | '\r\n';
  /** The header row's cells, in the byte form of cell-form.ts. */
  readonly header: readonly string[];
  readonly ranges: readonly CsvRange[];
}

/**
 * The file's ranges of about `rangeBytes`, or undefined when it is not one that can be cut
 * safely (a delimiter or line break papaparse might guess otherwise on a later piece).
 */
export async function csvRanges(file: string, rangeBytes: number): Promise<CsvLayout | undefined> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const dialect = await guessDialect(handle, size);
    if (!dialect) return undefined;
    const { delimiter, newline, bom } = dialect;
    const scanner = new RowScanner(Buffer.from(delimiter, 'latin1')[0]!, Buffer.from(newline, 'latin1'));
    const ranges: CsvRange[] = [];
    let header: string[] | undefined;
    let rangeStart = bom;
    let rangeFirstRow = 1;
    let rows = 0;
    let carry = Buffer.alloc(0);
    let carryAt = bom;
    for (let at = bom; at < size; ) {
      const read = Buffer.allocUnsafe(Math.min(READ_BYTES, size - at));
      const { bytesRead } = await handle.read(read, 0, read.length, at);
      at += bytesRead;
      const bytes = carry.length ? Buffer.concat([carry, read.subarray(0, bytesRead)]) : read.subarray(0, bytesRead);
      let row = 0;
      for (let end = scanner.rowEnd(bytes, 0, at >= size); end !== -1; end = scanner.rowEnd(bytes, row, at >= size)) {
        if (rows === 0) header = Papa.parse<string[]>(bytes.toString('latin1', row, end), { delimiter, newline, preview: 1 }).data[0] ?? [];
        rows++;
        row = end;
        const offset = carryAt + end;
        if (offset - rangeStart >= rangeBytes && offset < size) {
          ranges.push({ start: rangeStart, end: offset, firstRow: rangeFirstRow });
          rangeStart = offset;
          rangeFirstRow = rows + 1;
        }
        if (row >= bytes.length) break;
      }
      carry = Buffer.from(bytes.subarray(row));
      carryAt += row;
    }
    ranges.push({ start: rangeStart, end: size, firstRow: rangeFirstRow });
    return { delimiter, newline, header: header ?? [], ranges };
  } finally {
    await handle.close();
  }
}

/**
 * The delimiter and line break papaparse takes a UTF-8 file to have, guessed from the first piece of text
 * it is given, and where its text starts (after a BOM); undefined unless a delimiter or line break papaparse
 * might guess otherwise on a later piece (neither , nor a tab; neither \n nor \r\n).
 */
export async function guessDialect(handle: FileHandle, size: number): Promise<(CsvDialect & { readonly bom: number }) | undefined> {
  const head = Buffer.alloc(Math.min(size, PARSE_CHARS + 3));
  await handle.read(head, 0, head.length, 0);
  const bom = hasBom(head) ? 3 : 0;
  // The parser's first piece is PARSE_CHARS chars of the bytes after the BOM (see csv.ts).
  const meta = Papa.parse<string[]>(head.toString('latin1', bom, bom + PARSE_CHARS), { preview: 1 });
  const { delimiter, linebreak } = meta.meta;
  if (!(delimiter === ',' || delimiter === '\t') || !(linebreak === '\n' || linebreak === '\r\n')) return undefined;
  return { delimiter, newline: linebreak, bom };
}

/** Where papaparse ends rows, for one delimiter and line break. */
class RowScanner {
  /** The next quote at or after a position in `#bytes`, searched again only once passed: quotes are rare, rows are not. */
  #bytes: Buffer | undefined;
  #quote = -1;

  constructor(
    readonly delimiter: number,
    readonly newline: Buffer,
  ) {}

  /** Where the next line break at or after `from` starts; searched by its LF, which a one-byte search finds several times faster. */
  #nextNewline(bytes: Buffer, from: number): number {
    const crlf = this.newline.length === 2;
    for (let lf = bytes.indexOf(LF, from); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
      if (!crlf) return lf;
      // In a CRLF file a lone LF is text, not a line break.
      if (lf > from && bytes[lf - 1] === CR) return lf - 1;
    }
    return -1;
  }

  #nextQuote(bytes: Buffer, from: number): number {
    if (bytes !== this.#bytes || (this.#quote !== -1 && this.#quote < from)) {
      this.#bytes = bytes;
      this.#quote = bytes.indexOf(QUOTE, from);
    }
    return this.#quote;
  }

  /**
   * The end (after the line break) of the row starting at `start`, or -1 when it does not end
   * within `bytes`; at the end of the file, the end of `bytes`.
   */
  rowEnd(bytes: Buffer, start: number, last: boolean): number {
    if (start >= bytes.length) return -1;
    const newline = this.#nextNewline(bytes, start);
    const quote = this.#nextQuote(bytes, start);
    // No quote before the line break: nothing in the row can hide one.
    if (quote === -1 || (newline !== -1 && quote > newline)) return newline === -1 ? (last ? bytes.length : -1) : newline + this.newline.length;
    return this.#quotedRowEnd(bytes, start, last);
  }

  /** Field by field, as papaparse reads them: a field starting with a quote runs to a quote followed by (blanks and) a delimiter or line break. */
  #quotedRowEnd(bytes: Buffer, start: number, last: boolean): number {
    const end = (position: number): number => (position === -1 ? (last ? bytes.length : -1) : position);
    for (let field = start; ; ) {
      if (bytes[field] !== QUOTE) {
        const delimiter = bytes.indexOf(this.delimiter, field);
        const newline = this.#nextNewline(bytes, field);
        if (newline !== -1 && (delimiter === -1 || newline < delimiter)) return newline + this.newline.length;
        if (delimiter === -1) return end(-1);
        field = delimiter + 1;
        continue;
      }
      let search = field;
      for (;;) {
        search = bytes.indexOf(QUOTE, search + 1);
        if (search === -1 || search === bytes.length - 1) return end(-1);
        if (bytes[search + 1] === QUOTE) {
          search++;
          continue;
        }
        // As papaparse: blanks are skipped up to the nearer of the next delimiter and line break (-1 when there is no delimiter).
        const delimiter = bytes.indexOf(this.delimiter, search + 1);
        const newline = this.#nextNewline(bytes, search + 1);
        const upTo = newline === -1 ? delimiter : Math.min(delimiter, newline);
        if (bytes[search + 1 + blanks(bytes, search + 1, upTo)] === this.delimiter) {
          field = search + 1 + blanks(bytes, search + 1, upTo) + 1;
          break;
        }
        if (newline !== -1 && search + 1 + blanks(bytes, search + 1, newline) === newline) return newline + this.newline.length;
      }
    }
  }
}

/** papaparse's extraSpaces: the length of bytes [from, to) when they are whitespace only as trim() of its text (one char per byte) sees it, else 0. */
function blanks(bytes: Buffer, from: number, to: number): number {
  return to > from && bytes.toString('latin1', from, to).trim() === '' ? to - from : 0;
}
