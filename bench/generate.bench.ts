// Generation speed of the generate stage on the evaluation set: new tokens/s,
// batched as the stage runs it and one prompt at a time, next to the PyTorch
// CPU reference (torch_bench.py: greedy, KV cache, batch 1), run before and after
// in this run; the stored 67 new tokens/s of ../shared/BENCHMARKS.md only where
// /usr/bin/python3 has no torch (labelled as a fallback).
// Uses the pipeline's artifacts (base model, trained prefix, test split); run
// `npx tsx pipeline.ts run train` first. Note the embedded base model is much
// smaller than BENCHMARKS.md's "small" configuration the reference was measured on.
//   npx tsx bench/generate.bench.ts
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../model/backend.ts';
import { openBaseModel } from '../model/base-model.ts';
import { generateAll } from '../generation/batched.ts';
import { generateOptions } from '../generation/params.ts';
import { generateParams } from '../stages/generate.ts';
import { loadTokenizer } from '../tokenizer/artifact.ts';
import { readEvalExamples } from '../tokenizer/examples-arrow.ts';
import { pythonHas, runTorchBench } from './reference/python.ts';
import { median } from './timing.ts';
import { report } from './report.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts', import.meta.url));
const at = (rel: string) => path.join(ARTIFACTS, rel);
const PROMPTS = Number(process.env['BENCH_GEN_PROMPTS'] ?? 64);
const STORED = 67;

for (const rel of ['base/model/base.json', 'train/prefix.safetensors', 'tokenize/test.arrow', 'tokenize/tokenizer.json']) {
  if (!existsSync(at(rel))) throw new Error(`artifacts/${rel} missing: run npx tsx pipeline.ts run train first`);
}
process.stderr.write(`${(await selectBackend()).description}\n`);
const tokenizer = loadTokenizer(at('tokenize/tokenizer.json'));
const prompts: number[][] = [];
for await (const row of readEvalExamples(at('tokenize/test.arrow'))) if (prompts.length < PROMPTS) prompts.push(Array.from(row.input_ids));
const model = await openBaseModel(
  at('base/model'),
  { prefix: at('train/prefix.safetensors'), trainable: 'none' },
);
const params = generateParams.parse({});
const options = generateOptions(params, tokenizer);

async function tokensPerSecond(batchSize: number, rows: readonly number[][]): Promise<number> {
  await generateAll(model, rows.slice(0, 2), options, { size: batchSize, padId: tokenizer.padId }); // warm-up
  const t0 = performance.now();
  const out = await generateAll(model, rows, options, { size: batchSize, padId: tokenizer.padId });
  return out.reduce((n, r) => n + r.length, 0) / ((performance.now() - t0) / 1000);
}

const withTorch = pythonHas('torch');
if (!withTorch) process.stderr.write('NOTICE: /usr/bin/python3 has no torch (Debian python3-torch): ratios are against the stored BENCHMARKS.md figure\n');
const torchGen: number[] = [];
const torchRound = () => torchGen.push(runTorchBench({ trainSteps: 1, evalSteps: 1, genRuns: 3 }).gen);
if (withTorch) torchRound();
const batched = await tokensPerSecond(params.batch_size, prompts);
const single = await tokensPerSecond(1, prompts.slice(0, 16));
if (withTorch) torchRound();
const reference = withTorch ? median(torchGen) : STORED;
const figure = (name: string, value: number) =>
  report({
    bench: 'generate', figure: name, value, unit: 'tokens/s', reference, ratio: value / reference, referenceSource: withTorch ? 'same run' : 'stored',
    referenceNote: withTorch
      ? 'PyTorch CPU (torch_bench.py small config: a larger model), greedy, KV cache, batch 1, before and after in this run'
      : 'PyTorch CPU, greedy, KV cache, batch 1, stored in ../shared/BENCHMARKS.md (fallback: python3 has no torch here)',
  });
figure(`eval_set_new_tokens_per_s_batch_${params.batch_size}`, batched);
figure('eval_set_new_tokens_per_s_batch_1', single);
model.dispose();
