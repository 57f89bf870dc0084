// records.jsonl → conversations.jsonl in bounded memory. A session's rows can be
// anywhere in the file (CSV exports interleave sessions by time), so records are
// first spread over scratch buckets by a hash of their session id; each bucket
// is small enough to group in memory; the buckets' conversations are then merged
// back into the order of each session's first record.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { JsonlWriter, readJsonl } from '../../formats/jsonl.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { RejectLog } from '../../formats/rejects.ts';
import { LineWriter, readSequenced, sequenced } from '../../formats/lines.ts';
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
      const result = await convertBucket(bucketFile(index, 'records'), bucketFile(index, 'conversations'), rejects);
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

/** Spreads records over buckets by session; returns how many records there were. */
async function partition(recordsFile: string, buckets: number, fileOf: (index: number) => string, rejects: RejectLog): Promise<number> {
  const writers = Array.from({ length: buckets }, (_, index) => new LineWriter(fileOf(index)));
  let seq = 0;
  try {
    for await (const line of readJsonl(recordsFile)) {
      seq++;
      if (!line.ok) {
        await rejects.reject({ file: path.basename(recordsFile), line: line.line, reason: 'malformed record', detail: line.error });
        continue;
      }
      const { session } = line.value as SourceRecord;
      await writers[hash(session) % buckets]!.write(sequenced(seq, line.text));
    }
  } finally {
    await Promise.all(writers.map((writer) => writer.close()));
  }
  return seq;
}

/** Groups one bucket by session and writes its conversations, in order of their first record. */
async function convertBucket(recordsFile: string, conversationsFile: string, rejects: RejectLog): Promise<{ kept: number; messages: number }> {
  const sessions = new Map<string, { first: number; records: SourceRecord[] }>();
  for await (const { seq, text } of readSequenced(recordsFile)) {
    const record = JSON.parse(text) as SourceRecord;
    const session = sessions.get(record.session);
    if (session) session.records.push(record);
    else sessions.set(record.session, { first: seq, records: [record] });
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
        await out.write(sequenced(first, JSON.stringify(result.conversation)));
      }
    }
  } finally {
    await out.close();
  }
  return { kept, messages };
}

/** k-way merge of the buckets' sorted outputs by first-record number; returns the number of conversations. */
async function mergeInOrder(files: readonly string[], output: string): Promise<number> {
  const readers = files.map((file) => readSequenced(file));
  const heads = await Promise.all(readers.map((reader) => reader.next()));
  const out = new LineWriter(output);
  let count = 0;
  try {
    for (;;) {
      let best = -1;
      for (const [index, head] of heads.entries()) {
        if (!head.done && (best < 0 || head.value.seq < (heads[best] as IteratorYieldResult<{ seq: number }>).value.seq)) best = index;
      }
      if (best < 0) break;
      await out.write((heads[best] as IteratorYieldResult<{ text: string }>).value.text);
      count++;
      heads[best] = await readers[best]!.next();
    }
  } finally {
    await out.close();
  }
  return count;
}

/** FNV-1a over UTF-16 code units: fast, and only has to spread sessions, not resist anyone. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
