// Sessions whose records do not follow each other, or lie in several ranges
// (group.ts), are grouped again whole: a range's records of those sessions are
// copied to scratch buckets by hash, as `<line>\t<record>` lines for bucket.ts.
// Where records are interleaved throughout, every line is copied, malformed
// ones too (bucket.ts rejects them).
import path from 'node:path';
import { LineWriter } from '../../formats/lines.ts';
import type { ByteRange } from '../../formats/ranges.ts';
import { sessionHash, sessionHashOfBytes } from './group.ts';
import { forEachLine, readRecord } from './record-line.ts';
import { SessionScanner } from './session-scan.ts';

// What each bucket writer may queue for the disk: there may be hundreds.
const BUCKET_QUEUE_BYTES = 1 << 18;

export interface SpillInput {
  readonly recordsFile: string;
  readonly range: ByteRange;
  readonly firstLine: number;
  /** The hashes of the sessions to group again; every line when undefined. */
  readonly sessions?: Uint32Array;
  readonly buckets: number;
  readonly dir: string;
  readonly rangeIndex: number;
}

/** The scratch file of one range's records of one bucket. */
export function spillFile(dir: string, range: number, bucket: number): string {
  return path.join(dir, `spilled-${range}-${bucket}.txt`);
}

/** Returns how many lines were copied, and the buckets they went to. */
export async function spillRange(input: SpillInput): Promise<{ records: number; buckets: number[] }> {
  const wanted = input.sessions && new Set(input.sessions);
  const writers = new Map<number, LineWriter>();
  let records = 0;
  let scanner: SessionScanner | undefined;
  // Which session a line is of: read from its bytes where that is certain and every line is copied (a line cut
  // short after its id is then rejected in its bucket); else read as group.ts reads it, so that only the lines
  // it grouped are copied.
  const hashOf = (seq: number, bytes: Buffer, start: number, stop: number, utf8: boolean): number | undefined => {
    if (!wanted && utf8) {
      if (scanner?.bytes !== bytes) scanner = new SessionScanner(bytes);
      const id = scanner.session(start, stop);
      if (id) return sessionHashOfBytes(bytes, id.start - 1, id.end + 1);
    }
    const record = readRecord(seq, bytes.toString('latin1', start, stop), utf8);
    if (record === undefined) return undefined;
    if (!('session' in record)) return wanted ? undefined : 0;
    return sessionHash(record.session);
  };
  try {
    await forEachLine(input.recordsFile, input.range, input.firstLine, (seq, bytes, start, stop, utf8) => {
      const hash = hashOf(seq, bytes, start, stop, utf8);
      if (hash === undefined || (wanted && !wanted.has(hash))) return undefined;
      records++;
      const bucket = hash % input.buckets;
      let writer = writers.get(bucket);
      if (!writer) writers.set(bucket, (writer = new LineWriter(spillFile(input.dir, input.rangeIndex, bucket), BUCKET_QUEUE_BYTES)));
      return writer.writeBytes(`${seq}\t`, bytes, start, stop);
    });
  } finally {
    await Promise.all([...writers.values()].map((writer) => writer.close()));
  }
  return { records, buckets: [...writers.keys()] };
}
