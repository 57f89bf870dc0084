// A data-parallel training worker: holds its own copy of the model (the frozen base and the
// trainable variables, overwritten with the trainer's values before every request) on its
// own tfjs backend, and computes the loss and gradients of a shard, or eval losses.
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { GlmflowError } from '../../engine/errors.ts';
import { type BackendName, selectBackend } from '../../model/backend.ts';
import { GlmModel } from '../../model/glm.ts';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './protocol.ts';
import { flatten, unflattenInto } from './flat.ts';

const init = workerData as WorkerInit;
await selectBackend(init.backend as BackendName);
const weights = new Map(init.weights.map((w) => [w.name, w.data]));
const model = new GlmModel(init.config, { read: (name) => weights.get(name)! }, init.trainable);
weights.clear();
const vars = model.trainableVariables();
const port = parentPort!;

async function handle(req: WorkerRequest): Promise<WorkerResponse> {
  unflattenInto(vars, req.values);
  if (req.kind === 'eval') {
    const losses: number[] = [];
    for (const batch of req.batches) losses.push((await model.forward(batch, { logits: 'none' })).loss!);
    return { id: req.id, kind: 'eval', losses };
  }
  const { loss, grads } = await model.lossAndGrads(req.batch, { prefixDropout: req.prefixDropout, ...(req.dropoutSeed === undefined ? {} : { dropoutSeed: req.dropoutSeed }) });
  try {
    // one read-back: the loss, then every gradient
    const flat = await flatten([loss, ...vars.map((v) => grads.get(v)!)]);
    return { id: req.id, kind: 'grads', loss: flat[0]!, grads: flat.subarray(1) };
  } finally {
    tf.dispose([loss, ...grads.values()]);
  }
}

port.on('message', (req: WorkerRequest) => {
  handle(req).then(
    // the gradients' buffer is this request's own (read back from a disposed tensor): moved, not copied
    (res) => port.postMessage(res, res.kind === 'grads' ? [res.grads.buffer as ArrayBuffer] : []),
    (error: Error) => port.postMessage({ id: req.id, kind: 'error', message: error.message, ...(error instanceof GlmflowError && error.hint ? { hint: error.hint } : {}) } satisfies WorkerResponse),
  );
});
port.postMessage({ ready: true });
