// Threads for a stage's independent pieces of work (files, byte ranges, buckets).
// A module exports `tasks`, a record of async functions taking and returning
// structured-clonable values; the pool runs them on worker threads that import
// the module, and on this thread too: a worker takes about half a second to load
// its TypeScript, and this thread works through the queue meanwhile instead of
// waiting. A task's error comes back as the same kind of error (a GlmflowError
// keeps its hint).
import { Worker } from 'node:worker_threads';
import { GlmflowError } from './errors.ts';

/** What a worker module exports: `export const tasks = { name: async (input, progress) => output }`. */
export type TaskTable = Record<string, (input: never, progress: (done: number) => void) => Promise<unknown>>;

interface Queued {
  readonly task: string;
  readonly input: unknown;
  readonly onProgress: ((done: number) => void) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

type Reply = { ready: true } | { id: number; progress: number } | { id: number; result: unknown } | { id: number; error: { name?: string; message: string; hint?: string; stack?: string } };

const WORKER_URL = new URL('./task-worker.mjs', import.meta.url);

export class TaskPool<T extends TaskTable> {
  readonly #workers: Worker[];
  readonly #idle: Worker[] = [];
  readonly #queue: Queued[] = [];
  readonly #running = new Map<number, { worker: Worker; queued: Queued }>();
  #nextId = 0;
  #localBusy = false;
  #local: Promise<T> | undefined;

  /** `threads` in all, this one included: `threads - 1` workers are started. */
  constructor(
    readonly module: URL,
    threads: number,
  ) {
    // A plain worker (no inherited --import): the bootstrap registers the TypeScript loader once.
    this.#workers = Array.from({ length: Math.max(0, threads - 1) }, () => new Worker(WORKER_URL, { workerData: { module: module.href }, execArgv: [] }));
    for (const worker of this.#workers) {
      worker.on('message', (reply: Reply) => this.#reply(worker, reply));
      worker.on('error', (error) => this.#lose(worker, error));
      worker.on('exit', (code) => this.#lose(worker, new Error(`a worker thread exited (code ${code}) before its task was done`)));
    }
  }

  run<K extends keyof T & string>(task: K, input: Parameters<T[K]>[0], onProgress?: (done: number) => void): Promise<Awaited<ReturnType<T[K]>>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, input, onProgress, resolve: resolve as (value: unknown) => void, reject });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    for (const worker of this.#workers) worker.removeAllListeners('exit');
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const queued = this.#queue.shift()!;
      const id = this.#nextId++;
      this.#running.set(id, { worker, queued });
      worker.postMessage({ id, task: queued.task, input: queued.input });
    }
    if (!this.#localBusy && this.#queue.length > 0) void this.#runLocally(this.#queue.shift()!);
  }

  async #runLocally(queued: Queued): Promise<void> {
    this.#localBusy = true;
    try {
      this.#local ??= import(this.module.href).then((module) => (module as { tasks: T }).tasks);
      const run = (await this.#local)[queued.task] as (input: unknown, progress: (done: number) => void) => Promise<unknown>;
      queued.resolve(await run(queued.input, (done) => queued.onProgress?.(done)));
    } catch (error) {
      queued.reject(error as Error);
    }
    this.#localBusy = false;
    this.#dispatch();
  }

  #reply(worker: Worker, reply: Reply): void {
    if ('ready' in reply) {
      this.#idle.push(worker);
      return this.#dispatch();
    }
    const running = this.#running.get(reply.id);
    if (!running) return;
    if ('progress' in reply) return running.queued.onProgress?.(reply.progress);
    this.#running.delete(reply.id);
    this.#idle.push(worker);
    if ('error' in reply) running.queued.reject(asError(reply.error));
    else running.queued.resolve(reply.result);
    this.#dispatch();
  }

  /** A worker that failed or exited: its task fails; the others, and this thread, go on with the queue. */
  #lose(worker: Worker, error: Error): void {
    const idle = this.#idle.indexOf(worker);
    if (idle !== -1) this.#idle.splice(idle, 1);
    for (const [id, running] of this.#running) {
      if (running.worker !== worker) continue;
      this.#running.delete(id);
      running.queued.reject(error);
    }
  }
}

function asError(error: { name?: string; message: string; hint?: string; stack?: string }): Error {
  if (error.name === 'GlmflowError') return new GlmflowError(error.message, error.hint);
  const rebuilt = new Error(error.message);
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}
