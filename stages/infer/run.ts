// The infer stage's work: read the conversations, build each prompt up to its
// last user turn, generate in batches, write one reply per input line.
import { readFileSync, writeFileSync } from 'node:fs';
import { GlmflowError } from '../../engine/errors.ts';
import { isRole, type Message } from '../../formats/conversation.ts';
import { currentBackend } from '../../model/backend.ts';
import { stopTokenSet, withoutStopToken } from '../../model/generate.ts';
import { loadTokenizer } from '../../tokenizer/artifact.ts';
import { openBaseModel } from '../../model/base-model.ts';
import { generateAll } from '../../generation/batched.ts';
import { generateOptions } from '../../generation/params.ts';
import { chatPrompt } from '../../generation/chat-prompt.ts';
import type { InferContext } from '../infer.ts';

/** The messages up to and including the last user turn (later turns, e.g. a reference answer, are left out). */
export function promptMessages(line: string, where: string): Message[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new GlmflowError(`${where}: not JSON (${(error as Error).message})`, 'one {"conversations":[{"role":…,"content":…}]} object per line');
  }
  const list = (parsed as { conversations?: unknown })?.conversations;
  if (!Array.isArray(list)) throw new GlmflowError(`${where}: no "conversations" array`, 'one {"conversations":[{"role":…,"content":…}]} object per line');
  const messages = list.map((m: unknown, i) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (!isRole(role) || typeof content !== 'string') throw new GlmflowError(`${where}: message ${i} needs a role (system, user, assistant, observation) and a string content`);
    return { role, content };
  });
  const last = messages.findLastIndex((m) => m.role === 'user');
  if (last < 0) throw new GlmflowError(`${where}: no user turn to answer`);
  return messages.slice(0, last + 1);
}

export async function runInfer(ctx: InferContext): Promise<void> {
  const p = ctx.params;
  const [file, ...more] = ctx.files.input;
  if (!file) throw new GlmflowError(`infer.input ${p.input} not found`, 'give a conversations JSONL file: --set infer.input=path.jsonl');
  // A pattern or a folder reaches here as its files: answering only the first would drop the rest unseen.
  if (more.length > 0) throw new GlmflowError(`infer.input ${p.input} names ${more.length + 1} files; infer answers one`, 'give one conversations JSONL file (join them first, or run infer once per file)');
  const tokenizer = loadTokenizer(ctx.inputs.tokenizer);
  const lines = readFileSync(file, 'utf8').split('\n').map((text, i) => ({ text, line: i + 1 })).filter((l) => l.text.trim());
  const prompts = lines.map((l) => chatPrompt(tokenizer, promptMessages(l.text, `${file}:${l.line}`)));
  const model = await openBaseModel(
    ctx.inputs.base,
    { prefix: ctx.inputs.prefix, trainable: 'none' },
  );
  try {
    const options = generateOptions(p, tokenizer);
    const stops = stopTokenSet(model.config, options);
    const replies = await generateAll(model, prompts, options, {
      size: p.batch_size,
      padId: tokenizer.padId,
      signal: ctx.signal,
      onBatch: ({ done, total }) => ctx.progress(done, total),
    });
    const out = lines.map((l, i) => JSON.stringify({ line: l.line, reply: tokenizer.decode(withoutStopToken(replies[i]!, stops), { skipSpecialTokens: true }).trim() }) + '\n');
    writeFileSync(ctx.outputs.replies, out.join(''));
    ctx.summary(`${lines.length} conversations answered → ${ctx.artifactPaths.replies}`);
    ctx.summary(currentBackend()!.description); // chosen by openBaseModel
  } finally {
    model.dispose();
  }
}
