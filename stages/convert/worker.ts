// convert's work, run on worker threads by TaskPool (or on the stage's own
// thread when there is one range): grouping a range, copying a range's records
// of sessions to group again, grouping a bucket.
import { groupBucket } from './bucket.ts';
import { groupRange, type GroupInput } from './group.ts';
import { spillRange, type SpillInput } from './spill.ts';

export const tasks = {
  group: (input: GroupInput) => groupRange(input),
  spill: (input: SpillInput) => spillRange(input),
  bucket: (input: { inputs: string[]; parts: { conversations: string; rejected: string }; source: string }) => groupBucket(input.inputs, input.parts, input.source),
};
