// ingest on several threads: files, byte ranges of large UTF-8 CSV files
// (csv-ranges.ts) and ranges of lines of large JSONL files are read at once,
// each into its own part of the outputs; the parts are joined in order and the
// counts, notes and unknown labels merged as one thread reading them in order
// would have them, so the outputs and the summary are the same bytes as with one
// thread.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TaskPool } from '../../engine/task-pool.ts';
import { firstLines, JoinedFile, lineRanges } from '../../formats/ranges.ts';
import { describeReasons } from '../../formats/rejects.ts';
import { csvCellForm } from './csv.ts';
import { csvRanges } from './csv-ranges.ts';
import { checkedReport, csvEncoding, fileDone, relativeTo, type IngestOptions, type IngestReport } from './ingest.ts';
import { jsonLines } from './jsonl.ts';
import { RoleMapper } from './mapping.ts';
import { readUnit, type ReadUnit, type tasks, type UnitResult } from './worker.ts';

// Below this, worker threads cost more than they save. Measured on the 2-core VM (alternating runs, other
// work on the machine): a worker took 0.25 s of CPU to load, and the threaded path 0.6-1 s more CPU in all
// than one thread; two threads took 0.9-1.4 s against 0.5-0.7 s for a 30 MB CSV, 1.1-1.2 s against
// 0.85-1.0 s for 60 MB, and for 120 MB (a million rows) 1.8-2.3 s against 1.6-1.7 s in three pairs of runs,
// 1.6 s against 1.8 s in two others.
const PARALLEL_MIN_BYTES = 256 << 20;
// A few ranges per thread, so that a thread that starts late or runs slow still finds work.
const RANGES_PER_THREAD = 3;
const WORKER_URL = new URL('./worker.ts', import.meta.url);

/** The report, or undefined when the input is too small for threads to pay (the caller reads it on this thread). */
export async function ingestInWorkers(files: readonly string[], loaders: readonly string[], outputs: { records: string; rejected: string }, options: IngestOptions): Promise<IngestReport | undefined> {
  const threads = options.workers ?? 1;
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (options.rangeBytes === undefined && total < PARALLEL_MIN_BYTES) return undefined;
  const rangeBytes = options.rangeBytes ?? Math.ceil(total / (RANGES_PER_THREAD * threads));
  const dir = await mkdtemp(path.join(path.dirname(outputs.records), '.ingest-parts-'));
  // Started before the plan: the workers load while this thread finds the ranges.
  const pool = new TaskPool<typeof tasks>(WORKER_URL, threads);
  const joined: JoinedFile[] = [];
  try {
    const units = await planUnits(files, sizes, loaders, rangeBytes, dir, options);
    // One file that cannot be cut (an xlsx workbook, say) is read on this thread.
    if (units.length < 2) return undefined;
    const done = units.map(() => 0);
    let current = '';
    const settled = units.map((unit, index) =>
      pool.run('read', unit, (unitsIn) => {
        done[index] = unitsIn;
        current = unit.relative;
        options.progress?.(done.reduce((sum, n) => sum + n, 0), current);
      }).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      ),
    );
    joined.push(await JoinedFile.open(outputs.records), await JoinedFile.open(outputs.rejected));
    const read = await joinInOrder(units, settled, joined as [JoinedFile, JoinedFile], dir);
    // The first failure in input order, as one thread would have met it.
    const failed = read.results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return merge(read.units, read.results.map((result) => (result as PromiseFulfilledResult<UnitResult>).value), files.length + loaders.length, options);
  } finally {
    await Promise.all(joined.map((file) => file.close()));
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function planUnits(files: readonly string[], sizes: readonly number[], loaders: readonly string[], rangeBytes: number, dir: string, options: IngestOptions): Promise<ReadUnit[]> {
  const { projectDir, encoding, columns, roles, unknownLabels, csvBytes } = options;
  const units: ReadUnit[] = [];
  const unit = (file: string, loader: boolean, part?: ReadUnit['part']): ReadUnit => {
    const index = units.length;
    return { file, relative: relativeTo(projectDir, file), loader, ...(part && { part }), recordsFile: path.join(dir, `records-${index}`), rejectedFile: path.join(dir, `rejected-${index}`), options: { projectDir, encoding, columns, roles, unknownLabels, ...(csvBytes !== undefined && { csvBytes }) } };
  };
  for (const [index, file] of files.entries()) {
    const extension = path.extname(file).toLowerCase();
    if ((extension === '.jsonl' || extension === '.json') && sizes[index]! > rangeBytes && (await jsonLines(file))) {
      const ranges = await lineRanges(file, sizes[index]!, rangeBytes);
      if (ranges.length > 1) {
        const numbers = await firstLines(file, ranges);
        for (const [r, range] of ranges.entries()) units.push({ ...unit(file, false), lines: { ...range, firstLine: numbers[r]! } });
        continue;
      }
    }
    if ((extension === '.csv' || extension === '.tsv') && sizes[index]! > rangeBytes) {
      const relative = relativeTo(projectDir, file);
      const fileEncoding = await csvEncoding(file, relative, options);
      // Only UTF-8 is cut: its line breaks, quotes and delimiters are single bytes no other character contains.
      const layout = csvCellForm(fileEncoding).encoding === 'latin1' ? await csvRanges(file, rangeBytes) : undefined;
      if (layout && layout.ranges.length > 1) {
        for (const range of layout.ranges) units.push(unit(file, false, { range: { ...range, delimiter: layout.delimiter, newline: layout.newline }, header: layout.header, encoding: fileEncoding }));
        continue;
      }
    }
    units.push(unit(file, false));
  }
  for (const file of loaders) units.push(unit(file, true));
  return units;
}

/**
 * Appends each unit's parts to the outputs as soon as it and those before it are read, and returns the
 * units and results as one thread would have them: each JSONL file whose ranges may not have read as one
 * thread does is read again whole, on this thread, in place of its ranges' parts. Row objects are mapped by
 * the keys of a file's first one: a range that met a row object mapped it by its own first one's keys,
 * which must be the file's (else a range read them otherwise, or failed where one thread would not have).
 * After a failure nothing more is appended; every unit is still waited for.
 */
async function joinInOrder(units: readonly ReadUnit[], settled: readonly Promise<PromiseSettledResult<UnitResult>>[], [records, rejected]: readonly [JoinedFile, JoinedFile], dir: string): Promise<{ units: ReadUnit[]; results: PromiseSettledResult<UnitResult>[] }> {
  const kept: { units: ReadUnit[]; results: PromiseSettledResult<UnitResult>[] } = { units: [], results: [] };
  let failed = false;
  const append = async (unit: ReadUnit, result: PromiseSettledResult<UnitResult>): Promise<void> => {
    failed ||= result.status === 'rejected';
    if (failed) return;
    await records.append(unit.recordsFile);
    await rejected.append(unit.rejectedFile);
  };
  for (let index = 0; index < units.length; ) {
    const first = units[index]!;
    let end = index + 1;
    if (first.lines) while (end < units.length && units[end]!.lines && units[end]!.file === first.file) end++;
    const mark: { records: number; rejected: number; failed: boolean } = { records: records.size, rejected: rejected.size, failed };
    const group: PromiseSettledResult<UnitResult>[] = [];
    for (let unit = index; unit < end; unit++) {
      group.push(await settled[unit]!);
      await append(units[unit]!, group.at(-1)!);
    }
    const keys = group.flatMap((result) => (result.status === 'fulfilled' && result.value.rowKeys ? [JSON.stringify(result.value.rowKeys)] : []));
    if (first.lines && (group.some((result) => result.status === 'rejected') || new Set(keys).size > 1)) {
      await records.truncate(mark.records);
      await rejected.truncate(mark.rejected);
      failed = mark.failed;
      const whole: ReadUnit = { file: first.file, relative: first.relative, loader: false, recordsFile: path.join(dir, `records-whole-${index}`), rejectedFile: path.join(dir, `rejected-whole-${index}`), options: first.options };
      const result = await readUnit(whole, () => {}).then((value) => ({ status: 'fulfilled', value }) as const, (reason: unknown) => ({ status: 'rejected', reason }) as const);
      await append(whole, result);
      kept.units.push(whole);
      kept.results.push(result);
    } else {
      kept.units.push(...units.slice(index, end));
      kept.results.push(...group);
    }
    index = end;
  }
  return kept;
}

/** The units' results in order, per file as the one-thread loop accounts for them. */
function merge(units: readonly ReadUnit[], results: readonly UnitResult[], files: number, options: IngestOptions): IngestReport {
  const notes: string[] = [];
  const note = (message: string): void => {
    notes.push(message);
    options.log(message);
  };
  const roles = new RoleMapper(options.roles);
  const byReason = new Map<string, number>();
  let unitsIn = 0;
  let unitsAccepted = 0;
  let records = 0;
  for (let index = 0; index < units.length; ) {
    // The units of one file follow each other.
    const file = units[index]!;
    const here = new Map<string, number>();
    const examples = new Map<string, string | undefined>();
    let fileUnits = 0;
    for (; index < units.length && units[index]!.file === file.file && units[index]!.loader === file.loader; index++) {
      const result = results[index]!;
      for (const line of result.log) options.log(line);
      for (const message of result.notes) note(message);
      for (const [reason, count] of result.byReason) {
        here.set(reason, (here.get(reason) ?? 0) + count);
        byReason.set(reason, (byReason.get(reason) ?? 0) + count);
      }
      for (const [reason, detail] of result.examples) if (!examples.has(reason)) examples.set(reason, detail);
      roles.addUnknown(result.unknown);
      fileUnits += result.unitsIn;
      unitsAccepted += result.unitsAccepted;
      records += result.records;
    }
    unitsIn += fileUnits;
    fileDone(file.relative, fileUnits, [...here], (reason) => examples.get(reason), roles, options, note);
  }
  const rejected = [...byReason.values()].reduce((sum, count) => sum + count, 0);
  return checkedReport({ files, unitsIn, unitsAccepted, records, rejected, rejectedByReason: describeReasons(byReason), notes });
}
