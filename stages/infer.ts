// infer: batch inference over a file of conversations (ChatGLM3 format, one
// {"conversations":[…]} per line) with the trained prefix: for each line, the
// reply to its last user turn given the turns before it. With no input set it
// writes an empty replies.jsonl and says how to use it, so a plain `run` passes.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { defineStage, output, type StageContext } from '../engine/stage.ts';
import { generationShape } from '../generation/params.ts';

export const inferParams = z.object({
  /** Conversations JSONL to answer; empty: nothing to do. */
  input: z.string().default(''),
  ...generationShape,
});

export const inferStage = defineStage({
  name: 'infer',
  module: import.meta.url,
  description: 'Answer the last user turn of each conversation in --set infer.input=FILE.jsonl with the trained model',
  params: inferParams,
  untracked: ['batch_size'],
  inputs: { tokenizer: 'tokenizer', prefix: 'prefix', base: 'base-model' },
  // The input file's content is part of the key: an edited file is answered again.
  files: (p) => ({ input: p.input ? p.input : [] }),
  outputs: {
    replies: output('replies', 'replies.jsonl', 'per non-empty input line: {"line": its number, "reply": the answer}'),
  },
  packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  resources: ['device'],
  async run(ctx) {
    if (ctx.params.input === '') {
      writeFileSync(ctx.outputs.replies, '');
      ctx.summary('no input: answer a file with npx tsx pipeline.ts run infer --set infer.input=conversations.jsonl');
      return;
    }
    // Loaded here, not at the top: the model code pulls in tfjs.
    const { runInfer } = await import('./infer/run.ts');
    await runInfer(ctx);
  },
});

export type InferContext = StageContext<z.output<typeof inferParams>, (typeof inferStage)['inputs'], (typeof inferStage)['outputs'], 'input'>;
