// JSON values from .jsonl/.json files and loader modules: either a ChatGLM3
// conversation ({"conversations":[…]}) or a table row ({"session_id":…, "sender":…}).
import path from 'node:path';
import { isRole, type Message } from '../../formats/conversation.ts';
import type { Location, RecordFields } from '../../formats/record.ts';
import { mapColumns, type ColumnOverrides } from './mapping.ts';
import { excerpt, type IngestSink } from './sink.ts';
import { TableReader } from './table.ts';

export class ObjectReader {
  /** Row objects are mapped by the keys of the first one, like a header row. */
  #table: { reader: TableReader; keys: readonly string[] } | undefined;

  constructor(
    readonly sink: IngestSink,
    readonly columns: ColumnOverrides,
  ) {}

  /** The keys row objects were mapped by, once one was read. */
  get rowKeys(): readonly string[] | undefined {
    return this.#table?.keys;
  }

  async read(value: unknown, at: Location, text: string): Promise<void> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.sink.reject({ ...at, reason: 'not a JSON object', detail: excerpt(text) });
    }
    const object = value as Record<string, unknown>;
    if ('conversations' in object) return this.#conversation(object, at, text);
    this.#table ??= { keys: Object.keys(object), reader: new TableReader(this.sink, mapColumns(Object.keys(object), this.columns, at.file)) };
    await this.#table.reader.row(this.#table.keys.map((key) => object[key]), at);
  }

  async #conversation(object: Record<string, unknown>, at: Location, text: string): Promise<void> {
    const messages = object['conversations'];
    if (!Array.isArray(messages) || !messages.every(isMessage)) {
      return this.sink.reject({ ...at, reason: 'not a ChatGLM3 conversation', detail: excerpt(text) });
    }
    if (messages.length === 0) return this.sink.reject({ ...at, reason: 'conversation without messages', detail: excerpt(text) });
    const session = conversationId(object, at);
    const records: RecordFields[] = messages.map((message) => ({ session, time: null, label: message.role, role: message.role, text: message.content }));
    await this.sink.accept(at, records);
  }
}

function isMessage(value: unknown): value is Message {
  const message = value as Partial<Message> | null;
  return typeof message === 'object' && message !== null && isRole(message.role) && typeof message.content === 'string';
}

/**
 * A conversation's own id when it has one, else `<file name>:<line or item>`: stable
 * when lines are appended, which is what keeps split assignments from moving.
 */
function conversationId(object: Record<string, unknown>, at: Location): string {
  const own = object['session_id'] ?? object['id'];
  if (typeof own === 'string' || typeof own === 'number') return String(own);
  return `${path.basename(at.file)}:${at.line ?? at.item}`;
}
