// Grouping one scratch bucket: the records (spill.ts) of the sessions whose
// hash falls in it, from every range in order, converted in order of each
// session's first record.
import { isUtf8 } from 'node:buffer';
import { readLineBuffers } from '../../formats/lines.ts';
import { ConvertedParts, NO_SESSION, type Parts } from './parts.ts';
import { readRecord, type LineRecord } from './record-line.ts';
import { convertSession } from './session.ts';

const TAB = 0x09;

export async function groupBucket(inputs: readonly string[], parts: { readonly conversations: string; readonly rejected: string }, source: string): Promise<Parts> {
  // Map order is first-appearance order: the files are in line order.
  const sessions = new Map<string, LineRecord[]>();
  const out = new ConvertedParts(parts, source);
  let counts: Parts;
  try {
    for (const file of inputs) for await (const lines of readLineBuffers(file)) {
      for (const bytes of lines) {
        const tab = bytes.indexOf(TAB);
        const seq = Number(bytes.toString('latin1', 0, tab));
        const record = readRecord(seq, bytes.toString('latin1', tab + 1), isUtf8(bytes.subarray(tab + 1)));
        // Only records are copied: a line that read as one in the range reads as one here.
        if (record === undefined || !('session' in record)) throw new Error(`convert: copied line ${seq} no longer reads as a record`);
        out.records++;
        const records = sessions.get(record.session);
        if (records) records.push(record);
        else sessions.set(record.session, [record]);
      }
    }
    for (const records of sessions.values()) {
      // These lines are final: no hash marks them for leaving out.
      const wait = out.session(records[0]!.seq, NO_SESSION, convertSession(records));
      if (wait) await wait;
    }
  } finally {
    counts = await out.close();
  }
  return counts;
}
