// records.jsonl → conversations.jsonl in bounded memory. A session's rows can be
// anywhere in the file (CSV exports interleave sessions by time), so a first
// read finds where each session's records lie (spans.ts). A second groups the
// records as they are read, writing each session once its last record is
// passed (group.ts); sessions spread wider than a window of lines, or over
// several ranges, are spilled to scratch buckets by a hash of their id and
// grouped from there (bucket.ts). The parts are merged into the order of each
// session's first record (merge.ts). With workers, byte ranges are read and
// buckets grouped at once, each by a worker thread; the output is the same
// bytes however the records were cut.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TaskPool } from '../../engine/task-pool.ts';
import { lineRanges, type ByteRange } from '../../formats/ranges.ts';
import { describeReasons } from '../../formats/rejects.ts';
import { joinWhenReady, mergeParts } from './merge.ts';
import type { PartCounts } from './parts.ts';
import { spillFile } from './group.ts';
import { alignToSessions, planRanges } from './spans.ts';
import { tasks } from './worker.ts';

/** Spilled records JSON per bucket: grouping one costs a few times this in memory. */
const BUCKET_BYTES = 4 << 20;
const MAX_BUCKETS = 256;
/**
 * Lines a session's records may span and still be grouped as they are read: a range holds at most this
 * many records in memory (about 13 MB of a shop export's records).
 */
const WINDOW_LINES = 1 << 16;
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
  /** Records grouped from scratch buckets, not as they were read. */
  readonly spilled: number;
}

export interface ConvertOptions {
  /** Spilled records JSON per scratch bucket; tests make it small to spread a few records over many buckets. */
  readonly bucketBytes?: number;
  /** Lines a session may span and still be grouped as read; tests make it small to spill sessions. */
  readonly window?: number;
  /** Steps done (reading each range twice, grouping each bucket), of all of them. */
  readonly progress?: (done: number, total: number) => void;
  /** Worker threads (1: all in this thread). Used only for records of 16 MiB or more, unless `rangeBytes` is given. */
  readonly workers?: number;
  /** Records bytes per range; tests make it small to use workers on a few records. */
  readonly rangeBytes?: number;
}

type Tasks = typeof tasks;

export async function convert(recordsFile: string, outputs: { conversations: string; rejected: string }, scratchDir: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const { bucketBytes = BUCKET_BYTES, window = WINDOW_LINES, progress = () => {}, workers = 1 } = options;
  const dir = await mkdtemp(path.join(scratchDir, 'convert-'));
  const size = (await stat(recordsFile)).size;
  const parallel = workers > 1 && (options.rangeBytes !== undefined || size >= PARALLEL_MIN_BYTES);
  const ranges: ByteRange[] = parallel ? await alignToSessions(recordsFile, await lineRanges(recordsFile, size, options.rangeBytes ?? Math.ceil(size / (RANGES_PER_THREAD * workers)))) : [{ start: 0, end: size }];
  const pool = ranges.length > 1 ? new TaskPool<Tasks>(WORKER_URL, workers) : undefined;
  let done = 0;
  let total = ranges.length * 2;
  const run = async <K extends keyof Tasks>(task: K, input: Parameters<Tasks[K]>[0]): Promise<Awaited<ReturnType<Tasks[K]>>> => {
    const result = (await (pool ? pool.run(task, input) : (tasks[task] as (input: unknown) => Promise<unknown>)(input))) as Awaited<ReturnType<Tasks[K]>>;
    progress(++done, total);
    return result;
  };
  try {
    progress(0, total);
    const spans = await Promise.all(ranges.map((range) => run('scan', { recordsFile, range })));
    const { plans, spilledRecords } = planRanges(spans, window);
    const scanned = spans.reduce((sum, span) => sum + span.records.reduce((a, b) => a + b, 0), 0);
    const buckets = spilledRecords === 0 ? 0 : Math.min(MAX_BUCKETS, Math.ceil(((spilledRecords / scanned) * size) / bucketBytes));
    const source = path.basename(recordsFile);
    const part = (kind: string, index: number) => ({ conversations: path.join(dir, `conversations-${kind}-${index}.txt`), rejected: path.join(dir, `rejected-${kind}-${index}.txt`) });
    const grouping = ranges.map((range, r) => run('group', { recordsFile, range, plan: plans[r]!, buckets, parts: part('range', r), dir, rangeIndex: r, source }));
    const outputFiles = [outputs.conversations, outputs.rejected];
    // Nothing spilled: the ranges' parts are the outputs in order, joined while later ranges are grouped.
    const joining = buckets === 0 ? joinWhenReady(grouping.map((grouped) => grouped.then((counts) => [counts.conversations, counts.rejected])), outputFiles) : undefined;
    const [grouped] = await Promise.all([Promise.all(grouping), joining]);
    // Only buckets some range spilled records to are grouped.
    const filled = Array.from({ length: buckets }, (_, b) => grouped.flatMap((range, r) => (range.buckets.includes(b) ? [spillFile(dir, r, b)] : []))).flatMap((inputs, b) => (inputs.length > 0 ? [{ inputs, b }] : []));
    total += filled.length;
    const bucketed = await Promise.all(filled.map(({ inputs, b }) => run('bucket', { inputs, parts: part('bucket', b), source })));
    const parts = [...grouped, ...bucketed];
    if (!joining) {
      await mergeParts(parts.map((counts) => counts.conversations), outputs.conversations);
      await mergeParts(parts.map((counts) => counts.rejected), outputs.rejected);
    }
    const conversations = parts.reduce((sum, counts) => sum + counts.conversations.seqs.length, 0);
    return report(grouped, bucketed, conversations);
  } finally {
    await pool?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The parts' counts summed, checked: every record read is kept or rejected, every spilled one grouped from its bucket. */
function report(grouped: readonly (PartCounts & { spilled: number })[], bucketed: readonly PartCounts[], conversations: number): ConvertReport {
  const all = [...grouped, ...bucketed];
  const sum = (counts: readonly { records: number }[]): number => counts.reduce((total, part) => total + part.records, 0);
  const spilled = grouped.reduce((total, range) => total + range.spilled, 0);
  const recordsIn = sum(grouped) + spilled;
  const byReason = new Map<string, number>();
  for (const part of all) for (const [reason, count] of part.byReason) byReason.set(reason, (byReason.get(reason) ?? 0) + count);
  const rejected = [...byReason.values()].reduce((total, count) => total + count, 0);
  const kept = all.reduce((total, part) => total + part.kept, 0);
  if (sum(bucketed) !== spilled || recordsIn !== kept + rejected) throw new Error(`convert lost records: ${recordsIn} in (${spilled} spilled, ${sum(bucketed)} grouped from buckets), ${kept} kept, ${rejected} rejected`);
  return { recordsIn, kept, conversations, messages: all.reduce((total, part) => total + part.messages, 0), rejected, rejectedByReason: describeReasons(byReason), spilled };
}
