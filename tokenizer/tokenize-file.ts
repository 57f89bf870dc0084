// The one-off `tokenize` command's core: conversations JSONL → ids JSONL, one
// line per input conversation in input order, for inspection and for comparing
// with other implementations. Unlike the stage it rejects nothing silently: a bad
// line stops it, since a dropped line would shift every line after it.
import { GlmflowError } from '../engine/errors.ts';
import { readJsonl, JsonlWriter } from '../formats/jsonl.ts';
import { checkConversation } from '../stages/tokenize/validate.ts';
import { loadTokenizer } from './artifact.ts';
import { MemoEncoder } from './memo-encoder.ts';
import { evalExamples, trainExample } from './preprocess.ts';

export interface TokenizeFileOptions {
  readonly in: string;
  /** A ChatGLM3 tokenizer.model, a model folder, or a tokenizer.json artifact of the tokenize stage. */
  readonly tokenizer: string;
  readonly out: string;
  readonly maxInput?: number;
  readonly maxOutput?: number;
  /** Write evaluation pairs ({input_ids: [[…]], output_ids: [[…]]}) instead of training examples. */
  readonly eval?: boolean;
}

/** Returns the number of lines written. */
export async function tokenizeFile(options: TokenizeFileOptions): Promise<number> {
  const tokenizer = loadTokenizer(options.tokenizer);
  const limits = { maxInputLength: options.maxInput ?? 256, maxOutputLength: options.maxOutput ?? 512 };
  const encoder = new MemoEncoder(tokenizer);
  const writer = new JsonlWriter(options.out);
  try {
    for await (const line of readJsonl(options.in)) {
      const checked = checkConversation(line);
      if (!checked.ok) throw new GlmflowError(`${options.in} line ${line.line}: ${checked.reason}`, 'fix or remove that line: every input line gets exactly one output line');
      if (options.eval) {
        const pairs = evalExamples(tokenizer, checked.messages, limits, encoder.encode);
        await writer.write({ input_ids: pairs.inputIds, output_ids: pairs.outputIds });
      } else {
        const example = trainExample(tokenizer, checked.messages, limits, encoder.encode);
        await writer.write({ input_ids: example.inputIds, labels: example.labels });
      }
    }
  } finally {
    await writer.close();
  }
  return writer.count;
}
