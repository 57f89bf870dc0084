// Data benchmark: 1,000,000 generated shop rows as CSV and as xlsx through
// ingest + convert, on every core and on one thread, next to pandas doing the
// same job by hand (bench/pandas_convert.py, Debian's python3-pandas), and to
// papaparse's bare parse of the same CSV and ingest's papaparse path (byte text,
// no row work), which reads the rows ingest's byte reader leaves. Each measurement runs in its own child
// process so its peak RSS is its own.
// `npx tsx bench/data.bench.ts [rows]`; prints one JSON line per figure.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { takeRows, writeShopCsv, writeShopXlsx } from '../data/generate.ts';
import { shopRows } from '../data/shop.ts';
import { ingest } from '../stages/ingest/ingest.ts';
import { convert } from '../stages/convert/convert.ts';
import { detectEncoding, parseCsv } from '../stages/ingest/csv.ts';
import { report } from './report.ts';
import { median } from './timing.ts';

const SEED = 7;
const RSS_TARGET_MB = 400;
const PANDAS_TARGET = 1.8;
const CSV_ROUNDS = 3;
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const PANDAS_SCRIPT = fileURLToPath(new URL('./pandas_convert.py', import.meta.url));

interface Measure {
  readonly rows: number;
  /** Seconds per part. */
  readonly seconds: Readonly<Record<string, number>>;
  readonly peakRssMb: number;
}

async function timed<T>(seconds: Record<string, number>, part: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  seconds[part] = (performance.now() - start) / 1000;
  return result;
}

/** Runs in a child: one measurement on `file`, reported as JSON on stdout. */
async function measure(kind: string, file: string, dir: string): Promise<Measure> {
  const seconds: Record<string, number> = {};
  if (kind === 'papaparse') {
    let rows = 0;
    await timed(seconds, 'parse', () => new Promise<void>((resolve, reject) => {
      Papa.parse<string[]>(createReadStream(file, 'utf8'), { chunk: (results) => void (rows += results.data.length), complete: () => resolve(), error: reject });
    }));
    return { rows: rows - 1, seconds, peakRssMb: peakRssMb() };
  }
  if (kind === 'reader') {
    let rows = 0;
    const encoding = await detectEncoding(file);
    await timed(seconds, 'parse', () => parseCsv(file, encoding, (chunk) => void (rows += chunk.length)));
    return { rows: rows - 1, seconds, peakRssMb: peakRssMb() };
  }
  // `csv-1`: one thread; otherwise every core, as the stages run by default.
  const workers = kind.endsWith('-1') ? 1 : availableParallelism();
  const outputs = { records: path.join(dir, `${kind}.records.jsonl`), rejected: path.join(dir, `${kind}.ingest-rejected.jsonl`) };
  const report = await timed(seconds, 'ingest', () => ingest([file], outputs, { projectDir: dir, encoding: 'auto', columns: {}, roles: {}, unknownLabels: 'error', log: () => {}, workers }));
  await timed(seconds, 'convert', () => convert(outputs.records, { conversations: path.join(dir, `${kind}.conversations.jsonl`), rejected: path.join(dir, `${kind}.convert-rejected.jsonl`) }, dir, { workers }));
  return { rows: report.unitsIn, seconds, peakRssMb: peakRssMb() };
}

const peakOf = (runs: readonly Measure[]): number => Math.max(...runs.map((run) => run.peakRssMb));

/**
 * Peak RSS of this process in MB. getrusage's maxRSS survives exec on Linux, so a child
 * would report its parent's peak (the generator's); VmHWM belongs to this address space.
 */
function peakRssMb(): number {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(hwm?.[1] ?? process.resourceUsage().maxRSS) / 1024;
}

/** pandas doing ingest + convert's job by hand, or undefined (with a notice) where python3-pandas is not installed. */
function pandas(file: string, dir: string): Measure | undefined {
  const run = spawnSync(PYTHON, [PANDAS_SCRIPT, file, path.join(dir, 'pandas.jsonl')], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) {
    console.error(`NOTICE: no pandas figure: ${PYTHON} ${path.basename(PANDAS_SCRIPT)} failed (${run.stderr.trim().split('\n').at(-1)}); apt-get install python3-pandas`);
    return undefined;
  }
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rows: number; seconds: number; peakRssMb: number };
  return { rows: out.rows, seconds: { total: out.seconds }, peakRssMb: out.peakRssMb };
}

function child(kind: string, file: string, dir: string): Measure {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--measure', kind, file, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measure;
}

async function main(rows: number): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'glmflow-data-bench-'));
  try {
    const csv = path.join(dir, 'shop.csv');
    const quarterCsv = path.join(dir, 'quarter.csv');
    const xlsx = path.join(dir, 'shop.xlsx');
    const generated: Record<string, number> = {};
    await timed(generated, 'csv', () => writeShopCsv(csv, takeRows(shopRows(SEED), rows)));
    await writeShopCsv(quarterCsv, takeRows(shopRows(SEED), Math.round(rows / 4)));
    // Inline strings, as large exports are written: a shared-strings table would have to be held whole by any reader.
    await timed(generated, 'xlsx', () => writeShopXlsx(xlsx, takeRows(shopRows(SEED), rows), { sharedStrings: false }));
    console.error(`generated ${rows} rows: csv ${generated['csv']!.toFixed(1)} s, xlsx ${generated['xlsx']!.toFixed(1)} s`);

    // This VM's speed drifts by a third within minutes: the CSV figures are medians of interleaved rounds.
    const rounds = Array.from({ length: CSV_ROUNDS }, () => ({ bare: child('papaparse', csv, dir), reader: child('reader', csv, dir), csv: child('csv', csv, dir), one: child('csv-1', csv, dir), pandas: pandas(csv, dir), quarter: child('csv', quarterCsv, dir) }));
    const parseRate = (m: Measure): number => m.rows / m.seconds['parse']!;
    const bareRate = median(rounds.map(({ bare }) => parseRate(bare)));
    const same = `papaparse streaming the same CSV, chunk callback, no work per row (same run; medians of ${CSV_ROUNDS} interleaved rounds)`;
    report({ bench: 'data', figure: 'papaparse_rows_per_s', value: bareRate, unit: 'rows/s', referenceNote: same });
    // Not a target: ingest's papaparse path (UTF-8 kept as byte text) before any row is mapped or written, for the rows csv-bytes.ts leaves to it.
    const readerRate = median(rounds.map(({ reader }) => parseRate(reader)));
    report({ bench: 'data', figure: 'csv_reader_rows_per_s', value: readerRate, unit: 'rows/s', reference: bareRate, referenceNote: same, ratio: readerRate / bareRate });
    const measured = { csv: rounds.map((round) => round.csv), xlsx: [child('xlsx', xlsx, dir)] };
    const totalRate = (m: Measure): number => m.rows / (m.seconds['ingest']! + m.seconds['convert']!);
    // As the stages run by default: each decides from its input's size whether its workers pay.
    const threads = `workers=${availableParallelism()} (ingest uses them from 256 MiB of input, convert from 16 MiB of records)`;
    for (const kind of ['csv', 'xlsx'] as const) {
      const runs = measured[kind];
      report({ bench: 'data', figure: `${kind}_ingest_rows_per_s`, value: median(runs.map((m) => m.rows / m.seconds['ingest']!)), unit: 'rows/s', referenceNote: threads });
      report({ bench: 'data', figure: `${kind}_ingest_convert_rows_per_s`, value: median(runs.map(totalRate)), unit: 'rows/s', referenceNote: threads });
      const peak = peakOf(runs);
      report({ bench: 'data', figure: `${kind}_peak_rss_mb`, value: peak, unit: 'MB', target: `< ${RSS_TARGET_MB} MB`, pass: peak < RSS_TARGET_MB });
    }
    // Threads against one: the same job in the same rounds.
    const oneRate = median(rounds.map(({ one }) => totalRate(one)));
    const threadsRate = median(measured.csv.map(totalRate));
    report({ bench: 'data', figure: 'csv_ingest_convert_one_thread_rows_per_s', value: oneRate, unit: 'rows/s', referenceNote: 'workers=1, same rounds' });
    report({ bench: 'data', figure: 'csv_ingest_convert_threads_speedup', value: threadsRate / oneRate, unit: 'x', reference: oneRate, referenceNote: `${threads} against workers=1, same rounds` });
    // The target: ingest + convert against pandas doing the same job by hand, in the same rounds.
    const byPandas = rounds.flatMap(({ pandas }) => (pandas ? [pandas] : []));
    if (byPandas.length > 0) {
      const pandasRate = median(byPandas.map((m) => m.rows / m.seconds['total']!));
      const note = `pandas 1.x (read_csv, sort, group, merge turns, write JSONL: bench/pandas_convert.py) on the same CSV, medians of ${byPandas.length} interleaved rounds; its peak RSS ${Math.round(Math.max(...byPandas.map((m) => m.peakRssMb)))} MB`;
      report({ bench: 'data', figure: 'pandas_rows_per_s', value: pandasRate, unit: 'rows/s', referenceNote: note });
      report({ bench: 'data', figure: 'csv_ingest_convert_vs_pandas', value: threadsRate / pandasRate, unit: 'x', reference: pandasRate, referenceNote: note, ratio: threadsRate / pandasRate, target: `>= ${PANDAS_TARGET}x pandas`, pass: threadsRate / pandasRate >= PANDAS_TARGET });
    }
    // Flat memory: four times the rows should need no more memory, beyond noise.
    // Medians of both: one quarter-size run's peak varied from 265 to 340 MB between runs.
    const quarterPeak = median(rounds.map(({ quarter }) => quarter.peakRssMb));
    const growth = median(measured.csv.map((run) => run.peakRssMb)) / quarterPeak;
    report({ bench: 'data', figure: 'csv_peak_rss_growth_4x_rows', value: growth, unit: 'x', reference: quarterPeak, referenceNote: `median peak RSS (MB) with ${rounds[0]!.quarter.rows} rows, same rounds`, target: '< 1.25x (flat)', pass: growth < 1.25 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--measure') console.log(JSON.stringify(await measure(args[1]!, args[2]!, args[3]!)));
else await main(Number(args[0] ?? 1_000_000));
