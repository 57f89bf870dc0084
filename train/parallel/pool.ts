// Data-parallel training and evaluation over worker threads. The trainer's own thread is
// shard 0; each worker holds a copy of the model (the frozen base and the trainable
// variables, refreshed from the trainer's before each request). A training batch is cut
// into row shards; each shard's mean loss and gradients are weighted by its share of the
// batch's targets, so the combined loss and gradients are the whole batch's, up to the
// order of summation. Evaluation hands out whole batches (or row shards of a few).
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { GlmflowError } from '../../engine/errors.ts';
import { startReadyWorkers } from '../../engine/ready-workers.ts';
import { currentBackend } from '../../model/backend.ts';
import type { GlmModel, TrainOptions } from '../../model/glm.ts';
import { flatten, unflatten } from './flat.ts';
import type { ShardBatch, WorkerInit, WorkerRequest, WorkerResponse } from './protocol.ts';
import { shardRows } from './shards.ts';

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

/**
 * Threads a training uses: `workers` worker threads besides the trainer's own, or by default
 * one per core on the one-thread CPU backends, wasm and cpu (up to 4: each holds a copy of the
 * model), and none on tensorflow and webgpu, whose kernels already use every core or the GPU.
 */
export function trainingThreads(workers: number | undefined): number {
  if (workers !== undefined) return workers + 1;
  const backend = currentBackend()?.name;
  return backend === 'wasm' || backend === 'cpu' ? Math.min(4, availableParallelism()) : 1;
}

export class DataParallel {
  /** The trainable variables' values the workers compute with; read when first needed, then with each step's read-back. */
  #values: Float32Array | undefined;
  readonly #waiting = new Map<number, { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void }>();
  #nextId = 0;

  private constructor(
    private readonly model: GlmModel,
    private readonly workers: readonly Worker[],
  ) {
    for (const worker of workers) {
      worker.on('message', (res: WorkerResponse) => {
        const waiting = this.#waiting.get(res.id);
        this.#waiting.delete(res.id);
        if (res.kind === 'error') waiting?.reject(new GlmflowError(`training worker: ${res.message}`, res.hint));
        else waiting?.resolve(res);
      });
      worker.on('error', (error) => this.#failAll(error));
      worker.on('exit', (code) => this.#failAll(new GlmflowError(`a training worker exited (code ${code})`, 'run again with --set train.workers=0 to train on this thread alone')));
    }
  }

  /** Starts `threads - 1` workers, each with a copy of `model`, and waits until each has built it. */
  static async start(model: GlmModel, threads: number): Promise<DataParallel> {
    if (threads <= 1) return new DataParallel(model, []);
    const backend = currentBackend()?.name ?? 'wasm';
    const named = model.namedWeights();
    let init: WorkerInit;
    try {
      const weights: { name: string; data: Float32Array }[] = [];
      for (const [name, t] of named) weights.push({ name, data: (await t.data()) as Float32Array });
      init = { config: model.config, trainable: model.trainable, backend, weights };
    } finally {
      tf.dispose([...named.values()]);
    }
    let workers: Worker[];
    try {
      workers = await startReadyWorkers(WORKER_URL, threads - 1, init);
    } catch (error) {
      throw new GlmflowError(`could not start the training workers: ${(error as Error).message}`, 'run again with --set train.workers=0 to train on this thread alone');
    }
    return new DataParallel(model, workers);
  }

  /** Threads computing: the workers and this one. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * model.lossAndGrads of the whole batch, computed in row shards across the threads: the loss
   * (on the device, as model.lossAndGrads leaves it) and the gradients, each the target-weighted
   * mean of the shards'. The workers get the trainable values of the last readBack.
   */
  async lossAndGrads(batch: ShardBatch, opts: TrainOptions = {}): Promise<{ loss: tf.Scalar; grads: Map<tf.Variable, tf.Tensor> }> {
    const shards = shardRows(batch, this.threads).filter((s) => s.targets > 0);
    if (shards.length <= 1) return this.model.lossAndGrads(batch, opts);
    const total = shards.reduce((n, s) => n + s.targets, 0);
    const vars = this.model.trainableVariables();
    const values = await this.#trainableValues();
    const dropout = { prefixDropout: opts.prefixDropout ?? 0, ...(opts.dropoutSeed === undefined ? {} : { dropoutSeed: opts.dropoutSeed }) };
    const pending = shards.slice(1).map((s, w) => this.#request(this.workers[w]!, { id: 0, kind: 'grads', values, batch: s.batch, ...dropout }));
    let own: { loss: tf.Scalar; grads: Map<tf.Variable, tf.Tensor> } | undefined;
    let remote: WorkerResponse[];
    try {
      own = await this.model.lossAndGrads(shards[0]!.batch, opts);
      remote = await Promise.all(pending);
    } catch (error) {
      if (own) tf.dispose([own.loss, ...own.grads.values()]);
      throw error;
    }
    const weights = shards.map((s) => s.targets / total);
    const replies = remote.map((r) => {
      if (r.kind !== 'grads') throw new Error(`unexpected ${r.kind} reply`);
      return r;
    });
    const parts = replies.map((r) => unflatten(vars, r.grads));
    const mine = own;
    const loss = tf.tidy(() => tf.addN([tf.mul(mine.loss, weights[0]!), ...replies.map((r, i) => tf.scalar(r.loss * weights[i + 1]!))]) as tf.Scalar);
    const grads = new Map<tf.Variable, tf.Tensor>();
    vars.forEach((v, j) => {
      grads.set(v, tf.tidy(() => tf.addN([tf.mul(mine.grads.get(v)!, weights[0]!), ...parts.map((p, i) => tf.mul(p[j]!, weights[i + 1]!))])));
    });
    tf.dispose([mine.loss, ...mine.grads.values(), ...parts.flat()]);
    return { loss, grads };
  }

  /**
   * The loss of each batch (model.forward's), spread across the threads: whole batches while
   * there are at least as many as threads, else each batch in row shards, target-weighted.
   */
  async evalLosses(batches: readonly ShardBatch[]): Promise<number[]> {
    const jobs = batches.length >= this.threads ? batches.map((batch, index) => ({ batch, index, weight: 1 })) : batches.flatMap((batch, index) => evalShards(batch, index, this.threads));
    const share = (thread: number) => jobs.filter((_, j) => j % this.threads === thread);
    const values = this.workers.length > 0 ? await this.#trainableValues() : undefined;
    const pending = this.workers.map((worker, w) => this.#request(worker, { id: 0, kind: 'eval', values: values!, batches: share(w + 1).map((job) => job.batch) }));
    const losses = new Array<number>(batches.length).fill(0);
    for (const job of share(0)) losses[job.index]! += job.weight * (await this.model.forward(job.batch, { logits: 'none' })).loss!;
    const remote = await Promise.all(pending);
    remote.forEach((r, w) => {
      if (r.kind !== 'eval') throw new Error(`unexpected ${r.kind} reply`);
      share(w + 1).forEach((job, k) => (losses[job.index]! += job.weight * r.losses[k]!));
    });
    return losses;
  }

  /**
   * A training step's one read-back: the values of `scalars`, read together with the trainable
   * variables' new values where workers need them for the next step (call it after the update).
   */
  async readBack(scalars: readonly tf.Scalar[]): Promise<Float32Array> {
    if (this.workers.length === 0) {
      const both = tf.stack(scalars as tf.Scalar[]);
      try {
        return (await both.data()) as Float32Array;
      } finally {
        both.dispose();
      }
    }
    const all = await flatten([...scalars, ...this.model.trainableVariables()]);
    this.#values = all.subarray(scalars.length);
    return all.subarray(0, scalars.length);
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.removeAllListeners('exit');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  async #trainableValues(): Promise<Float32Array> {
    this.#values ??= await flatten(this.model.trainableVariables());
    return this.#values;
  }

  #request(worker: Worker, req: WorkerRequest): Promise<WorkerResponse> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }
}

/** A batch's row shards with their weights in its mean loss (the whole batch where no shard has targets). */
function evalShards(batch: ShardBatch, index: number, parts: number): { batch: ShardBatch; index: number; weight: number }[] {
  const shards = shardRows(batch, parts).filter((s) => s.targets > 0);
  const total = shards.reduce((n, s) => n + s.targets, 0);
  return total === 0 ? [{ batch, index, weight: 1 }] : shards.map((s) => ({ batch: s.batch, index, weight: s.targets / total }));
}
