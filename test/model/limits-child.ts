// Run by limits.test.ts in a fresh process per backend (tfjs has one global backend):
//   GLMFLOW_BACKEND=webgpu node --import tsx test/model/limits-child.ts <out.json>
// A model whose embedding table (150 MB) is over lavapipe's 128 MiB binding limit: its logits,
// and what the device limit guards report.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { parseConfig } from '../../model/config.ts';
import { createModel } from '../../model/load.ts';

export const WIDE = parseConfig({
  model_type: 'chatglm', num_layers: 1, padded_vocab_size: 65024, hidden_size: 576, ffn_hidden_size: 64, kv_channels: 64,
  num_attention_heads: 9, multi_query_group_num: 3, seq_length: 1024, pre_seq_len: 2,
});
export const IDS = [[5, 64000, 33000, 1, 65023, 4097, 12, 36000]];

const out = process.argv[2]!;
const model = await createModel(WIDE, 7);
const { logits, loss } = await model.forward({ inputIds: IDS, labels: IDS });
const values = Array.from(await logits!.data());
logits!.dispose();
const { loss: trainLoss, grads } = await model.lossAndGrads({ inputIds: IDS, labels: IDS });
const gradNorm = await tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))))).data();
const report: Record<string, unknown> = { backend: tf.getBackend(), values, loss, trainLoss: (await trainLoss.data())[0], gradNorm: gradNorm[0] };
tf.dispose([trainLoss, ...grads.values()]);
// A forward asking for every position's logits that would not fit in one tensor is refused before it runs.
const long = [Array.from({ length: 600 }, (_, i) => i)];
report['tooLarge'] = await model.forward({ inputIds: long }).then(
  () => 'no error',
  (e: Error) => e.message,
);
if (tf.getBackend() === 'webgpu') {
  // A kernel binding a tensor over the limit: Dawn's error arrives as an exception at the read.
  const big = tf.fill([40 * 1024 * 1024], 1);
  report['deviceError'] = await tf.sum(big).data().then(
    (v) => `no error (sum ${v[0]})`,
    (e: Error) => e.message,
  );
}
model.dispose();
writeFileSync(out, JSON.stringify(report));
