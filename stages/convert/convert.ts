// records.jsonl → conversations.jsonl in bounded memory. Exports list a
// session's records together, so records are grouped as they are read: a
// session ends where the next record's session differs, and is written then
// (group.ts). A session whose records turn out not to follow each other (CSV
// exports sorted by time interleave them), or to lie in two ranges, is left out
// of what was written and grouped again whole: its records are copied to scratch
// buckets by a hash of its id (spill.ts), each bucket grouped in memory
// (bucket.ts), and the parts merged in order of each session's first record
// (merge.ts). With workers, byte ranges are grouped and buckets filled and
// grouped at once, each by a worker thread; the output is the same bytes however
// the records were cut.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TaskPool } from '../../engine/task-pool.ts';
import { firstLines, lineRanges, type ByteRange } from '../../formats/ranges.ts';
import { describeReasons } from '../../formats/rejects.ts';
import { alignToSessions } from './cuts.ts';
import type { Grouped } from './group.ts';
import { countOutputs, joinWhenReady, mergeParts, move } from './merge.ts';
import type { Part, Parts } from './parts.ts';
import { spillFile } from './spill.ts';
import { tasks } from './worker.ts';

/** Records JSON per scratch bucket: grouping one costs a few times this in memory. */
const BUCKET_BYTES = 4 << 20;
const MAX_BUCKETS = 256;
// Below this, starting worker threads costs more than they save.
const PARALLEL_MIN_BYTES = 16 << 20;
const WORKER_URL = new URL('./worker.ts', import.meta.url);
// A few ranges per thread, so that a thread that starts late or runs slow still finds work.
const RANGES_PER_THREAD = 3;

export interface ConvertReport {
  readonly recordsIn: number;
  /** Records that ended in a conversation. */
  readonly kept: number;
  readonly conversations: number;
  readonly messages: number;
  readonly rejected: number;
  readonly rejectedByReason: string;
  /** Lines grouped again from scratch buckets: their sessions' records did not follow each other. */
  readonly regrouped: number;
}

export interface ConvertOptions {
  /** Records JSON per scratch bucket; tests make it small to spread a few records over many buckets. */
  readonly bucketBytes?: number;
  /** Steps done (grouping each range; then, if some session must be grouped again, copying from each range and grouping each bucket), of all of them. */
  readonly progress?: (done: number, total: number) => void;
  /** Worker threads (1: all in this thread). Used only for records of 16 MiB or more, unless `rangeBytes` is given. */
  readonly workers?: number;
  /** Records bytes per range; tests make it small to use workers on a few records. */
  readonly rangeBytes?: number;
}

type Tasks = typeof tasks;

export async function convert(recordsFile: string, outputs: { conversations: string; rejected: string }, scratchDir: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const { bucketBytes = BUCKET_BYTES, progress = () => {}, workers = 1 } = options;
  const dir = await mkdtemp(path.join(scratchDir, 'convert-'));
  const size = (await stat(recordsFile)).size;
  const parallel = workers > 1 && (options.rangeBytes !== undefined || size >= PARALLEL_MIN_BYTES);
  // Started first: the workers load while the ranges are found.
  const pool = parallel ? new TaskPool<Tasks>(WORKER_URL, workers) : undefined;
  let done = 0;
  let total = 0;
  const run = async <K extends keyof Tasks>(task: K, input: Parameters<Tasks[K]>[0]): Promise<Awaited<ReturnType<Tasks[K]>>> => {
    const result = (await (pool ? pool.run(task, input) : (tasks[task] as (input: unknown) => Promise<unknown>)(input))) as Awaited<ReturnType<Tasks[K]>>;
    progress(++done, total);
    return result;
  };
  try {
    const ranges: ByteRange[] = parallel ? await alignToSessions(recordsFile, await lineRanges(recordsFile, size, options.rangeBytes ?? Math.ceil(size / (RANGES_PER_THREAD * workers)))) : [{ start: 0, end: size }];
    const numbers = ranges.length > 1 ? await firstLines(recordsFile, ranges) : [1];
    const source = path.basename(recordsFile);
    const part = (kind: string, index: number) => ({ conversations: path.join(dir, `conversations-${kind}-${index}.txt`), rejected: path.join(dir, `rejected-${kind}-${index}.txt`) });
    const outputFiles = [outputs.conversations, outputs.rejected] as const;
    total = ranges.length;
    progress(0, total);
    const grouping = ranges.map((range, r) => run('group', { recordsFile, range, firstLine: numbers[r]!, parts: part('range', r), source }));
    // Joined as the ranges finish, on the chance that no session has to be grouped again.
    const joining = joinWhenReady(grouping.map((grouped) => grouped.then((parts) => [parts.conversations, parts.rejected])), outputFiles);
    const [grouped] = await Promise.all([Promise.all(grouping), joining]);
    // A range whose records are interleaved throughout: every line is grouped from buckets, the ranges' parts unused.
    const everything = grouped.some((range) => range.interleaved);
    const regroup = everything ? undefined : splitSessions(grouped);
    let bucketed: Parts[] = [];
    let regrouped = 0;
    if (!regroup || regroup.size > 0) {
      const sessions = grouped.reduce((sum, range) => sum + range.sessions.length, 0);
      const buckets = Math.min(MAX_BUCKETS, Math.ceil(((regroup ? regroup.size / sessions : 1) * size) / bucketBytes));
      total += ranges.length;
      const hashes = regroup && Uint32Array.from(regroup);
      const copied = await Promise.all(ranges.map((range, r) => run('spill', { recordsFile, range, firstLine: numbers[r]!, ...(hashes && { sessions: hashes }), buckets, dir, rangeIndex: r })));
      regrouped = copied.reduce((sum, range) => sum + range.records, 0);
      // Only buckets some range copied records to are grouped.
      const filled = Array.from({ length: buckets }, (_, b) => copied.flatMap((range, r) => (range.buckets.includes(b) ? [spillFile(dir, r, b)] : []))).flatMap((inputs, b) => (inputs.length > 0 ? [{ inputs, b }] : []));
      total += filled.length;
      bucketed = await Promise.all(filled.map(({ inputs, b }) => run('bucket', { inputs, parts: part('bucket', b), source })));
      // A single range's parts were moved to the outputs: they are read from there, and the merge written beside.
      const moved = ranges.length === 1;
      for (const [index, output] of outputFiles.entries()) {
        const pick = (parts: Parts): Part => (index === 0 ? parts.conversations : parts.rejected);
        const merged = path.join(dir, `merged-${index}.txt`);
        const fromRanges = regroup ? grouped.map((parts) => (moved ? { ...pick(parts), file: output } : pick(parts))) : [];
        await mergeParts([...fromRanges, ...bucketed.map(pick)], regroup ?? new Set(), merged);
        await move(merged, output);
      }
    }
    return report(regroup ? grouped : [], bucketed, regroup ?? new Set(), regrouped, everything);
  } finally {
    await pool?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The sessions to group again: met more than once within a range, or in several ranges. */
function splitSessions(grouped: readonly Grouped[]): Set<number> {
  const split = new Set<number>();
  const seen = new Set<number>();
  for (const range of grouped) {
    for (const hash of range.split) split.add(hash);
    for (const hash of range.sessions) {
      if (seen.has(hash)) split.add(hash);
      else if (grouped.length > 1) seen.add(hash);
    }
  }
  return split;
}

/**
 * The outputs' counts, checked: every record read is kept or rejected, every line copied grouped from its
 * bucket. `everything`: the buckets hold every line, the ranges' parts are not used.
 */
function report(grouped: readonly Parts[], bucketed: readonly Parts[], regroup: ReadonlySet<number>, regrouped: number, everything: boolean): ConvertReport {
  const fromBuckets = bucketed.reduce((sum, bucket) => sum + bucket.records, 0);
  const recordsIn = everything ? fromBuckets : grouped.reduce((sum, range) => sum + range.records, 0);
  const { kept, messages, conversations, byReason } = countOutputs([...grouped, ...bucketed], regroup);
  const rejected = [...byReason.values()].reduce((sum, count) => sum + count, 0);
  if (fromBuckets !== regrouped || recordsIn !== kept + rejected) throw new Error(`convert lost records: ${recordsIn} in (${regrouped} copied to buckets, ${fromBuckets} grouped from them), ${kept} kept, ${rejected} rejected`);
  return { recordsIn, kept, conversations, messages, rejected, rejectedByReason: describeReasons(byReason), regrouped };
}
