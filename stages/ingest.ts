// ingest: raw shop exports (xlsx, CSV, JSONL/JSON, loader modules) → one
// normalized record per message, plus every row it could not read and why.
import { z } from 'zod';
import { defineStage, output } from '../engine/stage.ts';
import { COLUMN_NAMES } from './ingest/mapping.ts';
import { ingest } from './ingest/ingest.ts';

const params = z.object({
  /** Raw files, relative to the project (a glob or a list of them). */
  glob: z.union([z.string(), z.array(z.string())]).default('data/raw/**/*'),
  /** Loader modules (.ts/.js) exporting an async iterable of rows or conversations. */
  loaders: z.array(z.string()).default([]),
  /** CSV encoding: `auto` (BOM, else UTF-8 if valid, else GBK) or a label such as gbk, utf-8, big5. */
  encoding: z.string().default('auto'),
  /** Header names for your export when they are not recognised, e.g. { session: '订单号' }. */
  columns: z.partialRecord(z.enum(COLUMN_NAMES), z.string()).default({}),
  /** Sender label → role, added to the built-in ones, e.g. { 客服主管: 'assistant' }. */
  roles: z.record(z.string(), z.enum(['user', 'assistant', 'system', 'notice'])).default({}),
  /** Unknown sender labels stop the stage (`error`) or send their rows to rejected.jsonl (`reject`). */
  unknownLabels: z.enum(['error', 'reject']).default('error'),
});

export const ingestStage = defineStage({
  name: 'ingest',
  module: import.meta.url,
  description: 'read raw exports into normalized message records',
  params,
  inputs: {},
  files: (p) => ({ raw: p.glob, loaders: p.loaders }),
  outputs: {
    records: output('records', 'records.jsonl', 'one message per line: file, sheet, row/line, session, time, label, role, text'),
    rejected: output('rejected', 'rejected.jsonl', 'input rows/lines not read, with file, row/line and reason'),
  },
  packages: ['exceljs', 'papaparse'],
  async run(ctx) {
    const { encoding, columns, roles, unknownLabels } = ctx.params;
    const files = [...new Set([...ctx.files.raw, ...ctx.files.loaders])];
    const report = await ingest(files, ctx.outputs, { projectDir: ctx.projectDir, encoding, columns, roles, unknownLabels, log: (m) => ctx.log(m) });
    ctx.summary(`${report.files} files: ${report.unitsIn} rows/lines in = ${report.unitsAccepted} read (${report.records} records) + ${report.rejected} rejected (${report.rejectedByReason})`);
    for (const note of report.notes) ctx.summary(note);
  },
});
