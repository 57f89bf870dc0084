// Starting worker threads that load something heavy (a model, a tokenizer) before
// they can work: each posts { ready: true } first. Either every worker is ready,
// or all are terminated and the first failure is thrown, so no caller is left
// holding half a pool.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export async function startReadyWorkers(url: URL, count: number, workerData: unknown): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => new Worker(url, { workerData }));
  try {
    await Promise.all(workers.map(async (worker) => {
      const [first] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([error]) => Promise.reject(error as Error))])) as [unknown];
      if ((first as { ready?: boolean }).ready !== true) throw new Error('a worker did not report ready');
    }));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  }
  return workers;
}
