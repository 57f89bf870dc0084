// Where convert cuts records.jsonl into ranges for its threads: after a line
// whose session the next line does not continue, so that a session whose records
// follow each other lies in one range and is grouped as it is read.
import { open } from 'node:fs/promises';
import type { ByteRange } from '../../formats/ranges.ts';
import { SessionScanner } from './session-scan.ts';

const NEWLINE = 0x0a;
// How far a cut may move to fall between sessions: a session longer than this is cut (and grouped again from buckets).
const ALIGN_BYTES = 1 << 20;

/**
 * The ranges with each cut moved forward to the next line whose session is not the line before's, so that
 * a session whose records follow each other, as most exports have them, lies in one range and is not grouped again.
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
