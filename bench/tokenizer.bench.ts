// Tokenizer throughput on the shared real customer-service messages, side by side with
// C++ SentencePiece (its Python binding, one call per message, single-threaded) on the
// same messages and model: rounds alternate between the two and each ratio is this run's.
// Where /usr/bin/python3 has no sentencepiece, the stored 0.74M tokens/s of
// ../shared/BENCHMARKS.md is the reference, labelled as a fallback. Figures are
// steady-state medians: worker start-up (each worker loads the model once per stage run)
// is reported on its own line.
//   npm run bench -- tokenizer      (BENCH_ROUNDS=3 for more rounds)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from '../test/shared.ts';
import { loadChatGLM3Tokenizer } from '../tokenizer/chatglm3.ts';
import { EncodePool } from '../tokenizer/encode-pool.ts';
import { MemoEncoder } from '../tokenizer/memo-encoder.ts';
import { pythonHas, runSentencePieceBench } from './reference/python.ts';
import { median } from './timing.ts';
import { report } from './report.ts';

const STORED = 740_000;
const TARGET = 1.5;
const RUNS = 15;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);

const model = path.join(SHARED_DIR, 'chatglm3/tokenizer.model');
const data = path.join(SHARED_DIR, 'data/ecommerce-cs/conversations.expected.jsonl');
if (!existsSync(model) || !existsSync(data)) {
  console.error(`bench needs ${model} and ${data} (../shared beside the checkout)`);
  process.exit(1);
}
const withReference = pythonHas('sentencepiece');
if (!withReference) process.stderr.write('NOTICE: /usr/bin/python3 has no sentencepiece (Debian python3-sentencepiece): ratios are against the stored BENCHMARKS.md figure\n');
const messages = readFileSync(data, 'utf8')
  .split('\n')
  .filter(Boolean)
  .flatMap((line) => (JSON.parse(line) as { conversations: { content: string }[] }).conversations.map((m) => m.content));
const tokenizer = loadChatGLM3Tokenizer(model);
const tokens = messages.reduce((n, text) => n + tokenizer.encode(text).length, 0);

async function rate(run: () => Promise<void> | void): Promise<number> {
  await run();
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    rates.push(tokens / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

const workers = 2;
const started = performance.now();
const pool = await EncodePool.start(tokenizer.file, workers);
const startupMs = performance.now() - started;
const figures = { single: [] as number[], memo: [] as number[], pooled: [] as number[] };
const references: number[] = [];
const referenceRound = () => {
  const r = runSentencePieceBench(model, data, 5);
  if (r.tokens !== tokens) throw new Error(`SentencePiece counted ${r.tokens} tokens, glmflow ${tokens}: not the same work`);
  references.push(r.tokensPerSecond);
};
try {
  for (let round = 0; round < ROUNDS; round++) {
    if (withReference && round % 2 === 0) referenceRound();
    figures.single.push(await rate(() => {
      for (const text of messages) tokenizer.encode(text);
    }));
    figures.memo.push(await rate(async () => {
      await new MemoEncoder(tokenizer).prepare(messages);
    }));
    // A fresh memo per run: only repeats within the messages count, as in one stage run.
    figures.pooled.push(await rate(async () => {
      await new MemoEncoder(tokenizer, pool).prepare(messages);
    }));
    if (withReference && round % 2 === 1) referenceRound();
  }
} finally {
  await pool.close();
}

const reference = withReference ? median(references) : STORED;
const referenceNote = withReference
  ? `C++ SentencePiece through python3, single-threaded, same messages, ${ROUNDS} rounds interleaved in this run`
  : 'C++ SentencePiece, stored in ../shared/BENCHMARKS.md (fallback: python3 has no sentencepiece here)';
const figure = (name: string, values: number[], extra: { target?: string; pass?: boolean } = {}) => {
  const value = median(values);
  report({
    bench: 'tokenizer', figure: name, value, unit: 'tokens/s', reference, referenceNote, referenceSource: withReference ? 'same run' : 'stored', ratio: value / reference,
    ...(withReference && ROUNDS > 1 ? { roundRatios: values.map((v, i) => v / references[i]!) } : {}),
    ...extra,
  });
};
figure('tokens_per_s_single_thread_no_memo', figures.single);
figure('tokens_per_s_single_thread_memo', figures.memo);
const pooled = median(figures.pooled);
figure('tokens_per_s', figures.pooled, { target: `>= ${TARGET}x`, pass: pooled / reference >= TARGET });
report({ bench: 'tokenizer', figure: 'worker_startup_ms', value: startupMs, unit: 'ms', referenceNote: `tokens_per_s runs ${workers} workers (with the memo); each loads the model once` });
process.stderr.write(`${messages.length} messages, ${tokens} tokens\n`);
