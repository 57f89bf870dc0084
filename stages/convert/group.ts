// Grouping one range of records.jsonl as it is read. Exports list a session's
// records together, so a session is taken to end where the next record's
// session differs, and is converted and written then, in order of its first
// record, with only its records in memory. A session met again later in the
// range is noted; so is every session this range met, for convert.ts to find
// those met by several ranges. Those sessions' lines are left out of the outputs
// and the sessions grouped again, whole, from scratch buckets (spill.ts).
import { both, ConvertedParts, type Parts } from './parts.ts';
import { forEachLine, readRecord, type LineRecord, type Malformed } from './record-line.ts';
import { convertSession } from './session.ts';
import type { ByteRange } from '../../formats/ranges.ts';

export interface GroupInput {
  readonly recordsFile: string;
  readonly range: ByteRange;
  /** The number of the range's first line in the file. */
  readonly firstLine: number;
  /** This range's parts (parts.ts). */
  readonly parts: { readonly conversations: string; readonly rejected: string };
  readonly source: string;
}

export interface Grouped extends Parts {
  /** The hashes of the sessions met in this range, and of those met in it more than once. */
  readonly sessions: Uint32Array;
  readonly split: Uint32Array;
  /** Sessions here do not keep their records together (an export sorted by time): grouping stopped, its parts are not to be used. */
  readonly interleaved: boolean;
}

// After this many records, and every this many after, a range whose sessions mostly come back is given up
// on: grouping it as read would write most sessions in pieces, all to be grouped again.
const INTERLEAVED_CHECK = 1 << 12;

export async function groupRange(input: GroupInput): Promise<Grouped> {
  const parts = new ConvertedParts(input.parts, input.source);
  const seen = new Set<number>();
  const split = new Set<number>();
  let current: { readonly key: string; readonly hash: number; readonly first: number; readonly records: LineRecord[] } | undefined;
  // Malformed lines within the current session: their rejects follow it, in line order.
  let malformed: Malformed[] = [];

  const endSession = (): Promise<void> | undefined => {
    const session = current && parts.session(current.first, current.hash, convertSession(current.records));
    let rejected: Promise<void> | undefined;
    for (const line of malformed) rejected = parts.malformed(line) ?? rejected;
    const wait = both(session, rejected);
    current = undefined;
    malformed = [];
    return wait;
  };

  let result: Parts;
  let interleaved = false;
  let nextCheck = INTERLEAVED_CHECK;
  try {
    await forEachLine(input.recordsFile, input.range, input.firstLine, (seq, bytes, start, stop, utf8) => {
      const record = readRecord(seq, bytes.toString('latin1', start, stop), utf8);
      if (record === undefined) return undefined;
      parts.records++;
      if (!('session' in record)) {
        if (!current) return parts.malformed(record);
        malformed.push(record);
        return undefined;
      }
      if (record.session === current?.key) {
        current.records.push(record);
        return undefined;
      }
      const wait = endSession();
      const hash = sessionHash(record.session);
      if (seen.has(hash)) split.add(hash);
      else seen.add(hash);
      if (parts.records >= nextCheck) {
        nextCheck += INTERLEAVED_CHECK;
        // More than a quarter of the sessions met so far came back: the range is given up on.
        if (split.size * 4 > seen.size) {
          interleaved = true;
          throw INTERLEAVED;
        }
      }
      current = { key: record.session, hash, first: seq, records: [record] };
      return wait;
    });
    await endSession();
  } catch (error) {
    if (error !== INTERLEAVED) throw error;
  } finally {
    result = await parts.close();
  }
  return { ...result, sessions: Uint32Array.from(seen), split: Uint32Array.from(split), interleaved };
}

/** Thrown to stop reading a range found interleaved. */
const INTERLEAVED = Symbol('interleaved');

/** FNV-1a over a session id literal's bytes, as byte text: fast, and only has to spread sessions, not resist anyone. */
export function sessionHash(literal: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < literal.length; i++) h = Math.imul(h ^ literal.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** sessionHash of the literal in `bytes[start, end)`. */
export function sessionHashOfBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
