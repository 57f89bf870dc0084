// The ingest stage's work, loaded only when the stage runs (see stages/ingest.ts).
import type { IngestContext } from '../ingest.ts';
import { ingest } from './ingest.ts';

export async function runIngest(ctx: IngestContext): Promise<void> {
  const { encoding, columns, roles, unknownLabels } = ctx.params;
  const files = [...new Set([...ctx.files.raw, ...ctx.files.loaders])];
  const report = await ingest(files, ctx.outputs, { projectDir: ctx.projectDir, encoding, columns, roles, unknownLabels, log: (m) => ctx.log(m), progress: (units, file) => ctx.progress(units, undefined, `rows/lines read, now ${file}`) });
  ctx.summary(`${report.files} files: ${report.unitsIn} rows/lines in = ${report.unitsAccepted} read (${report.records} records) + ${report.rejected} rejected (${report.rejectedByReason})`);
  for (const note of report.notes) ctx.summary(note);
}
