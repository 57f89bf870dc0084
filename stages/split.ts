// split: conversations → train/dev/test by a seeded hash of each session id, so
// nightly runs on growing data keep every existing conversation where it was and
// validation loss stays comparable. Shuffling for training is the trainer's job.
import { z } from 'zod';
import { defineStage, output } from '../engine/stage.ts';
import { split, smallSplitWarnings } from './split/split.ts';

const params = z.object({
  seed: z.number().int().default(0),
  /** Shares of train/dev/test (normalized by their sum). */
  ratios: z.object({ train: z.number().min(0), dev: z.number().min(0), test: z.number().min(0) }).default({ train: 0.8, dev: 0.1, test: 0.1 })
    .refine((r) => r.train + r.dev + r.test > 0, 'split.ratios must not all be 0'),
  /** Exact sizes of dev and test instead of ratios (the rest is train). Appending data can then move a conversation from test to dev or dev to train, never the other way. */
  counts: z.object({ dev: z.number().int().min(0), test: z.number().int().min(0) }).optional(),
  /** Part of the data for quick experiments: a fraction (≤ 1) or a number of conversations; nested and split-preserving. */
  subset: z.number().positive().default(1)
    .refine((n) => n <= 1 || Number.isInteger(n), 'split.subset is a fraction up to 1 or a whole number of conversations'),
});

export const splitStage = defineStage({
  name: 'split',
  module: import.meta.url,
  description: 'assign conversations to train/dev/test by a seeded hash of their session id',
  params,
  inputs: { conversations: 'conversations' },
  outputs: {
    train: output('conversations', 'train.jsonl', 'training conversations (ChatGLM3 format)'),
    dev: output('conversations', 'dev.jsonl', 'validation conversations (ChatGLM3 format)'),
    test: output('conversations', 'test.jsonl', 'test conversations (ChatGLM3 format)'),
    rejected: output('rejected', 'rejected.jsonl', 'lines without a session_id'),
  },
  async run(ctx) {
    const options = { seed: ctx.params.seed, ratios: ctx.params.ratios, counts: ctx.params.counts, subset: ctx.params.subset };
    const report = await split(ctx.inputs.conversations, ctx.outputs, options);
    const { train, dev, test } = report.counts;
    ctx.summary(`${report.conversationsIn} conversations in = ${train} train + ${dev} dev + ${test} test + ${report.outsideSubset} outside the subset + ${report.rejected} rejected (${report.rejectedByReason})`);
    for (const warning of smallSplitWarnings(report, options)) ctx.summary(warning);
  },
});
