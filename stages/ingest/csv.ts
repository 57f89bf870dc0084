// CSV exports, streamed: bytes → text (encoding detected or given) → papaparse,
// one chunk of rows at a time, the parser paused while the rows are written so
// memory stays flat however large the file.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import Papa from 'papaparse';
import { GlmflowError } from '../../engine/errors.ts';

const SNIFF_BYTES = 1 << 20;
const READ_BYTES = 1 << 20;
// Smaller pieces for the parser: a chunk's rows stay alive until they are written; 16K characters measured a little faster than whole reads.
const PARSE_CHARS = 1 << 14;

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
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
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

/** Bytes → strings, failing (instead of writing U+FFFD) on bytes the encoding cannot hold. */
class Decoder extends Transform {
  readonly #decoder: TextDecoder;
  #offset = 0;

  constructor(
    readonly file: string,
    readonly encoding: string,
  ) {
    super({ readableObjectMode: true });
    try {
      this.#decoder = new TextDecoder(encoding, { fatal: true });
    } catch {
      throw new GlmflowError(`unknown encoding "${encoding}"`, 'use a WHATWG encoding label: utf-8, gbk, gb18030, big5, shift_jis, utf-16le…, e.g. --set ingest.encoding=gbk');
    }
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
      done(
        new GlmflowError(
          `${this.file} is not valid ${this.encoding} (bad bytes within bytes ${this.#offset}–${this.#offset + chunk.length})`,
          `set its encoding, e.g. --set ingest.encoding=${this.encoding === 'utf-8' ? 'gbk' : 'utf-8'}`,
        ),
      );
      return;
    }
    this.#offset += chunk.length;
    for (let at = 0; at < text.length; at += PARSE_CHARS) this.push(text.slice(at, at + PARSE_CHARS));
    done();
  }
}

/**
 * Calls `onRows` with each chunk of parsed rows (arrays of cell strings, header
 * row included) and the 1-based row number of the chunk's first row. The next
 * chunk is parsed only after `onRows` resolves.
 */
export function parseCsv(file: string, encoding: string, onRows: (rows: string[][], firstRow: number) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    // 1 MiB reads: with the 64 KiB default the parser waited on the disk a quarter of the time.
    const input = createReadStream(file, { highWaterMark: READ_BYTES });
    const text = input.pipe(new Decoder(file, encoding));
    const fail = (error: unknown): void => {
      input.destroy();
      reject(error);
    };
    input.on('error', fail);
    text.on('error', fail);
    let nextRow = 1;
    Papa.parse<string[]>(text, {
      chunk(results, parser) {
        // papaparse's pause stops parsing but not its input, which would otherwise queue the whole file in memory
        parser.pause();
        text.pause();
        const firstRow = nextRow;
        nextRow += results.data.length;
        onRows(results.data, firstRow).then(() => {
          parser.resume();
          text.resume();
        }, fail);
      },
      complete: () => resolve(),
      error: fail,
    });
  });
}
