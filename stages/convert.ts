// convert: message records → ChatGLM3 conversations ({"conversations":[{role, content}…]}).
// Each line also carries `session_id` (what split hashes, so assignments survive
// appended data) and `source` (the file it came from); finetune_demo reads only
// `conversations` and ignores both.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { defineStage, output } from '../engine/stage.ts';
import { convert } from './convert/convert.ts';

export const convertStage = defineStage({
  name: 'convert',
  module: import.meta.url,
  description: 'group records by session into ChatGLM3 conversations',
  params: z.object({
    /** Worker threads grouping the records (1: the stage's own thread); used for records of 16 MiB or more. Does not change results. */
    workers: z.number().int().min(1).max(64).default(availableParallelism()),
  }),
  untracked: ['workers'],
  inputs: { records: 'records' },
  outputs: {
    conversations: output('conversations', 'conversations.jsonl', 'one ChatGLM3 conversation per line, with session_id and source beside it'),
    rejected: output('rejected', 'rejected.jsonl', 'records not in any conversation, with file, row/line and reason'),
  },
  async run(ctx) {
    const report = await convert(ctx.inputs.records, ctx.outputs, ctx.workDir, { workers: ctx.params.workers, progress: (done, total) => ctx.progress(done, total, 'steps (ranges grouped; interleaved sessions grouped again from buckets)') });
    ctx.summary(
      `${report.recordsIn} records in = ${report.kept} in ${report.conversations} conversations (${report.messages} messages after merging) + ${report.rejected} rejected (${report.rejectedByReason})`,
    );
  },
});
