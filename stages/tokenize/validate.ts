// Which JSONL lines are conversations the preprocessing can take. Anything else
// goes to rejected.jsonl with a reason instead of failing the run or being
// tokenized into something misleading.
import { isRole, type Message } from '../../formats/conversation.ts';
import type { JsonlLine } from '../../formats/jsonl.ts';

export type Checked = { readonly ok: true; readonly messages: readonly Message[] } | { readonly ok: false; readonly reason: string };

export function checkConversation(line: JsonlLine): Checked {
  if (!line.ok) return { ok: false, reason: `invalid JSON: ${line.error}` };
  const value = line.value;
  if (value === null || typeof value !== 'object' || !('conversations' in value)) return { ok: false, reason: 'no "conversations" field' };
  const list = (value as { conversations: unknown }).conversations;
  if (!Array.isArray(list)) return { ok: false, reason: '"conversations" is not a list' };
  if (list.length === 0) return { ok: false, reason: 'empty conversation' };
  const messages: Message[] = [];
  for (const [i, message] of list.entries()) {
    if (message === null || typeof message !== 'object') return { ok: false, reason: `message ${i + 1} is not an object` };
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (!isRole(role)) return { ok: false, reason: `message ${i + 1} has unknown role ${JSON.stringify(role) ?? 'undefined'}` };
    if (typeof content !== 'string') return { ok: false, reason: `message ${i + 1} content is not a string (${content === null ? 'null' : Array.isArray(content) ? 'array' : typeof content})` };
    messages.push({ role, content });
  }
  return { ok: true, messages };
}
