// records.jsonl → conversations.jsonl in bounded memory. A session's rows can be
// anywhere in the file (CSV exports interleave sessions by time), so records are
// first spread over scratch buckets by a hash of their session id; each bucket
// is small enough to group in memory; the buckets' conversations are then merged
// back into the order of each session's first record.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseJsonLine } from '../../formats/jsonl.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { RejectLog } from '../../formats/rejects.ts';
import { LINE_BREAK, LineWriter, readLineBuffers, readSequenced, sequenced } from '../../formats/lines.ts';
import { convertSession } from './session.ts';

/** Records JSON per bucket: grouping one costs a few times this in memory. */
const BUCKET_BYTES = 4 << 20;
const MAX_BUCKETS = 256;

export interface ConvertReport {
  readonly recordsIn: number;
  /** Records that ended in a conversation. */
  readonly kept: number;
  readonly conversations: number;
  readonly messages: number;
  readonly rejected: number;
  readonly rejectedByReason: string;
}

export async function convert(recordsFile: string, outputs: { conversations: string; rejected: string }, scratchDir: string, bucketBytes = BUCKET_BYTES): Promise<ConvertReport> {
  const dir = await mkdtemp(path.join(scratchDir, 'convert-'));
  const rejects = new RejectLog(outputs.rejected);
  try {
    const buckets = Math.min(MAX_BUCKETS, Math.max(1, Math.ceil((await stat(recordsFile)).size / bucketBytes)));
    const bucketFile = (index: number, kind: string): string => path.join(dir, `${kind}-${index}.txt`);
    const recordsIn = await partition(recordsFile, buckets, (index) => bucketFile(index, 'records'), rejects);
    let kept = 0;
    let messages = 0;
    for (let index = 0; index < buckets; index++) {
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

const SESSION_KEY = Buffer.from(',"session":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CR = 0x0d;
const TAB = 0x09;

/**
 * Spreads records over buckets by session, as `<line number>\t<record JSON>` lines;
 * returns how many records there were. Lines as ingest writes them are copied as
 * bytes with the session read straight from them: decoding, parsing and re-encoding
 * each record here cost more than grouping them. Any other line (blank, BOM, escaped
 * session id, lone CR) is decoded and parsed. Malformed JSON is caught when the
 * bucket is parsed.
 */
async function partition(recordsFile: string, buckets: number, fileOf: (index: number) => string, rejects: RejectLog): Promise<number> {
  const writers = Array.from({ length: buckets }, (_, index) => new LineWriter(fileOf(index)));
  let lineNumber = 0;
  let records = 0;
  try {
    for await (const batch of readLineBuffers(recordsFile)) {
      for (const bytes of batch) {
        const session = bytes[0] === OPEN_BRACE ? sessionOf(bytes) : undefined;
        if (session !== undefined) {
          records++;
          const wait = writers[hash(session) % buckets]!.writeBytes(`${++lineNumber}\t`, bytes);
          if (wait) await wait;
          continue;
        }
        // readline, which wrote the line numbers users see, also breaks lines at a lone CR
        for (const raw of bytes.toString('utf8').split(LINE_BREAK)) {
          const line = parseJsonLine(++lineNumber, raw);
          if (!line) continue;
          records++;
          if (!line.ok) await rejects.reject({ file: path.basename(recordsFile), line: line.line, reason: 'malformed record', detail: line.error });
          else await writers[hash((line.value as SourceRecord).session) % buckets]!.write(sequenced(line.line, line.text));
        }
      }
    }
  } finally {
    await Promise.all(writers.map((writer) => writer.close()));
  }
  return records;
}

/** The session id of a record line as ingest writes it, undefined for anything else. */
function sessionOf(bytes: Buffer): string | undefined {
  const key = bytes.indexOf(SESSION_KEY);
  if (key < 0 || bytes.includes(CR)) return undefined;
  const start = key + SESSION_KEY.length;
  const end = bytes.indexOf(QUOTE, start);
  const id = end < 0 ? undefined : bytes.subarray(start, end);
  return id && !id.includes(BACKSLASH) ? id.toString('utf8') : undefined;
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
    const cursor = new SequencedCursor(readLineBuffers(file));
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

/** FNV-1a over UTF-16 code units: fast, and only has to spread sessions, not resist anyone. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
