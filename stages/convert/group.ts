// Grouping one range of records.jsonl as it is read (see spans.ts): each
// session's records are held until its last one, then it is converted and
// written in order of its first record; records of spilled sessions are copied
// to scratch buckets as `<line>\t<record>` lines for bucket.ts.
import path from 'node:path';
import type { ByteRange } from '../../formats/ranges.ts';
import { LineWriter } from '../../formats/lines.ts';
import { ConvertedParts, type PartCounts } from './parts.ts';
import { forEachLine, readRecord, type LineRecord, type Malformed } from './record-line.ts';
import { convertSession, held, type ConvertedSession } from './session.ts';
import { sessionHash, type RangePlan } from './spans.ts';

// What each bucket writer may queue for the disk: there may be hundreds.
const BUCKET_QUEUE_BYTES = 1 << 18;
// Written entries are dropped from the queue's front in steps of at least this many.
const QUEUE_TRIM = 1 << 12;

export interface GroupInput {
  readonly recordsFile: string;
  readonly range: ByteRange;
  readonly plan: RangePlan;
  readonly buckets: number;
  /** This range's parts (parts.ts). */
  readonly parts: { readonly conversations: string; readonly rejected: string };
  /** Where its spilled records go: spillFile(dir, rangeIndex, bucket). */
  readonly dir: string;
  readonly rangeIndex: number;
  readonly source: string;
}

/** The scratch file of one range's spilled records of one bucket. */
export function spillFile(dir: string, range: number, bucket: number): string {
  return path.join(dir, `spilled-${range}-${bucket}.txt`);
}

/** A session being read, or a line whose reject waits for the sessions before it. */
interface Pending {
  readonly first: number;
  readonly key: string;
  readonly last: number;
  records: LineRecord[];
  malformed?: Malformed;
  /** Converted while sessions before it are still open. */
  converted?: ConvertedSession;
  done: boolean;
}

/** Returns the range's counts (its spilled records apart) and the buckets it spilled records to. */
export async function groupRange(input: GroupInput): Promise<PartCounts & { spilled: number; buckets: number[] }> {
  const { plan } = input;
  const lasts = new Map<number, number>();
  for (let i = 0; i < plan.lastHashes.length; i++) lasts.set(plan.lastHashes[i]!, plan.lastLines[i]!);
  const spilled = new Set(plan.spilled);
  const parts = new ConvertedParts(input.parts, input.source);
  const bucketWriters = new Map<number, LineWriter>();
  const open = new Map<number, Pending[]>();
  const queue: Pending[] = [];
  let head = 0;
  let spilledRecords = 0;
  let counts: PartCounts;

  // Writes the finished entries at the queue's front.
  const flush = (): Promise<void> | undefined => {
    let waits: Promise<void>[] | undefined;
    for (; head < queue.length && queue[head]!.done; head++) {
      const entry = queue[head]!;
      const wait = entry.malformed ? parts.malformed(entry.malformed) : parts.session(entry.first, entry.converted ?? convertSession(entry.records));
      entry.records = [];
      if (wait) (waits ??= []).push(wait);
    }
    // Written entries are dropped at once: held on, each kept its first record's line alive long enough for the collector to copy it.
    if (head === queue.length) queue.length = head = 0;
    else if (head >= QUEUE_TRIM && head * 2 >= queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    return waits && Promise.all(waits).then(() => undefined);
  };

  // The open session of this id, or a new one.
  const session = (hash: number, key: string, seq: number): Pending => {
    let sessions = open.get(hash);
    const found = sessions?.find((pending) => pending.key === key);
    if (found) return found;
    const last = lasts.get(hash);
    if (last === undefined || last < seq) throw new Error(`convert: line ${seq} holds a record of a session the first read did not place there`);
    const pending: Pending = { first: seq, key, last, records: [], done: false };
    queue.push(pending);
    if (sessions) sessions.push(pending);
    else open.set(hash, (sessions = [pending]));
    return pending;
  };

  /**
   * A session whose last record was read. One that must wait for sessions before it is converted now, its
   * lines copied out of the heap: its records would keep their lines alive, and the collector copying them,
   * for as long as it waits (up to a window of lines).
   */
  const complete = (pending: Pending): void => {
    pending.done = true;
    if (pending === queue[head]) return;
    pending.converted = held(convertSession(pending.records));
    pending.records = [];
  };

  const spill = (hash: number, seq: number, line: string): Promise<void> | undefined => {
    spilledRecords++;
    const index = hash % input.buckets;
    let writer = bucketWriters.get(index);
    if (!writer) bucketWriters.set(index, (writer = new LineWriter(spillFile(input.dir, input.rangeIndex, index), BUCKET_QUEUE_BYTES)));
    return writer.write(`${seq}\t${line}`, 'latin1');
  };

  // A session's records mostly follow each other: the last one's session is kept to skip the lookup.
  let current: Pending | undefined;
  let currentHash = 0;
  let currentSpilled = false;
  try {
    await forEachLine(input.recordsFile, input.range, plan.firstLine, (seq, bytes, start, stop, utf8) => {
      const line = bytes.toString('latin1', start, stop);
      const record = readRecord(seq, line, utf8);
      if (record === undefined) return undefined;
      if (!('session' in record)) {
        parts.records++;
        queue.push({ first: seq, key: '', last: seq, records: [], malformed: record, done: true });
        return flush();
      }
      if (record.session !== current?.key) {
        currentHash = sessionHash(record.session);
        currentSpilled = spilled.has(currentHash);
        // A spilled session is not held here: its entry only remembers the id.
        current = currentSpilled ? { first: seq, key: record.session, last: seq, records: [], done: true } : session(currentHash, record.session, seq);
      }
      if (currentSpilled) return spill(currentHash, seq, line);
      // The first read saw every line this one sees: a record past its session's last line would be a fault of convert's own.
      if (current.done) throw new Error(`convert: line ${seq} holds a record of a session the first read ended before it`);
      parts.records++;
      current.records.push(record);
      if (seq !== current.last) return undefined;
      // Sessions that share a hash share its last line.
      for (const pending of open.get(currentHash)!) complete(pending);
      open.delete(currentHash);
      return flush();
    });
    // Sessions the first read saw a record of on a line that turned out malformed: complete now.
    for (const sessions of open.values()) for (const pending of sessions) pending.done = true;
    await flush();
  } finally {
    await Promise.all([...bucketWriters.values()].map((writer) => writer.close()));
    counts = await parts.close();
  }
  return { ...counts, spilled: spilledRecords, buckets: [...bucketWriters.keys()] };
}
