// Loads a wide checkpoint (bench/wide-checkpoint.ts) and runs, on the selected backend, a forward
// pass, one P-tuning step and 8 generated tokens; one JSON line per figure, with peak host RSS and
// the bytes tfjs holds on the device:
//   GLMFLOW_BACKEND=webgpu npx tsx bench/wide-run.ts <dir> [tokens=16]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../model/adamw.ts';
import { selectBackend } from '../model/backend.ts';
import { disposeGrads } from '../model/glm.ts';
import { loadModel } from '../model/load.ts';

const gb = (bytes: number) => Number((bytes / 1e9).toFixed(3));
const peakRss = () => process.resourceUsage().maxRSS * 1024;

export interface WideFigures {
  readonly loadSeconds: number;
  readonly forwardSeconds: number;
  readonly stepSeconds: number;
  readonly stepTflops: number;
  readonly generateSeconds: number;
  readonly peakRssBytes: number;
  readonly deviceBytes: number;
  readonly loss: number;
  readonly tokens: number[];
}

export async function runWide(dir: string, tokens: number, log: (line: string) => void): Promise<WideFigures> {
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const s = (now - t) / 1000;
    t = now;
    return s;
  };
  const model = await loadModel(dir, { preSeqLen: 16, seed: 0, pass: { batch: 1, length: tokens, training: true } });
  const loadSeconds = lap();
  log(`loaded in ${loadSeconds.toFixed(1)} s; peak RSS ${gb(peakRss())} GB; device ${gb(tf.memory().numBytes)} GB`);
  const ids = [Array.from({ length: tokens }, (_, i) => 3 + ((i * 7919) % 65000))];
  const batch = { inputIds: ids, labels: ids };
  const { loss } = await model.forward(batch, { logits: 'none' });
  const forwardSeconds = lap();
  log(`forward: loss ${loss} in ${forwardSeconds.toFixed(1)} s`);
  const opt = new AdamW({ lr: 1e-2 });
  const r = await model.lossAndGrads(batch);
  opt.step(r.grads);
  disposeGrads(r.grads);
  const stepLoss = (await r.loss.data())[0]!;
  r.loss.dispose();
  const stepSeconds = lap();
  const c = model.config;
  const matmulParams = c.numLayers * ((c.numHeads + 2 * c.numGroups) * c.kvChannels * c.hiddenSize + c.hiddenSize * c.numHeads * c.kvChannels + 3 * c.ffnHiddenSize * c.hiddenSize) + c.vocabSize * c.hiddenSize;
  // frozen base: forward and input gradients, 2 FLOPs per multiply-add each
  const stepTflops = (4 * tokens * matmulParams) / stepSeconds / 1e12;
  log(`P-tuning step: loss ${stepLoss} in ${stepSeconds.toFixed(1)} s (${stepTflops.toFixed(3)} TFLOP/s)`);
  const generated = await model.generate([ids[0]!.slice(0, 4)], { maxNewTokens: 8, eosTokenId: [] });
  const generateSeconds = lap();
  log(`8 tokens in ${generateSeconds.toFixed(1)} s: ${generated[0]!.join(' ')}`);
  const deviceBytes = tf.memory().numBytes;
  opt.dispose();
  model.dispose();
  return { loadSeconds, forwardSeconds, stepSeconds, stepTflops, generateSeconds, peakRssBytes: peakRss(), deviceBytes, loss: stepLoss, tokens: generated[0]! };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, tokens = '16'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: npx tsx bench/wide-run.ts <dir> [tokens=16]');
  const backend = await selectBackend();
  process.stderr.write(`${backend.description}\n`);
  const f = await runWide(dir, Number(tokens), (line) => process.stderr.write(line + '\n'));
  process.stdout.write(JSON.stringify({ backend: backend.description, ...f, peakRssGB: gb(f.peakRssBytes), deviceGB: gb(f.deviceBytes) }) + '\n');
}
