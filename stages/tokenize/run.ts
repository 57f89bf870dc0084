// The tokenize stage's work: pick or build the tokenizer, then encode each split.
import { JsonlWriter } from '../../formats/jsonl.ts';
import { writeTokenizerArtifact } from '../../tokenizer/artifact.ts';
import { ChatGLM3Tokenizer, loadChatGLM3Tokenizer } from '../../tokenizer/chatglm3.ts';
import { EncodePool } from '../../tokenizer/encode-pool.ts';
import { MemoEncoder } from '../../tokenizer/memo-encoder.ts';
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { buildCharTokenizer } from './char-vocab.ts';
import { tokenizeSplit } from './split.ts';
import { describeEvalSplit, describeTrainSplit } from './stats.ts';
import { tokenizerModelFile, type TokenizeContext } from '../tokenize.ts';

export async function runTokenize(ctx: TokenizeContext): Promise<void> {
  const { max_input_length: maxInputLength, max_output_length: maxOutputLength } = ctx.params;
  const limits = { maxInputLength, maxOutputLength };
  const tokenizer: Tokenizer = ctx.params.tokenizer ? loadChatGLM3Tokenizer(tokenizerModelFile(ctx.projectDir, ctx.params.tokenizer)) : await buildCharTokenizer(ctx.inputs.train);
  ctx.log(tokenizer.kind === 'char' ? `character-level tokenizer built from train: ${tokenizer.vocabSize} ids` : `ChatGLM3 tokenizer ${ctx.params.tokenizer}: ${tokenizer.vocabSize} ids`);
  writeTokenizerArtifact(ctx.outputs.tokenizer, tokenizer);

  // The character tokenizer is a map lookup per character: workers would only add copying.
  const pool = tokenizer instanceof ChatGLM3Tokenizer && ctx.params.workers > 0 ? await EncodePool.start(tokenizer.file, ctx.params.workers) : undefined;
  const encoder = new MemoEncoder(tokenizer, pool);
  const rejected = new JsonlWriter(ctx.outputs.rejected);
  try {
    let done = 0;
    for (const split of ['train', 'dev', 'test'] as const) {
      const mode = split === 'test' ? 'eval' : 'train';
      const stats = await tokenizeSplit({
        split,
        input: ctx.inputs[split],
        output: ctx.outputs[split],
        mode,
        encoder,
        limits,
        rejected,
        signal: ctx.signal,
        onProgress: (n) => ctx.progress(done + n, undefined, split),
      });
      done += stats.conversations;
      ctx.summary(mode === 'train' ? describeTrainSplit(split, stats, maxInputLength + maxOutputLength + 1) : describeEvalSplit(split, stats));
    }
    const saved = encoder.requested === 0 ? 0 : 1 - encoder.encoded / encoder.requested;
    ctx.summary(`tokenizer: ${tokenizer.kind}, ${tokenizer.vocabSize} ids; ${rejected.count} conversations rejected; memo saved ${(100 * saved).toFixed(1)}% of encodes`);
  } finally {
    await rejected.close();
    await pool?.close();
  }
}
