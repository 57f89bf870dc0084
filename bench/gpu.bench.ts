// GPU figures (`npm run bench -- gpu`): the small configuration's train, eval and generation
// tokens/s, and one P-tuning step at ChatGLM3-6B's widths (2 layers) with its achieved TFLOP/s,
// on the GPU backend the automatic choice finds (tfjs-node-gpu, or webgpu on a hardware adapter).
// Without a GPU it says so and exits 0; GLMFLOW_BACKEND=webgpu forces a software adapter
// (lavapipe: correctness, not speed). bench/bundle.ts packs this file for hosts without Node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdamW } from '../model/adamw.ts';
import { selectBackend } from '../model/backend.ts';
import { disposeGrads } from '../model/glm.ts';
import { createModel } from '../model/load.ts';
import { Rng } from '../model/random.ts';
import { generate } from '../model/generate.ts';
import { B, SMALL, T } from './small-config.ts';
import { timed } from './timing.ts';
import { report } from './report.ts';
import { runWide, writeWideCheckpoint } from './wide.ts';

const backend = await selectBackend();
process.stderr.write(`${backend.description}\n`);
if (backend.name !== 'tensorflow' && backend.name !== 'webgpu') {
  process.stderr.write('no GPU backend on this machine (neither @tensorflow/tfjs-node-gpu nor a hardware WebGPU adapter): nothing measured\n');
  process.stdout.write(JSON.stringify({ bench: 'gpu', skipped: `no GPU: ${backend.description}` }) + '\n');
  process.exit(0);
}
const label = backend.adapter ? `${backend.name} (${backend.adapter.vendor} ${backend.adapter.architecture}: ${backend.adapter.description})` : backend.description;

// wasm figures of this project on the 2-core development VM (model/README.md), the target's baseline
const figure = (name: string, value: number, unit: string, reference?: number, target?: string) =>
  report({ bench: 'gpu', figure: name, value, unit, referenceNote: label, ...(reference ? { reference, ratio: value / reference } : {}), ...(target ? { target } : {}) });

const model = await createModel(SMALL, 0);
const rng = new Rng(1);
const ids = Array.from({ length: B }, () => Array.from({ length: T }, () => 3 + Math.floor(rng.next() * 65000)));
const batch = { inputIds: ids, labels: ids.map((row) => row.map((id, t) => (t < T / 4 ? -100 : id))) };
const opt = new AdamW({ lr: 5e-5 });
const step = await timed(5, 1, async () => {
  const { loss, grads } = await model.lossAndGrads(batch);
  opt.step(grads);
  disposeGrads(grads);
  await loss.data();
  loss.dispose();
});
figure('small_train_tokens_per_s', (B * T) / step, 'tokens/s', 230, '>= 20x the wasm figure');
const evalStep = await timed(5, 1, async () => void (await model.forward(batch, { logits: 'none' })));
figure('small_eval_tokens_per_s', (B * T) / evalStep, 'tokens/s', 446);
const gen = await timed(3, 1, async () => void (await generate(model, [ids[0]!.slice(0, 64)], { maxNewTokens: 64, eosTokenId: [] })));
figure('small_gen_new_tokens_per_s', 64 / gen, 'tokens/s', 64);
opt.dispose();
model.dispose();

const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-wide-'));
try {
  writeWideCheckpoint(dir, 2, 0);
  const w = await runWide(dir, 256, (line) => process.stderr.write(line + '\n'));
  figure('wide6b_2layer_step_seconds', w.stepSeconds, 's');
  figure('wide6b_2layer_step_tflops', w.stepTflops, 'TFLOP/s', undefined, '>= 0.3x PyTorch f32 on the same GPU (../shared/reference/torch_bench.py)');
  figure('wide6b_2layer_peak_rss', w.peakRssBytes / 1e9, 'GB');
  figure('wide6b_2layer_device_bytes', w.deviceBytes / 1e9, 'GB');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
