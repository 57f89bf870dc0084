// Where every input unit (table row, JSONL line, loader item) ends: as records,
// or in rejected.jsonl. The counters let the stage prove nothing was lost.
import { JsonlWriter } from '../../formats/jsonl.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { RejectLog, type Rejected } from '../../formats/rejects.ts';
import type { RoleMapper } from './mapping.ts';

export class IngestSink {
  readonly records: JsonlWriter;
  readonly rejects: RejectLog;
  unitsIn = 0;
  unitsAccepted = 0;

  constructor(
    recordsFile: string,
    rejectedFile: string,
    readonly roles: RoleMapper,
  ) {
    this.records = new JsonlWriter(recordsFile);
    this.rejects = new RejectLog(rejectedFile);
  }

  /** One input unit accepted, as the records it became (a JSONL conversation becomes several). */
  async accept(records: readonly SourceRecord[]): Promise<void> {
    this.unitsIn++;
    this.unitsAccepted++;
    for (const record of records) await this.records.write(record);
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
