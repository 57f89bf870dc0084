// `glmflow chat`: an interactive conversation in the terminal, replies streamed
// as they are generated. Reads lines from stdin, so it also works piped.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { GlmflowError } from '../engine/errors.ts';
import { generateOptions, generationShape } from '../generation/params.ts';

export const CHAT_HELP = `Usage: npx tsx pipeline.ts chat [options]

Chat with the fine-tuned model. By default: the pipeline's base model
(artifacts/base/model/), tokenizer (artifacts/tokenize/tokenizer.json) and latest
trained prefix (artifacts/train/prefix.safetensors).

  --model DIR            a base-stage folder or a ChatGLM3 checkpoint folder
                         (then no prefix unless --prefix is given)
  --prefix CKPT          prefix .safetensors (or a folder with model.safetensors);
                         "none" for the model alone
  --tokenizer PATH       tokenizer.json of the tokenize stage or a tokenizer.model
  --max-new-tokens N     reply length limit (default 256)
  --temperature T        (default 0.8)     --top-p P   (default 0.8)
  --top-k K              (default 0: off)  --repetition-penalty R (default 1)
  --greedy               no sampling: the most likely token each step
  --seed N               sampling seed (default 42)
  -h, --help             show this help

In the chat: /reset starts a new conversation, /exit (or end of input) quits.
`;

const numeric = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new GlmflowError(`chat: --${name} expects a number, got "${value}"`, 'see npx tsx pipeline.ts chat --help');
  return n;
};

export async function chatCommand(argv: readonly string[], projectDir: string): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: 'string' },
        prefix: { type: 'string' },
        tokenizer: { type: 'string' },
        'max-new-tokens': { type: 'string' },
        temperature: { type: 'string' },
        'top-p': { type: 'string' },
        'top-k': { type: 'string' },
        'repetition-penalty': { type: 'string' },
        greedy: { type: 'boolean', default: false },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new GlmflowError(`chat: ${(error as Error).message}`, 'see npx tsx pipeline.ts chat --help');
  }
  if (values.help) {
    process.stdout.write(CHAT_HELP);
    return;
  }
  const parsed = z.object(generationShape).safeParse({
    // ChatGLM3's own chat() samples with top_p 0.8, temperature 0.8.
    do_sample: !values.greedy,
    max_new_tokens: numeric('max-new-tokens', values['max-new-tokens']) ?? 256,
    temperature: numeric('temperature', values.temperature),
    top_p: numeric('top-p', values['top-p']),
    top_k: numeric('top-k', values['top-k']),
    repetition_penalty: numeric('repetition-penalty', values['repetition-penalty']),
    seed: numeric('seed', values.seed),
  });
  if (!parsed.success) throw new GlmflowError(`chat: ${z.prettifyError(parsed.error)}`, 'see npx tsx pipeline.ts chat --help');

  // The model code pulls in tfjs: loaded only once the arguments are known to be good.
  const { openChatModel } = await import('./open.ts');
  const { ChatSession } = await import('./session.ts');
  const opened = await openChatModel({ projectDir, ...pick(values, ['model', 'prefix', 'tokenizer']) });
  const out = process.stdout;
  out.write(`${opened.description}\nType a message; /reset starts over, /exit quits.\n`);
  const session = new ChatSession(opened.model, opened.tokenizer, generateOptions(parsed.data, opened.tokenizer));
  const interactive = process.stdin.isTTY === true;
  const lines = createInterface({ input: process.stdin, ...(interactive ? { output: out, prompt: 'you> ' } : {}), terminal: interactive });
  try {
    if (interactive) lines.prompt();
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '/exit') break;
      if (line === '/reset') {
        session.reset();
        out.write('(new conversation)\n');
      } else if (line !== '') {
        if (!interactive) out.write(`you> ${line}\n`);
        out.write('glm> ');
        await session.reply(line, (piece) => out.write(piece));
        out.write('\n');
      }
      if (interactive) lines.prompt();
    }
  } finally {
    lines.close();
    opened.model.dispose();
  }
}

function pick<T extends Record<string, unknown>, K extends keyof T & string>(values: T, keys: readonly K[]): { [P in K]?: Exclude<T[P], undefined> } {
  return Object.fromEntries(keys.filter((k) => values[k] !== undefined).map((k) => [k, values[k]])) as { [P in K]?: Exclude<T[P], undefined> };
}
