// convert's work, run on worker threads by TaskPool (or on the stage's own
// thread when there is one range): reading a range's spans, grouping a range,
// grouping a bucket.
import type { ByteRange } from '../../formats/ranges.ts';
import { groupBucket } from './bucket.ts';
import { groupRange, type GroupInput } from './group.ts';
import { scanSpans } from './spans.ts';

export const tasks = {
  scan: (input: { recordsFile: string; range: ByteRange }) => scanSpans(input.recordsFile, input.range),
  group: (input: GroupInput) => groupRange(input),
  bucket: (input: { inputs: string[]; parts: { conversations: string; rejected: string }; source: string }) => groupBucket(input.inputs, input.parts, input.source),
};
