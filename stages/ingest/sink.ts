// Where every input unit (table row, JSONL line, loader item) ends: as records,
// or in rejected.jsonl. The counters let the stage prove nothing was lost.
import { LineWriter } from '../../formats/lines.ts';
import { recordLine, type Location, type RecordFields } from '../../formats/record.ts';
import { RejectLog, type Rejected } from '../../formats/rejects.ts';
import type { RoleMapper } from './mapping.ts';

// Often enough for a live count, rarely enough to cost nothing per row.
const PROGRESS_EVERY = 1 << 14;

export class IngestSink {
  readonly records: LineWriter;
  readonly rejects: RejectLog;
  unitsIn = 0;
  unitsAccepted = 0;

  constructor(
    recordsFile: string,
    rejectedFile: string,
    readonly roles: RoleMapper,
    /** Called with the units read so far, every few thousand. */
    readonly onProgress: (unitsIn: number) => void = () => {},
  ) {
    // 8 MiB may wait for the disk: with 1 MiB a million-row CSV waited on writes for a tenth of its time.
    this.records = new LineWriter(recordsFile, 1 << 23);
    this.rejects = new RejectLog(rejectedFile);
  }

  /**
   * One input unit accepted, as the records it became (a JSONL conversation becomes several). Synchronous
   * unless the disk is behind. `latin1` when the strings hold UTF-8 bytes (see cell-form.ts).
   */
  accept(at: Location, records: readonly RecordFields[], encoding: 'utf8' | 'latin1' = 'utf8'): Promise<void> | undefined {
    this.#count();
    this.unitsAccepted++;
    let waits: Promise<void>[] | undefined;
    for (const record of records) {
      const wait = this.records.write(recordLine(at, record), encoding);
      if (wait) (waits ??= []).push(wait);
    }
    return waits && Promise.all(waits).then(() => undefined);
  }

  /** One input unit accepted as one record whose line the caller writes (LineWriter.writeInto). */
  acceptInto(size: number, line: { writeInto(batch: Buffer, at: number): number }): Promise<void> | undefined {
    this.#count();
    this.unitsAccepted++;
    return this.records.writeInto(size, line);
  }

  async reject(entry: Rejected): Promise<void> {
    this.#count();
    await this.rejects.reject(entry);
  }

  #count(): void {
    if (++this.unitsIn % PROGRESS_EVERY === 0) this.onProgress(this.unitsIn);
  }

  async close(): Promise<void> {
    await Promise.all([this.records.close(), this.rejects.close()]);
  }
}

/** A cell or line shortened for a reject entry: enough to find it, not a copy of the data. */
export function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
