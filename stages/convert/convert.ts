// records.jsonl → conversations.jsonl in bounded memory. A session's rows can be
// anywhere in the file (CSV exports interleave sessions by time), so records are
// first spread over scratch buckets by a hash of their session id; each bucket
// is small enough to group in memory; the buckets' conversations are then merged
// back into the order of each session's first record.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseJsonLine } from '../../formats/jsonl.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { RejectLog } from '../../formats/rejects.ts';
import { LINE_BREAK, LineWriter, readLineBuffers, readSequenced, sequenced } from '../../formats/lines.ts';
import { SessionScanner } from './session-scan.ts';
import { convertSession } from './session.ts';

/** Records JSON per bucket: grouping one costs a few times this in memory. */
const BUCKET_BYTES = 4 << 20;
const MAX_BUCKETS = 256;
// The merge reads every bucket at once: small reads keep that to a few MiB however many buckets there are.
const CURSOR_READ_BYTES = 1 << 16;
// What each of the partition's bucket writers may queue for the disk.
const BUCKET_QUEUE_BYTES = 1 << 18;

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
}

export async function convert(recordsFile: string, outputs: { conversations: string; rejected: string }, scratchDir: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const { bucketBytes = BUCKET_BYTES, progress = () => {} } = options;
  const dir = await mkdtemp(path.join(scratchDir, 'convert-'));
  const rejects = new RejectLog(outputs.rejected);
  try {
    const buckets = Math.min(MAX_BUCKETS, Math.max(1, Math.ceil((await stat(recordsFile)).size / bucketBytes)));
    const bucketFile = (index: number, kind: string): string => path.join(dir, `${kind}-${index}.txt`);
    const recordsIn = await partition(recordsFile, buckets, (index) => bucketFile(index, 'records'), rejects);
    let kept = 0;
    let messages = 0;
    for (let index = 0; index < buckets; index++) {
      progress(index, buckets);
      const result = await convertBucket(bucketFile(index, 'records'), bucketFile(index, 'conversations'), path.basename(recordsFile), rejects);
      kept += result.kept;
      messages += result.messages;
    }
    const conversations = await mergeInOrder(Array.from({ length: buckets }, (_, index) => bucketFile(index, 'conversations')), outputs.conversations);
    if (recordsIn !== kept + rejects.total) throw new Error(`convert lost records: ${recordsIn} in, ${kept} kept, ${rejects.total} rejected`);
    return { recordsIn, kept, conversations, messages, rejected: rejects.total, rejectedByReason: rejects.describe() };
  } finally {
    await rejects.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const TAB = 0x09;

/**
 * Spreads records over buckets by session, as `<line number>\t<record JSON>` lines;
 * returns how many records there were. Lines as ingest writes them are copied as
 * bytes, the session hashed straight from them: decoding, parsing and re-encoding
 * each record here cost more than grouping them. Any other line (see SessionScanner)
 * is decoded and parsed. Malformed JSON is caught when the bucket is parsed.
 */
async function partition(recordsFile: string, buckets: number, fileOf: (index: number) => string, rejects: RejectLog): Promise<number> {
  const writers = Array.from({ length: buckets }, (_, index) => new LineWriter(fileOf(index), BUCKET_QUEUE_BYTES));
  let lineNumber = 0;
  let records = 0;
  const other = async (text: string): Promise<void> => {
    // readline, which wrote the line numbers users see, also breaks lines at a lone CR
    for (const raw of text.split(LINE_BREAK)) {
      const line = parseJsonLine(++lineNumber, raw);
      if (!line) continue;
      records++;
      if (!line.ok) await rejects.reject({ file: path.basename(recordsFile), line: line.line, reason: 'malformed record', detail: line.error });
      else await writers[hashText((line.value as SourceRecord).session) % buckets]!.write(sequenced(line.line, line.text));
    }
  };
  try {
    let carry: Buffer | undefined;
    for await (const read of createReadStream(recordsFile, { highWaterMark: 1 << 20 })) {
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
  return records;
}

/** Groups one bucket by session and writes its conversations, in order of their first record. */
async function convertBucket(recordsFile: string, conversationsFile: string, source: string, rejects: RejectLog): Promise<{ kept: number; messages: number }> {
  const sessions = new Map<string, { first: number; records: SourceRecord[] }>();
  for await (const batch of readSequenced(recordsFile)) {
    for (const { seq, text } of batch) {
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
