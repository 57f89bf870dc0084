// A task pool's worker thread (engine/task-pool.ts). Node cannot start a .ts file
// as a worker, so this plain module registers tsx's loader first, then imports the
// TypeScript module named in workerData and runs its exported `tasks` on request.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { tasks } = await import(workerData.module);
parentPort.on('message', async ({ id, task, input }) => {
  const progress = (done) => parentPort.postMessage({ id, progress: done });
  try {
    parentPort.postMessage({ id, result: await tasks[task](input, progress) });
  } catch (error) {
    parentPort.postMessage({ id, error: { name: error?.name, message: error?.message ?? String(error), hint: error?.hint, stack: error?.stack } });
  }
});
parentPort.postMessage({ ready: true });
