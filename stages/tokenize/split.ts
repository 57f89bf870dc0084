// One split from conversations JSONL to an Arrow examples file: training
// examples for train/dev, evaluation pairs for test. Conversations are handled
// in chunks so the memo (and the worker pool behind it) encodes each chunk's
// distinct texts in one go, and memory stays bounded.
import path from 'node:path';
import type { Message } from '../../formats/conversation.ts';
import { readJsonl, type JsonlWriter } from '../../formats/jsonl.ts';
import { EVAL_COLUMNS, ExamplesWriter, TRAIN_COLUMNS } from '../../tokenizer/examples-arrow.ts';
import type { MemoEncoder } from '../../tokenizer/memo-encoder.ts';
import { evalExamples, IGNORE_INDEX, trainExample, type Limits } from '../../tokenizer/preprocess.ts';
import { checkConversation } from './validate.ts';
import { SplitStats } from './stats.ts';

const CHUNK = 2048;

export interface SplitJob {
  readonly split: string;
  readonly input: string;
  readonly output: string;
  readonly mode: 'train' | 'eval';
  readonly encoder: MemoEncoder;
  readonly limits: Limits;
  readonly rejected: JsonlWriter;
  readonly signal?: AbortSignal;
  readonly onProgress?: (conversations: number) => void;
}

export async function tokenizeSplit(job: SplitJob): Promise<SplitStats> {
  const stats = new SplitStats();
  const writer = job.mode === 'train' ? new ExamplesWriter(job.output, TRAIN_COLUMNS) : new ExamplesWriter(job.output, EVAL_COLUMNS);
  let chunk: (readonly Message[])[] = [];
  const flush = async (): Promise<void> => {
    await job.encoder.prepare(['\n', ...chunk.flatMap((messages) => messages.map((m) => m.content))]);
    for (const messages of chunk) writeConversation(job, writer, stats, messages);
    chunk = [];
    job.onProgress?.(stats.conversations);
  };
  try {
    for await (const line of readJsonl(job.input)) {
      job.signal?.throwIfAborted();
      stats.conversations++;
      const checked = checkConversation(line);
      if (!checked.ok) {
        stats.rejected++;
        await job.rejected.write({ split: job.split, file: path.basename(job.input), line: line.line, reason: checked.reason });
        continue;
      }
      chunk.push(checked.messages);
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
  } finally {
    await writer.close();
  }
  return stats;
}

function writeConversation(job: SplitJob, writer: ExamplesWriter<typeof TRAIN_COLUMNS> | ExamplesWriter<typeof EVAL_COLUMNS>, stats: SplitStats, messages: readonly Message[]): void {
  const { encoder, limits } = job;
  if (job.mode === 'train') {
    const example = trainExample(encoder.tokenizer, messages, limits, encoder.encode);
    (writer as ExamplesWriter<typeof TRAIN_COLUMNS>).write({ input_ids: example.inputIds, labels: example.labels });
    stats.examples++;
    stats.addLength(example.fullLength);
    if (example.truncated) stats.truncated++;
    stats.tokens += example.inputIds.length;
    stats.labelTokens += example.labels.reduce((n, label) => n + (label === IGNORE_INDEX ? 0 : 1), 0);
    return;
  }
  const pairs = evalExamples(encoder.tokenizer, messages, limits, encoder.encode);
  pairs.inputIds.forEach((input, i) => {
    const output = pairs.outputIds[i]!;
    (writer as ExamplesWriter<typeof EVAL_COLUMNS>).write({ input_ids: input, output_ids: output });
    stats.examples++;
    stats.addLength(input.length);
    stats.tokens += input.length + output.length;
  });
}
