// ingest: raw shop exports (xlsx, CSV, JSONL/JSON, loader modules) → one
// normalized record per message, plus every row it could not read and why.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { defineStage, output, type StageContext } from '../engine/stage.ts';
import { COLUMN_NAMES } from './ingest/mapping.ts';

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
  /** Threads reading files and ranges of large CSV and JSONL files at once (1: the stage's own thread); used for 256 MiB of files or more. Does not change results. */
  workers: z.number().int().min(1).max(64).default(availableParallelism()),
});

export const ingestStage = defineStage({
  name: 'ingest',
  module: import.meta.url,
  description: 'read raw exports into normalized message records',
  params,
  inputs: {},
  untracked: ['workers'],
  files: (p) => ({ raw: p.glob, loaders: p.loaders }),
  outputs: {
    records: output('records', 'records.jsonl', 'one message per line: file, sheet, row/line, session, time, label, role, text'),
    rejected: output('rejected', 'rejected.jsonl', 'input rows/lines not read, with file, row/line and reason'),
  },
  packages: ['exceljs', 'papaparse'],
  async run(ctx) {
    // Loaded here, not at the top: exceljs and papaparse took ~1 s to import, and a no-op run should not pay for them.
    const { runIngest } = await import('./ingest/run.ts');
    await runIngest(ctx);
  },
});

export type IngestContext = StageContext<z.output<typeof params>, (typeof ingestStage)['inputs'], (typeof ingestStage)['outputs'], 'raw' | 'loaders'>;
