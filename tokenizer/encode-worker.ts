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
  const offsets = new Int32Array(request.texts.length + 1);
  let values = new Int32Array(1024);
  request.texts.forEach((text, i) => {
    const ids = tokenizer.encode(text);
    const end = offsets[i]! + ids.length;
    if (end > values.length) {
      const grown = new Int32Array(Math.max(end, 2 * values.length));
      grown.set(values);
      values = grown;
    }
    values.set(ids, offsets[i]!);
    offsets[i + 1] = end;
  });
  const response: EncodeResponse = { id: request.id, offsets, values };
  port.postMessage(response, [offsets.buffer, values.buffer]);
});
