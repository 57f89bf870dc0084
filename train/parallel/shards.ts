// How a batch is cut between data-parallel shards, and how their results combine so that
// the sum equals the one-thread result up to summation order.
import type { ShardBatch } from './protocol.ts';

const IGNORE = -100;

/** Targets the loss averages over: labels[b][t+1] that are not ignored (as model/loss.ts counts them). */
export function countTargets(labels: readonly (readonly number[])[]): number {
  let n = 0;
  for (const row of labels) for (let t = 1; t < row.length; t++) if (row[t] !== IGNORE) n++;
  return n;
}

/**
 * The batch's rows in `parts` contiguous slices (fewer when it has fewer rows), each with
 * its share of the targets. Rows keep their padding and length: every row's activations
 * are what they are in the whole batch.
 */
export function shardRows(batch: ShardBatch, parts: number): { batch: ShardBatch; targets: number }[] {
  const B = batch.inputIds.length;
  const size = Math.ceil(B / Math.max(1, Math.min(parts, B)));
  const out: { batch: ShardBatch; targets: number }[] = [];
  for (let start = 0; start < B; start += size) {
    const rows = <T>(m: T[] | undefined) => m?.slice(start, start + size);
    const labels = rows(batch.labels)!;
    out.push({
      batch: { inputIds: rows(batch.inputIds)!, labels, ...(batch.attentionMask ? { attentionMask: rows(batch.attentionMask)! } : {}), ...(batch.positionIds ? { positionIds: rows(batch.positionIds)! } : {}) },
      targets: countTargets(labels),
    });
  }
  return out;
}
