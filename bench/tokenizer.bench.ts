// Tokenizer throughput on the shared real customer-service messages, against C++
// SentencePiece's 0.74M tokens/s (../shared/BENCHMARKS.md, same messages, same
// model). Prints JSON lines. Figures are steady-state medians: worker start-up
// (each worker loads the model once per stage run) is reported on its own line.
//   npx tsx bench/tokenizer.bench.ts
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from '../test/shared.ts';
import { loadChatGLM3Tokenizer } from '../tokenizer/chatglm3.ts';
import { EncodePool } from '../tokenizer/encode-pool.ts';
import { MemoEncoder } from '../tokenizer/memo-encoder.ts';

const REFERENCE = 740_000;
const TARGET = 1.5;
const RUNS = 15;

const model = path.join(SHARED_DIR, 'chatglm3/tokenizer.model');
const data = path.join(SHARED_DIR, 'data/ecommerce-cs/conversations.expected.jsonl');
if (!existsSync(model) || !existsSync(data)) {
  console.error(`bench needs ${model} and ${data} (../shared beside the checkout)`);
  process.exit(1);
}
const messages = readFileSync(data, 'utf8')
  .split('\n')
  .filter(Boolean)
  .flatMap((line) => (JSON.parse(line) as { conversations: { content: string }[] }).conversations.map((m) => m.content));
const tokenizer = loadChatGLM3Tokenizer(model);
const tokens = messages.reduce((n, text) => n + tokenizer.encode(text).length, 0);

function report(figure: string, value: number, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ bench: 'tokenizer', figure, value: Math.round(value), unit: 'tokens/s', reference: REFERENCE, ratio: +(value / REFERENCE).toFixed(2), target: TARGET, ...extra }));
}

async function median(run: () => Promise<void> | void): Promise<number> {
  await run();
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    rates.push(tokens / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(RUNS / 2)]!;
}

const single = await median(() => {
  for (const text of messages) tokenizer.encode(text);
});
report('tokens_per_s_single_thread_no_memo', single, { messages: messages.length, tokens });

const memoOnly = await median(async () => {
  await new MemoEncoder(tokenizer).prepare(messages);
});
report('tokens_per_s_single_thread_memo', memoOnly);

const workers = 2;
const started = performance.now();
const pool = await EncodePool.start(tokenizer.file, workers);
const startupMs = performance.now() - started;
try {
  // A fresh memo per run: only repeats within the messages count, as in one stage run.
  const pooled = await median(async () => {
    await new MemoEncoder(tokenizer, pool).prepare(messages);
  });
  report('tokens_per_s', pooled, { workers, memo: true, worker_startup_ms: Math.round(startupMs) });
} finally {
  await pool.close();
}
