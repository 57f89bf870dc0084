// One session's records → one ChatGLM3 conversation, following the shared data
// README's rules: order by time (stable), drop notices, empty and
// placeholder-only messages and duplicate rows, merge consecutive same-role
// messages, keep only sessions with both a user and an assistant turn. Records
// hold JSON literals as byte text (record-line.ts); the conversation and the
// rejects are JSON lines in byte text, the bytes JSON.stringify would write.
import { fromByteText, hasEdgeSpace } from '../../formats/byte-text.ts';
import { isPlaceholderOnly, normalizeText } from './messages.ts';
import { literal, type LineRecord } from './record-line.ts';

export interface ConvertedSession {
  /** The conversation's JSON line, in byte text; absent when the session was dropped (its records are then all rejected). */
  readonly conversation?: string;
  readonly messages: number;
  /** Records that ended in the conversation. */
  readonly kept: number;
  /** Reject lines, in byte text. */
  readonly rejected: readonly { readonly reason: string; readonly line: string }[];
}

const NOTICE = '"notice"';
const USER = '"user"';
const ASSISTANT = '"assistant"';
const EMPTY = '""';

export function convertSession(records: readonly LineRecord[]): ConvertedSession {
  const session = records[0]!.session;
  const rejected: { reason: string; line: string }[] = [];
  // Parallel arrays, not an object per record: this runs for every record of a million-row export.
  const kept: LineRecord[] = [];
  const texts: string[] = [];
  let users = 0;
  let assistants = 0;
  for (const record of byTime(records)) {
    const text = normalized(record.text);
    const previous = kept.length - 1;
    let reason: string | undefined;
    if (record.role === NOTICE) reason = 'system notice';
    else if (text === EMPTY) reason = 'empty message';
    else if (text.charCodeAt(1) === 0x5b /* [ */ && isPlaceholderOnly(JSON.parse(fromByteText(text)) as string)) reason = 'placeholder-only message';
    // Without a time, a repeat is a message sent twice, not a row exported twice. Literals are equal exactly when their texts are.
    else if (record.time !== null && previous >= 0 && kept[previous]!.time === record.time && kept[previous]!.role === record.role && texts[previous] === text) reason = 'duplicate row';
    if (reason !== undefined) {
      rejected.push({ reason, line: rejectLine(record, reason) });
      continue;
    }
    kept.push(record);
    texts.push(text);
    if (record.role === USER) users++;
    else if (record.role === ASSISTANT) assistants++;
  }
  if (users === 0 || assistants === 0) {
    const reason = `session dropped: no ${[users === 0 && 'user', assistants === 0 && 'assistant'].filter(Boolean).join(' or ')} message`;
    for (const record of kept) rejected.push({ reason, line: rejectLine(record, reason) });
    return { messages: 0, kept: 0, rejected };
  }
  // Consecutive messages of one role are one turn, joined by a newline (written escaped, inside the literal).
  let turns = '';
  let messages = 0;
  for (let i = 0; i < kept.length; i++) {
    const role = kept[i]!.role;
    const joined = i > 0 && kept[i - 1]!.role === role;
    if (!joined) turns += `${messages++ === 0 ? '' : '"},'}{"role":${role},"content":${texts[i]!.slice(0, -1)}`;
    else turns += `\\n${texts[i]!.slice(1, -1)}`;
  }
  return { conversation: `{"session_id":${session},"source":${records[0]!.file},"conversations":[${turns}"}]}`, messages, kept: kept.length, rejected };
}

/** The rejected.jsonl line of a record: where it came from, why, its session and its text as read. */
function rejectLine(record: LineRecord, reason: string): string {
  return `{${record.location},"reason":${reasonLiteral(reason)},"session":${record.session},"detail":${record.text}}`;
}

const reasons = new Map<string, string>();
function reasonLiteral(reason: string): string {
  let known = reasons.get(reason);
  if (known === undefined) reasons.set(reason, (known = literal(reason)));
  return known;
}

/** A text literal after normalizeText: most need nothing, which is seen without decoding them. */
function normalized(text: string): string {
  if (!text.includes('\\') && !hasEdgeSpace(text, 1, text.length - 1)) return text;
  return literal(normalizeText(JSON.parse(fromByteText(text)) as string));
}

/**
 * Stable sort by time. A record without a time keeps its place after the record
 * before it in the file, so sources without times keep file order. Most sessions
 * are exported in order already and are returned as they are.
 */
function byTime(records: readonly LineRecord[]): readonly LineRecord[] {
  let carried = '';
  let sorted = true;
  for (const { time } of records) {
    if (time !== null && time < carried) sorted = false;
    carried = time ?? carried;
  }
  if (sorted) return records;
  const keys: string[] = [];
  carried = '';
  for (const { time } of records) keys.push((carried = time ?? carried));
  const order = keys.map((_, index) => index).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
  return order.map((index) => records[index]!);
}
