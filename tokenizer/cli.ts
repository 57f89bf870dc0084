// `glmflow tokenize`: flags → tokenizeFile. pipeline.ts's CLI dispatches here.
import { parseArgs } from 'node:util';
import { GlmflowError } from '../engine/errors.ts';
import { tokenizeFile } from './tokenize-file.ts';

export const TOKENIZE_HELP = `Usage: npx tsx pipeline.ts tokenize --in CONV.jsonl --tokenizer PATH --out IDS.jsonl [options]

Tokenizes ChatGLM3 conversations ({"conversations":[{"role","content"},…]} per line)
exactly as ChatGLM3's finetune_demo does, one output line per input line, in order.

  --in PATH          conversations JSONL
  --tokenizer PATH   ChatGLM3 tokenizer.model, a model folder holding one,
                     or the tokenizer.json written by the tokenize stage
  --out PATH         ids JSONL to write
  --max-input N      max_input_length (default 256)
  --max-output N     max_output_length (default 512)
  --eval             write evaluation pairs {"input_ids":[[…]],"output_ids":[[…]]}
                     instead of training examples {"input_ids":[…],"labels":[…]}
  -h, --help         show this help
`;

export async function tokenizeCommand(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        in: { type: 'string' },
        tokenizer: { type: 'string' },
        out: { type: 'string' },
        'max-input': { type: 'string' },
        'max-output': { type: 'string' },
        eval: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new GlmflowError(`tokenize: ${(error as Error).message}`, 'see npx tsx pipeline.ts tokenize --help');
  }
  if (values.help) {
    process.stdout.write(TOKENIZE_HELP);
    return;
  }
  const missing = (['in', 'tokenizer', 'out'] as const).filter((name) => !values[name]);
  if (missing.length > 0) throw new GlmflowError(`tokenize: missing ${missing.map((m) => `--${m}`).join(', ')}`, 'see npx tsx pipeline.ts tokenize --help');
  const lines = await tokenizeFile({
    in: values.in!,
    tokenizer: values.tokenizer!,
    out: values.out!,
    maxInput: count('--max-input', values['max-input'], 256),
    maxOutput: count('--max-output', values['max-output'], 512),
    eval: values.eval,
  });
  process.stderr.write(`tokenize: ${lines} lines written to ${values.out}\n`);
}

function count(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new GlmflowError(`tokenize: ${flag} must be a whole number ≥ 0, got "${value}"`);
  return n;
}
