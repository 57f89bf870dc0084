// SentencePiece encoding on worker threads: each worker loads the model once;
// a batch of texts is split evenly across them.
import type { Worker } from 'node:worker_threads';
import { GlmflowError } from '../engine/errors.ts';
import { startReadyWorkers } from '../engine/ready-workers.ts';

export interface EncodeRequest {
  readonly id: number;
  readonly texts: readonly string[];
}

export interface EncodeResponse {
  readonly id: number;
  readonly offsets: Int32Array;
  readonly values: Int32Array;
}

const WORKER_URL = new URL('./encode-worker.mjs', import.meta.url);

export class EncodePool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, { resolve: (response: EncodeResponse) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  private constructor(workers: Worker[]) {
    this.#workers = workers;
    for (const worker of workers) {
      worker.on('message', (response: EncodeResponse) => {
        this.#waiting.get(response.id)?.resolve(response);
        this.#waiting.delete(response.id);
      });
      worker.on('error', (error) => {
        for (const { reject } of this.#waiting.values()) reject(error);
        this.#waiting.clear();
      });
    }
  }

  /** Starts `size` workers on the model file (already validated by the caller) and waits until each has loaded it. */
  static async start(modelFile: string, size: number): Promise<EncodePool> {
    let workers: Worker[];
    try {
      workers = await startReadyWorkers(WORKER_URL, size, { model: modelFile });
    } catch (error) {
      throw error instanceof GlmflowError ? error : new GlmflowError(`could not start the tokenizer workers: ${(error as Error).message}`);
    }
    return new EncodePool(workers);
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Ids of each text, as views into the transferred buffers (no copy per text). */
  async encodeMany(texts: readonly string[]): Promise<Int32Array[]> {
    const share = Math.ceil(texts.length / this.#workers.length);
    const parts = await Promise.all(
      this.#workers.map((worker, w) => this.#request(worker, texts.slice(w * share, (w + 1) * share))),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  async #request(worker: Worker, texts: readonly string[]): Promise<Int32Array[]> {
    if (texts.length === 0) return [];
    const id = this.#nextId++;
    const response = await new Promise<EncodeResponse>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, texts } satisfies EncodeRequest);
    });
    const { offsets, values } = response;
    return Array.from({ length: texts.length }, (_, i) => values.subarray(offsets[i]!, offsets[i + 1]!));
  }
}
