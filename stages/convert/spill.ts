// Sessions whose records do not follow each other, or lie in several ranges
// (group.ts), are grouped again whole: a range's records of those sessions are
// copied to scratch buckets by hash, as `<line>\t<record>` lines for bucket.ts.
import path from 'node:path';
import { LineWriter } from '../../formats/lines.ts';
import type { ByteRange } from '../../formats/ranges.ts';
import { sessionHash } from './group.ts';
import { forEachLine, readRecord } from './record-line.ts';

// What each bucket writer may queue for the disk: there may be hundreds.
const BUCKET_QUEUE_BYTES = 1 << 18;

export interface SpillInput {
  readonly recordsFile: string;
  readonly range: ByteRange;
  readonly firstLine: number;
  /** The hashes of the sessions to group again. */
  readonly sessions: Uint32Array;
  readonly buckets: number;
  readonly dir: string;
  readonly rangeIndex: number;
}

/** The scratch file of one range's records of one bucket. */
export function spillFile(dir: string, range: number, bucket: number): string {
  return path.join(dir, `spilled-${range}-${bucket}.txt`);
}

/** Returns how many records were copied, and the buckets they went to. */
export async function spillRange(input: SpillInput): Promise<{ records: number; buckets: number[] }> {
  const wanted = new Set(input.sessions);
  const writers = new Map<number, LineWriter>();
  let records = 0;
  try {
    await forEachLine(input.recordsFile, input.range, input.firstLine, (seq, bytes, start, stop, utf8) => {
      const line = bytes.toString('latin1', start, stop);
      const record = readRecord(seq, line, utf8);
      if (record === undefined || !('session' in record)) return undefined;
      const hash = sessionHash(record.session);
      if (!wanted.has(hash)) return undefined;
      records++;
      const bucket = hash % input.buckets;
      let writer = writers.get(bucket);
      if (!writer) writers.set(bucket, (writer = new LineWriter(spillFile(input.dir, input.rangeIndex, bucket), BUCKET_QUEUE_BYTES)));
      return writer.write(`${seq}\t${line}`, 'latin1');
    });
  } finally {
    await Promise.all([...writers.values()].map((writer) => writer.close()));
  }
  return { records, buckets: [...writers.keys()] };
}
