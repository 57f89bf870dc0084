// convert's work on a worker thread (see convert.ts): partitioning one byte range
// of the records, and grouping one bucket.
import type { ByteRange } from '../../formats/ranges.ts';
import { RejectLog, type Rejected } from '../../formats/rejects.ts';
import { convertBucket, partition, scratchFile } from './convert.ts';

export const tasks = {
  /** Rejects come back in line order, numbered from the range's start like the bucket lines. */
  async partition(input: { recordsFile: string; range: ByteRange; buckets: number; dir: string; rangeIndex: number }) {
    const rejected: Rejected[] = [];
    const counts = await partition(input.recordsFile, input.range, input.buckets, (index) => scratchFile(input.dir, 'records', index, input.rangeIndex), (entry) => void rejected.push(entry));
    return { ...counts, rejected };
  },

  async bucket(input: { inputs: { file: string; offset: number }[]; conversationsFile: string; rejectedFile: string; source: string }) {
    const rejects = new RejectLog(input.rejectedFile);
    try {
      const result = await convertBucket(input.inputs, input.conversationsFile, input.source, rejects);
      return { ...result, byReason: [...rejects.byReason] };
    } finally {
      await rejects.close();
    }
  },
};
