// ChatGLM3-6B's real widths at few layers, for the GPU bench and issue-sized checks: a seeded
// synthetic checkpoint written as BF16 shards with model.safetensors.index.json, as Hugging Face
// saves ChatGLM3-6B (output not committed: 1.9 GB at 2 layers), and a run of it (load, forward,
// one P-tuning step, 8 generated tokens, peak host RSS, device bytes). CLIs: wide-checkpoint.ts,
// wide-run.ts. Values are uniform with the variance of the project's random init (N(0, 1/fan_in)
// matrices, N(0, 1) embeddings), drawn with a xorshift and rounded to BF16 directly: a normal draw
// per value would take minutes for 940M values.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseConfig, toHfConfig, type GlmConfig } from '../model/config.ts';
import { AdamW } from '../model/adamw.ts';
import { disposeGrads } from '../model/glm.ts';
import { loadModel } from '../model/load.ts';

export function wideConfig(layers: number, preSeqLen: number | null = null): GlmConfig {
  return parseConfig({
    model_type: 'chatglm', num_layers: layers, padded_vocab_size: 65024, hidden_size: 4096, ffn_hidden_size: 13696, kv_channels: 128,
    num_attention_heads: 32, multi_query_group_num: 2, seq_length: 8192, add_qkv_bias: true, pre_seq_len: preSeqLen,
  });
}

/** HF tensor names and shapes of the base model (no prefix), one shard per group. */
function shards(c: GlmConfig): { file: string; tensors: [string, number[]][] }[] {
  const H = c.hiddenSize;
  const qkv = (c.numHeads + 2 * c.numGroups) * c.kvChannels;
  const n = c.numLayers + 2;
  const name = (i: number) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
  const layer = (i: number): [string, number[]][] => {
    const p = `transformer.encoder.layers.${i}`;
    return [
      [`${p}.input_layernorm.weight`, [H]],
      [`${p}.self_attention.query_key_value.weight`, [qkv, H]],
      [`${p}.self_attention.query_key_value.bias`, [qkv]],
      [`${p}.self_attention.dense.weight`, [H, c.numHeads * c.kvChannels]],
      [`${p}.post_attention_layernorm.weight`, [H]],
      [`${p}.mlp.dense_h_to_4h.weight`, [2 * c.ffnHiddenSize, H]],
      [`${p}.mlp.dense_4h_to_h.weight`, [H, c.ffnHiddenSize]],
    ];
  };
  return [
    { file: name(0), tensors: [['transformer.embedding.word_embeddings.weight', [c.vocabSize, H]]] },
    ...Array.from({ length: c.numLayers }, (_, i) => ({ file: name(i + 1), tensors: layer(i) })),
    { file: name(n - 1), tensors: [['transformer.encoder.final_layernorm.weight', [H]], ['transformer.output_layer.weight', [c.vocabSize, H]]] },
  ];
}

/** BF16 bits of seeded values for one tensor: norms 1, biases 0, embeddings variance 1, matrices variance 1/fan_in. */
function bf16Values(name: string, shape: number[], seed: number): Uint16Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint16Array(count);
  const f = new Float32Array(1);
  const bits = new Uint32Array(f.buffer);
  if (name.endsWith('layernorm.weight')) {
    f[0] = 1;
    return out.fill(bits[0]! >>> 16);
  }
  if (name.endsWith('.bias')) return out;
  const std = name.endsWith('embeddings.weight') ? 1 : 1 / Math.sqrt(shape[shape.length - 1]!);
  const a = std * Math.sqrt(3); // uniform on [-a, a] has this standard deviation
  let x = (seed * 2654435761) ^ [...name].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619), 2166136261) || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    f[0] = ((x >>> 0) / 4294967296 * 2 - 1) * a;
    out[i] = (bits[0]! + 0x8000) >>> 16; // round to nearest
  }
  return out;
}

export function writeWideCheckpoint(dir: string, layers: number, seed: number): { bytes: number; files: number } {
  mkdirSync(dir, { recursive: true });
  const c = wideConfig(layers);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(c), null, 2) + '\n');
  const weightMap: Record<string, string> = {};
  let total = 0;
  const list = shards(c);
  for (const { file, tensors } of list) {
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const [name, shape] of tensors) {
      const bytes = 2 * shape.reduce((a, b) => a * b, 1);
      header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
      weightMap[name] = file;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    const fd = openSync(path.join(dir, file), 'w');
    try {
      writeSync(fd, head);
      writeSync(fd, json);
      // one tensor in memory at a time
      for (const [name, shape] of tensors) {
        const v = bf16Values(name, shape, seed);
        writeSync(fd, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      }
    } finally {
      closeSync(fd);
    }
    total += offset;
  }
  writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 1) + '\n');
  return { bytes: total, files: list.length };
}

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
