// ChatGLM3 + P-tuning v2 speed on the "small" configuration of ../shared/BENCHMARKS.md
// (random seeded weights, real 65,024-token vocabulary), against the PyTorch CPU reference
// measured on the same kind of machine. Prints one JSON line per figure; the chosen backend
// goes to stderr. Medians after warm-up.
//   npx tsx bench/model.bench.ts
import { AdamW } from '../model/adamw.ts';
import { selectBackend } from '../model/backend.ts';
import { parseConfig } from '../model/config.ts';
import { disposeGrads } from '../model/glm.ts';
import { createModel } from '../model/load.ts';
import { Rng } from '../model/random.ts';
import { report } from './report.ts';
import { generate } from '../model/generate.ts';

const SMALL = parseConfig({
  model_type: 'chatglm', num_layers: 4, hidden_size: 256, num_attention_heads: 8, kv_channels: 32,
  multi_query_attention: true, multi_query_group_num: 2, ffn_hidden_size: 704, padded_vocab_size: 65024,
  seq_length: 2048, pre_seq_len: 16, prefix_projection: false,
});
const B = 4;
const T = 256;
const TRAIN_STEPS = Number(process.env['BENCH_TRAIN_STEPS'] ?? 5);
const EVAL_STEPS = Number(process.env['BENCH_EVAL_STEPS'] ?? 5);
const GEN_RUNS = Number(process.env['BENCH_GEN_RUNS'] ?? 3);

process.stderr.write(`${(await selectBackend()).description}\n`);
const model = await createModel(SMALL, 0);
const rng = new Rng(1);
const randomIds = (n: number) => Array.from({ length: n }, () => 3 + Math.floor(rng.next() * (64789 - 3)));
const inputIds = Array.from({ length: B }, () => randomIds(T));
// the prompt quarter carries no label, as in P-tuning data (and the reference)
const labels = inputIds.map((row) => row.map((id, t) => (t < T / 4 ? -100 : id)));
const positionIds = inputIds.map((row) => row.map((_, t) => t));
const batch = { inputIds, labels, positionIds };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(runs: number, warmup: number, fn: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

const figure = (name: string, value: number, unit: string, reference: number) =>
  report({ bench: 'model', figure: name, value, unit, reference, referenceNote: 'PyTorch CPU, glm_ref, 2 threads (BENCHMARKS.md)', ratio: value / reference });

const opt = new AdamW({ lr: 5e-5, weightDecay: 0.01 });
const trainStep = await timed(TRAIN_STEPS, 2, async () => {
  const { loss, grads } = await model.lossAndGrads(batch, { prefixDropout: 0.1 });
  opt.step(grads);
  disposeGrads(grads);
  await loss.data(); // the step's read-back, as the trainer does
  loss.dispose();
});
figure('train_tokens_per_s', (B * T) / trainStep, 'tokens/s', 380);

const evalStep = await timed(EVAL_STEPS, 1, async () => {
  await model.forward(batch, { logits: 'none' });
});
figure('eval_tokens_per_s', (B * T) / evalStep, 'tokens/s', 845);

const prompt = [randomIds(64)];
const NEW = 64;
const gen = await timed(GEN_RUNS, 1, async () => {
  const out = await generate(model, prompt, { maxNewTokens: NEW, eosTokenId: [] });
  if (out[0]!.length !== NEW) throw new Error('generation stopped early');
});
figure('gen_new_tokens_per_s', NEW / gen, 'tokens/s', 67);

// maxRSS is in KiB; the reference's GB are 1e9 bytes
const rssGb = (process.resourceUsage().maxRSS * 1024) / 1e9;
report({ bench: 'model', figure: 'peak_rss', value: rssGb, unit: 'GB', reference: 1.34, ratio: rssGb / 1.34 });
opt.dispose();
model.dispose();
