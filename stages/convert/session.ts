// One session's records → one ChatGLM3 conversation, following the shared data
// README's rules: order by time (stable), drop notices, empty and
// placeholder-only messages and duplicate rows, merge consecutive same-role
// messages, keep only sessions with both a user and an assistant turn.
import type { Message } from '../../formats/conversation.ts';
import type { SourceRecord } from '../../formats/record.ts';
import type { Rejected } from '../../formats/rejects.ts';
import { isPlaceholderOnly, normalizeText } from './messages.ts';

export interface ConvertedSession {
  /** Absent when the session was dropped (its records are then all in `rejected`). */
  readonly conversation?: { readonly session_id: string; readonly source: string; readonly conversations: Message[] };
  /** Records that ended in the conversation. */
  readonly kept: number;
  readonly rejected: readonly Rejected[];
}

export function convertSession(session: string, records: readonly SourceRecord[]): ConvertedSession {
  const rejected: Rejected[] = [];
  const reject = (record: SourceRecord, reason: string): void => {
    rejected.push({ ...locationOf(record), reason, session, detail: record.text });
  };
  const kept: { record: SourceRecord; role: Message['role']; text: string }[] = [];
  for (const record of byTime(records)) {
    const text = normalizeText(record.text);
    const previous = kept.at(-1);
    if (record.role === 'notice') reject(record, 'system notice');
    else if (text === '') reject(record, 'empty message');
    else if (isPlaceholderOnly(text)) reject(record, 'placeholder-only message');
    // Without a time, a repeat is a message sent twice, not a row exported twice.
    else if (record.time !== null && previous && previous.record.time === record.time && previous.role === record.role && previous.text === text) reject(record, 'duplicate row');
    else kept.push({ record, role: record.role, text });
  }
  const missing = (['user', 'assistant'] as const).filter((role) => !kept.some((message) => message.role === role));
  if (missing.length > 0) {
    const reason = `session dropped: no ${missing.join(' or ')} message`;
    for (const { record } of kept) reject(record, reason);
    return { kept: 0, rejected };
  }
  const conversations: Message[] = [];
  for (const { role, text } of kept) {
    const last = conversations.at(-1);
    if (last?.role === role) conversations[conversations.length - 1] = { role, content: `${last.content}\n${text}` };
    else conversations.push({ role, content: text });
  }
  return { conversation: { session_id: session, source: records[0]!.file, conversations }, kept: kept.length, rejected };
}

/**
 * Stable sort by time. A record without a time keeps its place after the record
 * before it in the file, so sources without times keep file order. Most sessions
 * are exported in order already and are returned as they are.
 */
function byTime(records: readonly SourceRecord[]): readonly SourceRecord[] {
  let carried = '';
  let sorted = true;
  const keys = records.map((record) => {
    const key = record.time ?? carried;
    if (key < carried) sorted = false;
    return (carried = key);
  });
  if (sorted) return records;
  const order = keys.map((_, index) => index).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
  return order.map((index) => records[index]!);
}

function locationOf(record: SourceRecord): Omit<SourceRecord, 'session' | 'time' | 'label' | 'role' | 'text'> {
  const { session: _s, time: _t, label: _l, role: _r, text: _x, ...location } = record;
  return location;
}
