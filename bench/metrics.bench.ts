// Metrics benchmark: finetune_demo's scores (jieba words, ROUGE-1/2/L, BLEU-4) over
// the shared reference pairs, glmflow against ../shared/reference/metrics_ref.py
// (Python jieba, rouge_chinese, NLTK) on the same file, in the same run, rounds
// alternating. Each side is a fresh process scoring the whole file, dictionary load
// included, as a score stage run is; the pairs are repeated so that scoring, not
// start-up, dominates. Without Debian's python3-jieba and python3-nltk the
// reference figure is left out, and the line says so.
//   npx tsx bench/metrics.bench.ts [repeats]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreExample } from '../metrics/finetune-demo.ts';
import { SHARED_DIR } from '../test/shared.ts';
import { report } from './report.ts';
import { median } from './timing.ts';

const PYTHON = '/usr/bin/python3';
const ROUNDS = 3;

/** Runs in a child: scores every pair of `file`. */
function scoreFile(file: string): void {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const { pred, label } = JSON.parse(line) as { pred: string; label: string };
    scoreExample(pred, label);
  }
}

function wallSeconds(run: () => void): number {
  const start = performance.now();
  run();
  return (performance.now() - start) / 1000;
}


async function main(repeats: number): Promise<void> {
  const pairsFile = path.join(SHARED_DIR, 'fixtures/metrics/pairs.jsonl');
  const script = path.join(SHARED_DIR, 'reference/metrics_ref.py');
  if (!existsSync(pairsFile) || !existsSync(script)) throw new Error(`bench needs ${pairsFile} and ${script} (../shared beside the checkout)`);
  const hasReference = spawnSync(PYTHON, ['-c', 'import jieba, nltk'], { stdio: 'ignore' }).status === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-metrics-bench-'));
  try {
    const lines = readFileSync(pairsFile, 'utf8').split('\n').filter(Boolean);
    const file = path.join(dir, 'pairs.jsonl');
    writeFileSync(file, Array.from({ length: repeats }, () => lines.join('\n') + '\n').join(''));
    const pairs = lines.length * repeats;
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(wallSeconds(() => execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--score', file])));
      if (hasReference) theirs.push(wallSeconds(() => execFileSync(PYTHON, [script, file, path.join(dir, 'reference.jsonl')])));
    }
    const rate = pairs / median(ours);
    if (hasReference) {
      const reference = pairs / median(theirs);
      report({ bench: 'metrics', figure: 'pairs_per_s', value: rate, unit: 'pairs/s', reference, referenceNote: `metrics_ref.py (Python jieba, rouge_chinese, NLTK) on the same ${pairs} pairs in this run, fresh processes, medians of ${ROUNDS}`, ratio: rate / reference });
    } else {
      report({ bench: 'metrics', figure: 'pairs_per_s', value: rate, unit: 'pairs/s', referenceNote: `no reference: ${PYTHON} lacks jieba or nltk (Debian python3-jieba, python3-nltk)` });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--score') scoreFile(args[1]!);
else await main(Number(args[0] ?? 20));
