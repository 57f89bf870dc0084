// Compile-time checks, verified by `npm run typecheck`: wiring an output of the
// wrong kind into a stage is a type error.
import { z } from 'zod';
import { Pipeline } from '../../engine/pipeline.ts';
import { defineStage, output } from '../../engine/stage.ts';

const make = defineStage({
  name: 'make', module: import.meta.url, description: 'makes', params: z.object({}), inputs: {},
  outputs: { records: output('records', 'r.jsonl', 'records'), rejected: output('rejected', 'x.jsonl', 'rejects') },
  async run() {},
});
const use = defineStage({
  name: 'use', module: import.meta.url, description: 'uses', params: z.object({}), inputs: { records: 'records' },
  outputs: {}, async run(ctx) { const path: string = ctx.inputs.records; void path; },
});
const p = new Pipeline();
const m = p.add(make);
p.add(use, { records: m.out.records });
// @ts-expect-error a 'rejected' artifact is not 'records'
p.add(use, { records: m.out.rejected });
// @ts-expect-error the input is required
p.add(use);
// @ts-expect-error inputs are only what the stage declares
p.add(make, { extra: m.out.records });
