// Grouping one scratch bucket: the records (spill.ts) of the sessions whose
// hash falls in it, from every range in order, converted in order of each
// session's first record.
import { stat } from 'node:fs/promises';
import { ConvertedParts, NO_SESSION, type Parts } from './parts.ts';
import { forEachLine, readRecord, type LineRecord, type Malformed } from './record-line.ts';
import { SessionScanner } from './session-scan.ts';
import { convertSession, type ConvertedSession } from './session.ts';

const TAB = 0x09;

export async function groupBucket(inputs: readonly string[], parts: { readonly conversations: string; readonly rejected: string }, source: string): Promise<Parts> {
  // Each session's lines, not its parsed records, are held until the bucket is read, and the session found in a
  // line's bytes where that is certain: record objects held with their pieces tripled a bucket's time, most of it
  // the collector's. Map order is first-appearance order: the files are in line order.
  const sessions = new Map<string, { seqs: number[]; lines: string[]; utf8: boolean[] }>();
  const malformed: Malformed[] = [];
  const out = new ConvertedParts(parts, source);
  let counts: Parts;
  try {
    for (const file of inputs) {
      let scanner: SessionScanner | undefined;
      await forEachLine(file, { start: 0, end: (await stat(file)).size }, 1, (_, bytes, start, stop, utf8) => {
        const tab = bytes.indexOf(TAB, start);
        const seq = Number(bytes.toString('latin1', start, tab));
        const line = bytes.toString('latin1', tab + 1, stop);
        if (scanner?.bytes !== bytes) scanner = new SessionScanner(bytes);
        const id = utf8 ? scanner.session(tab + 1, stop) : undefined;
        let key: string;
        if (id) key = bytes.toString('latin1', id.start - 1, id.end + 1);
        else {
          const record = readRecord(seq, line, utf8);
          // Blank lines are never copied; malformed ones only where every line is.
          if (record === undefined) throw new Error(`convert: copied line ${seq} is blank`);
          if (!('session' in record)) {
            out.records++;
            malformed.push(record);
            return undefined;
          }
          key = record.session;
        }
        out.records++;
        const session = sessions.get(key);
        if (session) {
          session.seqs.push(seq);
          session.lines.push(line);
          session.utf8.push(utf8);
        } else sessions.set(key, { seqs: [seq], lines: [line], utf8: [utf8] });
        return undefined;
      });
    }
    const converted: { first: number; session: ConvertedSession }[] = [];
    for (const { seqs, lines, utf8 } of sessions.values()) {
      const records: LineRecord[] = [];
      for (const [i, line] of lines.entries()) {
        // A line whose id its bytes showed may still turn out malformed (cut short after the id, say).
        const record = readRecord(seqs[i]!, line, utf8[i]!)!;
        if ('session' in record) records.push(record);
        else malformed.push(record);
      }
      if (records.length > 0) converted.push({ first: records[0]!.seq, session: convertSession(records) });
    }
    // The part in line order: sessions by their first record (a malformed first line moves it), each malformed line's reject among them.
    converted.sort((a, b) => a.first - b.first);
    malformed.sort((a, b) => a.seq - b.seq);
    let next = 0;
    const rejectUpTo = async (seq: number): Promise<void> => {
      for (; next < malformed.length && malformed[next]!.seq < seq; next++) await out.malformed(malformed[next]!);
    };
    for (const { first, session } of converted) {
      await rejectUpTo(first);
      // These lines are final: no hash marks them for leaving out.
      const wait = out.session(first, NO_SESSION, session);
      if (wait) await wait;
    }
    await rejectUpTo(Infinity);
  } finally {
    counts = await out.close();
  }
  return counts;
}
