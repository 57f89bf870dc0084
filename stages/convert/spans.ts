// Where each session's records lie in records.jsonl, found by a first read of
// it: a session whose records all lie within a window of lines of one range
// is grouped as the range is read (group.ts), and is written as soon as its
// last record is passed; any other is spilled to scratch buckets and grouped
// after (bucket.ts). Sessions are known by a hash of their id's literal: two
// ids with one hash share a span, which only ever makes it wider. A line the
// first read took for a record and the second finds malformed (a line cut
// short, say) also only widens its session's span.
import { open } from 'node:fs/promises';
import type { ByteRange } from '../../formats/ranges.ts';
import { forEachLine, readRecord } from './record-line.ts';
import { SessionScanner } from './session-scan.ts';

/** A range's sessions: hash, first and last line (numbered from 1 at the range's start) and record count, index by index. */
export interface RangeSpans {
  readonly lines: number;
  readonly hashes: Uint32Array;
  readonly first: Uint32Array;
  readonly last: Uint32Array;
  readonly records: Uint32Array;
}

/** What grouping one range needs to know: the last line of each session it groups, and the sessions it spills. */
export interface RangePlan {
  /** The range's first line in the file. */
  readonly firstLine: number;
  readonly lastHashes: Uint32Array;
  readonly lastLines: Float64Array;
  readonly spilled: Uint32Array;
}

/**
 * The first read: each line's session found in its bytes (session-scan.ts) where that is certain, else
 * by reading the record as group.ts reads it, so both reads place every record alike.
 */
export async function scanSpans(file: string, range: ByteRange): Promise<RangeSpans> {
  const index = new Map<number, number>();
  const hashes: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  const records: number[] = [];
  let scanner: SessionScanner | undefined;
  // A session's records mostly follow each other: the last one's place is kept to skip the lookup.
  let lastHash = -1;
  let lastAt = -1;
  const lines = await forEachLine(file, range, 1, (seq, bytes, start, stop, utf8) => {
    if (scanner?.bytes !== bytes) scanner = new SessionScanner(bytes);
    // Bytes that are not valid UTF-8 are read as U+FFFD: the id is then not its bytes.
    const id = utf8 ? scanner.session(start, stop) : undefined;
    let hash: number;
    if (id) hash = hashBytes(bytes, id.start - 1, id.end + 1);
    else {
      const record = readRecord(seq, bytes.toString('latin1', start, stop), utf8);
      if (record === undefined || !('session' in record)) return undefined;
      hash = sessionHash(record.session);
    }
    if (hash !== lastHash) {
      lastHash = hash;
      lastAt = index.get(hash) ?? -1;
      if (lastAt === -1) {
        lastAt = hashes.length;
        index.set(hash, lastAt);
        hashes.push(hash);
        first.push(seq);
        last.push(seq);
        records.push(0);
      }
    }
    last[lastAt] = seq;
    records[lastAt]!++;
    return undefined;
  });
  return { lines, hashes: Uint32Array.from(hashes), first: Uint32Array.from(first), last: Uint32Array.from(last), records: Uint32Array.from(records) };
}

/**
 * Each range's plan, and how many records are spilled: those of sessions in more than one range or spanning
 * `window` lines or more. Held in memory at once while grouping: at most a window of records per range.
 */
export function planRanges(spans: readonly RangeSpans[], window: number): { plans: RangePlan[]; spilledRecords: number } {
  // Per hash: its range (-1: several), its first and last line in the file, its records.
  const sessions = new Map<number, { range: number; first: number; last: number; records: number }>();
  let offset = 0;
  for (const [range, { lines, hashes, first, last, records }] of spans.entries()) {
    for (let i = 0; i < hashes.length; i++) {
      const seen = sessions.get(hashes[i]!);
      if (seen) {
        seen.range = -1;
        seen.last = offset + last[i]!;
        seen.records += records[i]!;
      } else sessions.set(hashes[i]!, { range, first: offset + first[i]!, last: offset + last[i]!, records: records[i]! });
    }
    offset += lines;
  }
  const grouped = spans.map(() => ({ hashes: [] as number[], lines: [] as number[], spilled: [] as number[] }));
  let spilledRecords = 0;
  for (const [hash, { range, first, last, records }] of sessions) {
    if (range !== -1 && last - first < window) {
      grouped[range]!.hashes.push(hash);
      grouped[range]!.lines.push(last);
      continue;
    }
    spilledRecords += records;
    // A spilled session is named to every range: the ranges it is in find it among them.
    for (const plan of grouped) plan.spilled.push(hash);
  }
  let firstLine = 1;
  const plans = grouped.map((plan, range) => {
    const result: RangePlan = { firstLine, lastHashes: Uint32Array.from(plan.hashes), lastLines: Float64Array.from(plan.lines), spilled: Uint32Array.from(plan.spilled) };
    firstLine += spans[range]!.lines;
    return result;
  });
  return { plans, spilledRecords };
}

/** FNV-1a over a session id literal's bytes, as byte text: fast, and only has to spread sessions, not resist anyone. */
export function sessionHash(literal: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < literal.length; i++) h = Math.imul(h ^ literal.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** sessionHash of the literal in `bytes[start, end)`. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

const NEWLINE = 0x0a;
// How far a cut may move to fall between sessions: a session longer than this is cut (and spilled).
const ALIGN_BYTES = 1 << 20;

/**
 * The ranges with each cut moved forward to the next line whose session is not the line before's, so that
 * a session whose records follow each other, as most exports have them, lies in one range and is not spilled.
 */
export async function alignToSessions(file: string, ranges: readonly ByteRange[]): Promise<ByteRange[]> {
  const handle = await open(file, 'r');
  try {
    const cuts = [0];
    for (const { start } of ranges.slice(1)) {
      const from = Math.max(cuts.at(-1)!, start - ALIGN_BYTES);
      const window = Buffer.allocUnsafe(start - from + ALIGN_BYTES);
      const { bytesRead } = await handle.read(window, 0, window.length, from);
      const cut = from + sessionBreak(window.subarray(0, bytesRead), start - from, from === cuts.at(-1));
      if (cut > cuts.at(-1)! && cut < ranges.at(-1)!.end) cuts.push(cut);
    }
    cuts.push(ranges.at(-1)!.end);
    return cuts.slice(1).map((end, index) => ({ start: cuts[index]!, end }));
  } finally {
    await handle.close();
  }
}

/**
 * The first line start at or after `at` (a line start) whose session is not the previous line's; `at` where either is
 * unknown. `bytes` start at a line start only when `startsLine`.
 */
function sessionBreak(bytes: Buffer, at: number, startsLine: boolean): number {
  const newline = at >= 2 ? bytes.lastIndexOf(NEWLINE, at - 2) : -1;
  if (newline === -1 && !startsLine) return at;
  const scanner = new SessionScanner(bytes);
  const idOf = (start: number, end: number): string | undefined => {
    const id = scanner.session(start, end);
    return id && bytes.toString('latin1', id.start, id.end);
  };
  const previous = idOf(newline + 1, at - 1);
  if (previous === undefined) return at;
  for (let start = at, end = bytes.indexOf(NEWLINE, start); end !== -1; start = end + 1, end = bytes.indexOf(NEWLINE, start)) {
    if (idOf(start, end) !== previous) return start;
  }
  return at;
}
