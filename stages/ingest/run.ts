// The ingest stage's work, loaded only when the stage runs (see stages/ingest.ts).
import type { IngestContext } from '../ingest.ts';
import { leftOutOf } from '../../engine/files.ts';
import { ingest, relativeTo } from './ingest.ts';

export async function runIngest(ctx: IngestContext): Promise<void> {
  const { encoding, columns, roles, unknownLabels, workers } = ctx.params;
  const loaders = new Set(ctx.files.loaders);
  const raw = ctx.files.raw.filter((file) => !loaders.has(file));
  const report = await ingest(raw, ctx.outputs, { projectDir: ctx.projectDir, loaders: [...loaders], workers, encoding, columns, roles, unknownLabels, log: (m) => ctx.log(m), progress: (units, file) => ctx.progress(units, undefined, `rows/lines read, now ${file}`) });
  ctx.summary(`${report.files} files: ${report.unitsIn} rows/lines in = ${report.unitsAccepted} read (${report.records} records) + ${report.rejected} rejected (${report.rejectedByReason})`);
  for (const note of report.notes) ctx.summary(note);
  // Links the file listing did not follow: said, since their data (if any) was not read.
  for (const { file, reason } of leftOutOf(ctx.projectDir, ctx.params.glob)) ctx.summary(`${relativeTo(ctx.projectDir, file)}: skipped, ${reason}`);
}
