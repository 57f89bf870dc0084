// ChatGLM3 + P-tuning v2 speed on the "small" configuration of ../shared/BENCHMARKS.md
// (random seeded weights, real 65,024-token vocabulary), side by side with PyTorch on
// the CPU (../shared/reference/torch_bench.py, 2 threads): rounds alternate between the
// two, and each figure's ratio is that of this run (the stored BENCHMARKS.md figures are
// used, and labelled, only where /usr/bin/python3 has no torch). Training and evaluation
// run as the trainer runs them: data-parallel over the default threads (one per core), and
// on one thread for comparison. One JSON line per figure; the backend goes to stderr.
// Medians after warm-up.
//   npm run bench -- model          (BENCH_ROUNDS=3 for more rounds, BENCH_WORKERS=n workers)
import { AdamW } from '../model/adamw.ts';
import { selectBackend } from '../model/backend.ts';
import { disposeGrads } from '../model/glm.ts';
import { DataParallel, trainingThreads } from '../train/parallel/pool.ts';
import { createModel } from '../model/load.ts';
import { Rng } from '../model/random.ts';
import { pythonHas, runTorchBench, type TorchFigures } from './reference/python.ts';
import { B, SMALL, T } from './small-config.ts';
import { median, timed } from './timing.ts';
import { report } from './report.ts';
import { generate } from '../model/generate.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const TRAIN_STEPS = Number(process.env['BENCH_TRAIN_STEPS'] ?? 5);
const EVAL_STEPS = Number(process.env['BENCH_EVAL_STEPS'] ?? 5);
const GEN_RUNS = Number(process.env['BENCH_GEN_RUNS'] ?? 3);
const STORED: TorchFigures = { train: 380, eval: 845, gen: 67, peakRssGb: 1.34 };

process.stderr.write(`${(await selectBackend()).description}\n`);
const withTorch = pythonHas('torch');
if (!withTorch) process.stderr.write('NOTICE: /usr/bin/python3 has no torch (Debian python3-torch): ratios are against the stored BENCHMARKS.md figures\n');
const model = await createModel(SMALL, 0);
const rng = new Rng(1);
const randomIds = (n: number) => Array.from({ length: n }, () => 3 + Math.floor(rng.next() * (64789 - 3)));
const inputIds = Array.from({ length: B }, () => randomIds(T));
// the prompt quarter carries no label, as in P-tuning data (and the reference)
const labels = inputIds.map((row) => row.map((id, t) => (t < T / 4 ? -100 : id)));
const positionIds = inputIds.map((row) => row.map((_, t) => t));
const batch = { inputIds, labels, positionIds };
// evaluation hands whole batches to the threads, as the trainer's does over the dev set
const EVAL_BATCHES = 4;
const evalBatches = [batch, ...Array.from({ length: EVAL_BATCHES - 1 }, () => {
  const ids = Array.from({ length: B }, () => randomIds(T));
  return { inputIds: ids, labels: ids.map((row) => row.map((id, t) => (t < T / 4 ? -100 : id))), positionIds };
})];
const prompt = [randomIds(64)];
const NEW = 64;


const opt = new AdamW({ lr: 5e-5, weightDecay: 0.01 });
const workers = process.env['BENCH_WORKERS'];
const threads = trainingThreads(workers === undefined ? undefined : Number(workers));
const oneThread = await DataParallel.start(model, 1);
const parallel = await DataParallel.start(model, threads);
process.stderr.write(`training and evaluation on ${threads} threads, and on 1 for comparison\n`);

type Ours = Omit<TorchFigures, 'peakRssGb'> & { train1: number; eval1: number };
async function trainAndEval(dp: DataParallel): Promise<{ train: number; eval: number }> {
  const trainStep = await timed(TRAIN_STEPS, 2, async () => {
    const { loss, grads } = await dp.lossAndGrads(batch, { prefixDropout: 0.1 });
    opt.step(grads);
    disposeGrads(grads);
    await dp.readBack([loss]); // the step's read-back, as the trainer does
    loss.dispose();
  });
  const evalRun = await timed(Math.ceil(EVAL_STEPS / EVAL_BATCHES) + 1, 1, async () => {
    await dp.evalLosses(evalBatches);
  });
  return { train: (B * T) / trainStep, eval: (EVAL_BATCHES * B * T) / evalRun };
}
async function ours(): Promise<Ours> {
  const many = await trainAndEval(parallel);
  const one = threads > 1 ? await trainAndEval(oneThread) : many;
  const gen = await timed(GEN_RUNS, 1, async () => {
    const out = await generate(model, prompt, { maxNewTokens: NEW, eosTokenId: [] });
    if (out[0]!.length !== NEW) throw new Error('generation stopped early');
  });
  return { ...many, train1: one.train, eval1: one.eval, gen: NEW / gen };
}

// Rounds alternate which side goes first, so a drift of the machine's speed within the run
// weighs on both.
const mine: Ours[] = [];
const theirs: TorchFigures[] = [];
const torchRound = () => theirs.push(runTorchBench({ trainSteps: 2 * TRAIN_STEPS, evalSteps: EVAL_STEPS, genRuns: GEN_RUNS }));
for (let r = 0; r < ROUNDS; r++) {
  if (withTorch && r % 2 === 0) torchRound();
  mine.push(await ours());
  if (withTorch && r % 2 === 1) torchRound();
}

const referenceNote = withTorch
  ? `PyTorch CPU (torch_bench.py, small config, 2 threads), ${ROUNDS} rounds interleaved in this run`
  : 'PyTorch CPU, 2 threads, stored in ../shared/BENCHMARKS.md (fallback: python3 has no torch here)';
const referenceSource = withTorch ? 'same run' : 'stored';
const figures = [
  ['train_tokens_per_s', 'train', 'train'],
  ['eval_tokens_per_s', 'eval', 'eval'],
  ['train_tokens_per_s_1_thread', 'train1', 'train'],
  ['eval_tokens_per_s_1_thread', 'eval1', 'eval'],
  ['gen_new_tokens_per_s', 'gen', 'gen'],
] as const;
for (const [name, key, ref] of figures) {
  if (threads === 1 && (key === 'train1' || key === 'eval1')) continue;
  const value = median(mine.map((m) => m[key]));
  const reference = withTorch ? median(theirs.map((t) => t[ref])) : STORED[ref];
  const note = key === 'train' || key === 'eval' ? `glmflow on ${threads} threads; ${referenceNote}` : referenceNote;
  report({
    bench: 'model', figure: name, value, unit: 'tokens/s', reference, referenceNote: note, referenceSource, ratio: value / reference,
    ...(withTorch && ROUNDS > 1 ? { roundRatios: mine.map((m, i) => m[key] / theirs[i]![ref]) } : {}),
    ...(key === 'train' || key === 'eval' ? { target: '>= 1.0x', pass: value / reference >= 1 } : {}),
  });
}

// maxRSS is in KiB; the reference's GB are 1e9 bytes
const rssGb = (process.resourceUsage().maxRSS * 1024) / 1e9;
const rssReference = withTorch ? Math.max(...theirs.map((t) => t.peakRssGb)) : STORED.peakRssGb;
report({ bench: 'model', figure: 'peak_rss', value: rssGb, unit: 'GB', reference: rssReference, referenceSource, ratio: rssGb / rssReference });
await Promise.all([parallel.close(), oneThread.close()]);
opt.dispose();
model.dispose();
