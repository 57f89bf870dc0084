// CSV exports, streamed: bytes → text (encoding detected or given; UTF-8 kept as
// bytes, see cell-form.ts) → papaparse, one chunk of rows at a time, the parser
// paused while the rows are written so memory stays flat however large the file.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import Papa from 'papaparse';
import { GlmflowError } from '../../engine/errors.ts';
import { hasBom } from '../../formats/byte-reader.ts';
import { TEXT, UTF8_BYTES, type CellForm } from './cell-form.ts';

const SNIFF_BYTES = 1 << 20;
const READ_BYTES = 1 << 20;
// Smaller pieces for the parser: a chunk's rows stay alive until they are written; 16K characters measured a little faster than whole reads.
export const PARSE_CHARS = 1 << 14;

/**
 * The encoding of a CSV file: a BOM decides; otherwise UTF-8 when the first
 * megabyte is valid UTF-8, else GBK (Chinese Excel's default, decoded as GB18030,
 * its superset). A file that turns invalid later fails with a hint, never silently.
 */
export async function detectEncoding(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
    const head = buffer.subarray(0, bytesRead);
    if (hasBom(head)) return 'utf-8';
    if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
    if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
      return 'utf-8';
    } catch {
      return 'gbk';
    }
  } finally {
    await handle.close();
  }
}

/** The WHATWG name of an encoding label (utf8 → utf-8, GBK → gbk), or an error that lists the usual ones. */
function encodingName(label: string): string {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    throw new GlmflowError(`unknown encoding "${label}"`, 'use a WHATWG encoding label: utf-8, gbk, gb18030, big5, shift_jis, utf-16le…, e.g. --set ingest.encoding=gbk');
  }
}

/** The form of the cells parseCsv gives for a file in this encoding: UTF-8 stays bytes (see cell-form.ts). */
export function csvCellForm(encoding: string): CellForm {
  return encodingName(encoding) === 'utf-8' ? UTF8_BYTES : TEXT;
}

function notValid(file: string, encoding: string, from: number, to: number): GlmflowError {
  return new GlmflowError(
    `${file} is not valid ${encoding} (bad bytes within bytes ${from}–${to})`,
    `set its encoding, e.g. --set ingest.encoding=${encoding === 'utf-8' ? 'gbk' : 'utf-8'}`,
  );
}

/** Pushes text to papaparse in pieces: a piece's rows stay alive until they are written. */
function pushPieces(stream: Transform, text: string): void {
  for (let at = 0; at < text.length; at += PARSE_CHARS) stream.push(text.slice(at, at + PARSE_CHARS));
}

/** Bytes → strings, failing (instead of writing U+FFFD) on bytes the encoding cannot hold. */
class Decoder extends Transform {
  readonly #decoder: TextDecoder;
  #offset = 0;

  constructor(
    readonly file: string,
    readonly encoding: string,
  ) {
    super({ readableObjectMode: true });
    this.#decoder = new TextDecoder(encoding, { fatal: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#decode(chunk, true, done);
  }

  override _flush(done: TransformCallback): void {
    this.#decode(new Uint8Array(), false, done);
  }

  #decode(chunk: Uint8Array, stream: boolean, done: TransformCallback): void {
    let text: string;
    try {
      text = this.#decoder.decode(chunk, { stream });
    } catch {
      done(notValid(this.file, this.encoding, this.#offset, this.#offset + chunk.length));
      return;
    }
    this.#offset += chunk.length;
    pushPieces(this, text);
    done();
  }
}

/**
 * A UTF-8 file checked as it is read: each read up to its last whole character, a character cut off at
 * its end checked with the next. Fails on bytes that are not UTF-8, saying where (the bytes of the read).
 */
export class Utf8Check {
  /** The file offset up to which the bytes are checked. */
  #checked: number;

  constructor(
    readonly file: string,
    from: number,
  ) {
    this.#checked = from;
  }

  /** `bytes` hold the file from offset `at` up to `readTo`, where the reads have reached: returns the end, in `bytes`, of the whole characters. */
  check(bytes: Buffer, at: number, readTo: number): number {
    const start = this.#checked - at;
    const end = start + wholeCharacters(bytes.subarray(start, readTo - at));
    if (!isUtf8(bytes.subarray(start, end))) throw notValid(this.file, 'utf-8', this.#checked, readTo);
    this.#checked = at + end;
    return end;
  }

  /** After the last read, which reached `readTo`: a character cut off there is not UTF-8. */
  end(readTo: number): void {
    if (this.#checked < readTo) throw notValid(this.file, 'utf-8', this.#checked, readTo);
  }
}

/** UTF-8 bytes → byte text (formats/byte-text.ts) for papaparse, checked, without the BOM; a character cut off at a read waits for the next. */
class Utf8Bytes extends Transform {
  readonly #check: Utf8Check;
  #tail: Buffer | undefined;
  #readTo: number;

  /** `offset`: where the bytes start in the file (0 but for a range of it). */
  constructor(file: string, offset = 0) {
    super({ readableObjectMode: true });
    this.#check = new Utf8Check(file, offset);
    this.#readTo = offset;
  }

  override _transform(read: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const at = this.#readTo - (this.#tail?.length ?? 0);
    const bytes = this.#tail ? Buffer.concat([this.#tail, read]) : read;
    this.#readTo += read.length;
    let end: number;
    try {
      end = this.#check.check(bytes, at, this.#readTo);
    } catch (error) {
      return done(error as Error);
    }
    this.#tail = end < bytes.length ? Buffer.from(bytes.subarray(end)) : undefined;
    pushPieces(this, bytes.toString('latin1', at === 0 && hasBom(bytes) ? 3 : 0, end));
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#check.end(this.#readTo);
    } catch (error) {
      return done(error as Error);
    }
    done();
  }
}

/** UTF-8 bytes → byte text (formats/byte-text.ts) for papaparse, validated and without the BOM. */
/** The length of `bytes` without a multi-byte character cut off at its end (invalid bytes are left for isUtf8 to find). */
function wholeCharacters(bytes: Uint8Array): number {
  let lead = bytes.length - 1;
  // Back over at most three continuation bytes (10xxxxxx) to the last character's first byte.
  while (lead >= 0 && bytes.length - lead <= 3 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  const first = bytes[lead];
  if (first === undefined || first < 0xc0) return bytes.length;
  const size = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : 2;
  return bytes.length - lead < size ? lead : bytes.length;
}

/** A UTF-8 file's rows from `start` to `end` (bytes), parsed with the delimiter and line break papaparse found for the whole file (csv-ranges.ts). */
export interface CsvPart {
  readonly start: number;
  readonly end: number;
  readonly firstRow: number;
  readonly delimiter: string;
  readonly newline: '\n' | '\r\n';
}

/**
 * Calls `onRows` with each chunk of parsed rows (arrays of cell strings, header
 * row included) and the 1-based row number of the chunk's first row. When it
 * returns a promise (the output is behind), parsing waits for it. With `part`,
 * only those rows of a UTF-8 file.
 */
export function parseCsv(file: string, encoding: string, onRows: (rows: string[][], firstRow: number) => Promise<void> | undefined, part?: CsvPart): Promise<void> {
  return new Promise((resolve, reject) => {
    // 1 MiB reads: with the 64 KiB default the parser waited on the disk a quarter of the time.
    const input = createReadStream(file, { highWaterMark: READ_BYTES, ...(part && { start: part.start, end: part.end - 1 }) });
    const text = input.pipe(csvCellForm(encoding) === UTF8_BYTES ? new Utf8Bytes(file, part?.start) : new Decoder(file, encodingName(encoding)));
    const fail = (error: unknown): void => {
      input.destroy();
      reject(error);
    };
    input.on('error', fail);
    text.on('error', fail);
    let nextRow = part?.firstRow ?? 1;
    Papa.parse<string[]>(text, {
      ...(part && { delimiter: part.delimiter, newline: part.newline }),
      chunk(results, parser) {
        const firstRow = nextRow;
        nextRow += results.data.length;
        let wait: Promise<void> | undefined;
        try {
          wait = onRows(results.data, firstRow);
        } catch (error) {
          fail(error);
          // after fail: aborting completes the parse, which would resolve
          return parser.abort();
        }
        if (!wait) return;
        // Pausing only when the output is behind: a pause per chunk left the reads idle a tenth of the time.
        // papaparse's pause stops parsing but not its input, which would otherwise queue the whole file in memory.
        parser.pause();
        text.pause();
        wait.then(() => {
          parser.resume();
          text.resume();
        }, fail);
      },
      complete: () => resolve(),
      error: fail,
    });
  });
}
