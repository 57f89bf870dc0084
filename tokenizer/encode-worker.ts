// Body of an encode worker: loads the SentencePiece model once, then answers
// batches of texts with their ids packed into two transferable Int32Arrays.
import { parentPort, workerData } from 'node:worker_threads';
import { loadChatGLM3Tokenizer } from './chatglm3.ts';
import type { EncodeRequest, EncodeResponse } from './encode-pool.ts';

const port = parentPort;
if (!port) throw new Error('encode-worker.ts runs only as a worker thread');
const tokenizer = loadChatGLM3Tokenizer((workerData as { model: string }).model);
port.postMessage({ ready: true });
port.on('message', (request: EncodeRequest) => {
  const lists = request.texts.map((text) => tokenizer.encode(text));
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((ids, i) => (offsets[i + 1] = offsets[i]! + ids.length));
  const values = new Int32Array(offsets[lists.length]!);
  lists.forEach((ids, i) => values.set(ids, offsets[i]!));
  const response: EncodeResponse = { id: request.id, offsets, values };
  port.postMessage(response, [offsets.buffer, values.buffer]);
});
