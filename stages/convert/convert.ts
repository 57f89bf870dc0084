// records.jsonl → conversations.jsonl in bounded memory. A session's rows can be
// anywhere in the file (CSV exports interleave sessions by time), so records are
// first spread over scratch buckets by a hash of their session id; each bucket
// is small enough to group in memory; the buckets' conversations are then merged
// back into the order of each session's first record. With workers, byte ranges
// of the records are partitioned at once and buckets grouped at once, each by a
// worker thread; the output is the same bytes as with one.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TaskPool } from '../../engine/task-pool.ts';
import { joinFiles, lineRanges, type ByteRange } from '../../formats/ranges.ts';
import { parseJsonLine } from '../../formats/jsonl.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { RejectLog, type Rejected } from '../../formats/rejects.ts';
import { LINE_BREAK, LineWriter, readLineBuffers, readSequenced, sequenced } from '../../formats/lines.ts';
import { SessionScanner } from './session-scan.ts';
import { convertSession } from './session.ts';
import type { tasks } from './worker.ts';

/** Records JSON per bucket: grouping one costs a few times this in memory. */
const BUCKET_BYTES = 4 << 20;
const MAX_BUCKETS = 256;
// The merge reads every bucket at once: small reads keep that to a few MiB however many buckets there are.
const CURSOR_READ_BYTES = 1 << 16;
// What each of the partition's bucket writers may queue for the disk.
const BUCKET_QUEUE_BYTES = 1 << 18;
// Below this, starting worker threads costs more than they save.
const PARALLEL_MIN_BYTES = 16 << 20;
const WORKER_URL = new URL('./worker.ts', import.meta.url);
const RANGES_PER_THREAD = 3;

export interface ConvertReport {
  readonly recordsIn: number;
  /** Records that ended in a conversation. */
  readonly kept: number;
  readonly conversations: number;
  readonly messages: number;
  readonly rejected: number;
  readonly rejectedByReason: string;
}

export interface ConvertOptions {
  /** Records JSON per scratch bucket; tests make it small to spread a few records over many buckets. */
  readonly bucketBytes?: number;
  /** Buckets grouped so far, of all of them. */
  readonly progress?: (done: number, total: number) => void;
  /** Worker threads (1: all in this thread). Used only for records of 16 MiB or more, unless `rangeBytes` is given. */
  readonly workers?: number;
  /** Records bytes per partition range; tests make it small to use workers on a few records. */
  readonly rangeBytes?: number;
}

export async function convert(recordsFile: string, outputs: { conversations: string; rejected: string }, scratchDir: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const { bucketBytes = BUCKET_BYTES, progress = () => {}, workers = 1 } = options;
  const dir = await mkdtemp(path.join(scratchDir, 'convert-'));
  const rejects = new RejectLog(outputs.rejected);
  let closed = false;
  const closeRejects = async (): Promise<void> => {
    closed = true;
    await rejects.close();
  };
  try {
    const size = (await stat(recordsFile)).size;
    const buckets = Math.min(MAX_BUCKETS, Math.max(1, Math.ceil(size / bucketBytes)));
    const source = path.basename(recordsFile);
    const bucketFile = (index: number, kind: string, range = 0): string => scratchFile(dir, kind, index, range);
    const parallel = workers > 1 && (options.rangeBytes !== undefined || size >= PARALLEL_MIN_BYTES);
    // A few ranges per thread, so that a thread that starts late or runs slow still finds work.
    const ranges = parallel ? await lineRanges(recordsFile, size, options.rangeBytes ?? Math.ceil(size / (RANGES_PER_THREAD * workers))) : [{ start: 0, end: size }];
    let result: { recordsIn: number; kept: number; messages: number; rejectParts?: string[] };
    if (ranges.length < 2) {
      const recordsIn = await partition(recordsFile, ranges[0]!, buckets, (index) => bucketFile(index, 'records'), (entry) => rejects.reject(entry));
      let kept = 0;
      let messages = 0;
      for (let index = 0; index < buckets; index++) {
        progress(index, buckets);
        const bucket = await convertBucket([{ file: bucketFile(index, 'records'), offset: 0 }], bucketFile(index, 'conversations'), source, rejects);
        kept += bucket.kept;
        messages += bucket.messages;
      }
      result = { recordsIn: recordsIn.records, kept, messages };
    } else {
      result = await convertInWorkers(recordsFile, ranges, buckets, bucketFile, rejects, workers, progress);
    }
    await closeRejects();
    // The buckets' rejects follow the partition's, as one thread writes them.
    if (result.rejectParts) await joinFiles(outputs.rejected, result.rejectParts, true);
    const conversations = await mergeInOrder(Array.from({ length: buckets }, (_, index) => bucketFile(index, 'conversations')), outputs.conversations);
    const { recordsIn, kept, messages } = result;
    if (recordsIn !== kept + rejects.total) throw new Error(`convert lost records: ${recordsIn} in, ${kept} kept, ${rejects.total} rejected`);
    return { recordsIn, kept, conversations, messages, rejected: rejects.total, rejectedByReason: rejects.describe() };
  } finally {
    if (!closed) await closeRejects();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The parallel path: each range partitioned by a worker into its own buckets (line numbers
 * counted from the range's start, then shifted), then each bucket grouped by a worker from
 * its ranges' parts in order. The partition's rejects go to `rejects` in line order; each
 * bucket's are in its own file, returned in bucket order.
 */
async function convertInWorkers(
  recordsFile: string,
  ranges: readonly ByteRange[],
  buckets: number,
  bucketFile: (index: number, kind: string, range?: number) => string,
  rejects: RejectLog,
  workers: number,
  progress: (done: number, total: number) => void,
): Promise<{ recordsIn: number; kept: number; messages: number; rejectParts: string[] }> {
  const pool = new TaskPool<typeof tasks>(WORKER_URL, workers);
  try {
    const parts = await Promise.all(ranges.map((range, r) => pool.run('partition', { recordsFile, range, buckets, dir: path.dirname(bucketFile(0, 'records', r)), rangeIndex: r })));
    let offset = 0;
    const offsets: number[] = [];
    let recordsIn = 0;
    for (const part of parts) {
      offsets.push(offset);
      for (const entry of part.rejected) await rejects.reject({ ...entry, line: entry.line! + offset });
      offset += part.lines;
      recordsIn += part.records;
    }
    let done = 0;
    progress(0, buckets);
    const converted = await Promise.all(
      Array.from({ length: buckets }, async (_, index) => {
        const result = await pool.run('bucket', {
          inputs: ranges.map((_range, r) => ({ file: bucketFile(index, 'records', r), offset: offsets[r]! })),
          conversationsFile: bucketFile(index, 'conversations'),
          rejectedFile: bucketFile(index, 'rejected'),
          source: path.basename(recordsFile),
        });
        progress(++done, buckets);
        return result;
      }),
    );
    rejects.addWrittenElsewhere(converted.flatMap((bucket) => bucket.byReason));
    return {
      recordsIn,
      kept: converted.reduce((sum, bucket) => sum + bucket.kept, 0),
      messages: converted.reduce((sum, bucket) => sum + bucket.messages, 0),
      rejectParts: Array.from({ length: buckets }, (_, index) => bucketFile(index, 'rejected')),
    };
  } finally {
    await pool.close();
  }
}

/** A scratch file of one bucket (and, for the partition's records, one range). */
export function scratchFile(dir: string, kind: string, bucket: number, range = 0): string {
  return path.join(dir, `${kind}-${range}-${bucket}.txt`);
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const TAB = 0x09;

/**
 * Spreads the records of a range of lines over buckets by session, as `<line number>\t<record JSON>`
 * lines, numbered from the range's start; returns how many records and lines there were. Lines as ingest writes them are copied as
 * bytes, the session hashed straight from them: decoding, parsing and re-encoding
 * each record here cost more than grouping them. Any other line (see SessionScanner)
 * is decoded and parsed. Malformed JSON is caught when the bucket is parsed.
 */
export async function partition(
  recordsFile: string,
  range: ByteRange,
  buckets: number,
  fileOf: (index: number) => string,
  reject: (entry: Rejected) => Promise<void> | undefined,
): Promise<{ records: number; lines: number }> {
  const writers = Array.from({ length: buckets }, (_, index) => new LineWriter(fileOf(index), BUCKET_QUEUE_BYTES));
  let lineNumber = 0;
  let records = 0;
  const other = async (text: string): Promise<void> => {
    // readline, which wrote the line numbers users see, also breaks lines at a lone CR
    for (const raw of text.split(LINE_BREAK)) {
      const line = parseJsonLine(++lineNumber, raw);
      if (!line) continue;
      records++;
      if (!line.ok) await reject({ file: path.basename(recordsFile), line: line.line, reason: 'malformed record', detail: line.error });
      else await writers[hashText((line.value as SourceRecord).session) % buckets]!.write(sequenced(line.line, line.text));
    }
  };
  try {
    let carry: Buffer | undefined;
    if (range.end > range.start) for await (const read of createReadStream(recordsFile, { highWaterMark: 1 << 20, start: range.start, end: range.end - 1 })) {
      const chunk = carry ? Buffer.concat([carry, read as Buffer]) : (read as Buffer);
      const scanner = new SessionScanner(chunk);
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; start = end + 1, end = chunk.indexOf(NEWLINE, start)) {
        const stop = chunk[end - 1] === CR && end > start ? end - 1 : end;
        const id = scanner.session(start, stop);
        if (id === undefined) {
          await other(chunk.toString('utf8', start, stop));
          continue;
        }
        records++;
        const wait = writers[hashBytes(chunk, id.start, id.end) % buckets]!.writeBytes(`${++lineNumber}\t`, chunk, start, stop);
        if (wait) await wait;
      }
      carry = start < chunk.length ? chunk.subarray(start) : undefined;
    }
    if (carry) await other(carry.toString('utf8'));
  } finally {
    await Promise.all(writers.map((writer) => writer.close()));
  }
  return { records, lines: lineNumber };
}

/**
 * Groups one bucket by session and writes its conversations, in order of their first record.
 * The bucket is the partition's files in order, each numbered from `offset`.
 */
export async function convertBucket(
  inputs: readonly { readonly file: string; readonly offset: number }[],
  conversationsFile: string,
  source: string,
  rejects: RejectLog,
): Promise<{ kept: number; messages: number }> {
  const sessions = new Map<string, { first: number; records: SourceRecord[] }>();
  for (const { file, offset } of inputs) for await (const batch of readSequenced(file)) {
    for (const { seq: local, text } of batch) {
      const seq = local + offset;
      let record: SourceRecord;
      try {
        record = JSON.parse(text) as SourceRecord;
      } catch (error) {
        await rejects.reject({ file: source, line: seq, reason: 'malformed record', detail: (error as Error).message });
        continue;
      }
      const session = sessions.get(record.session);
      if (session) session.records.push(record);
      else sessions.set(record.session, { first: seq, records: [record] });
    }
  }
  const out = new LineWriter(conversationsFile);
  let kept = 0;
  let messages = 0;
  try {
    // Map order is first-appearance order, so each bucket's output is already sorted by `first`.
    for (const [id, { first, records }] of sessions) {
      const result = convertSession(id, records);
      for (const entry of result.rejected) await rejects.reject(entry);
      kept += result.kept;
      if (result.conversation) {
        messages += result.conversation.conversations.length;
        const wait = out.write(sequenced(first, JSON.stringify(result.conversation)));
        if (wait) await wait;
      }
    }
  } finally {
    await out.close();
  }
  return { kept, messages };
}

/** k-way merge of the buckets' sorted outputs by first-record number; returns the number of conversations. */
async function mergeInOrder(files: readonly string[], output: string): Promise<number> {
  const cursors = await Promise.all(files.map((file) => SequencedCursor.open(file)));
  const out = new LineWriter(output);
  let count = 0;
  try {
    for (;;) {
      let best: SequencedCursor | undefined;
      for (const cursor of cursors) {
        if (cursor.head && (!best || cursor.head.seq < best.head!.seq)) best = cursor;
      }
      if (!best) break;
      const wait = out.writeBytes('', best.head!.line);
      if (wait) await wait;
      count++;
      await best.advance();
    }
  } finally {
    await out.close();
  }
  return count;
}

/** A sequenced scratch file's current line as bytes, read a batch at a time so that moving on rarely awaits. */
class SequencedCursor {
  #batch: readonly Buffer[] = [];
  #index = 0;
  /** Undefined at the end of the file. */
  head: { seq: number; line: Buffer } | undefined;

  private constructor(readonly batches: AsyncGenerator<Buffer[]>) {}

  static async open(file: string): Promise<SequencedCursor> {
    const cursor = new SequencedCursor(readLineBuffers(file, CURSOR_READ_BYTES));
    await cursor.advance();
    return cursor;
  }

  async advance(): Promise<void> {
    if (this.#index >= this.#batch.length) {
      const next = await this.batches.next();
      this.#batch = next.done ? [] : next.value;
      this.#index = 0;
    }
    const bytes = this.#batch[this.#index++];
    if (!bytes) {
      this.head = undefined;
      return;
    }
    const tab = bytes.indexOf(TAB);
    this.head = { seq: Number(bytes.toString('latin1', 0, tab)), line: bytes.subarray(tab + 1) };
  }
}

/** FNV-1a over UTF-8 bytes: fast, and only has to spread sessions, not resist anyone. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function hashText(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  return hashBytes(bytes, 0, bytes.length);
}
