// Where every input unit (table row, JSONL line, loader item) ends: as records,
// or in rejected.jsonl. The counters let the stage prove nothing was lost.
import { LineWriter } from '../../formats/lines.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { RejectLog, type Rejected } from '../../formats/rejects.ts';
import type { RoleMapper } from './mapping.ts';

export class IngestSink {
  readonly records: LineWriter;
  readonly rejects: RejectLog;
  unitsIn = 0;
  unitsAccepted = 0;

  constructor(
    recordsFile: string,
    rejectedFile: string,
    readonly roles: RoleMapper,
  ) {
    this.records = new LineWriter(recordsFile);
    this.rejects = new RejectLog(rejectedFile);
  }

  /** One input unit accepted, as the records it became (a JSONL conversation becomes several). Synchronous unless the disk is behind. */
  accept(records: readonly SourceRecord[]): Promise<void> | undefined {
    this.unitsIn++;
    this.unitsAccepted++;
    const waits = records.map((record) => this.records.writeJson(record)).filter((wait) => wait !== undefined);
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  async reject(entry: Rejected): Promise<void> {
    this.unitsIn++;
    await this.rejects.reject(entry);
  }

  async close(): Promise<void> {
    await Promise.all([this.records.close(), this.rejects.close()]);
  }
}

/** A cell or line shortened for a reject entry: enough to find it, not a copy of the data. */
export function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
