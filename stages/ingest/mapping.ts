// Which column holds what, and which sender label is which role. Common Chinese
// and English shop exports are recognised; params override both. Anything
// unknown or ambiguous stops with the headers/labels found and the exact --set
// line that resolves it, because guessing would silently train on the wrong side.
import { GlmflowError } from '../../engine/errors.ts';
import { describeLocation, type Location, type RecordRole } from '../../formats/record.ts';

export const COLUMN_NAMES = ['session', 'time', 'sender', 'content'] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];
export type ColumnOverrides = Partial<Record<ColumnName, string>>;
/** Index of each column in a header row; time is optional (file order is used without it). */
export type ColumnMap = { readonly [K in Exclude<ColumnName, 'time'>]: number } & { readonly time?: number };

const HEADER_ALIASES: Record<ColumnName, readonly string[]> = {
  session: ['会话id', '会话编号', '对话id', '会话', 'session_id', 'sessionid', 'session', 'conversation_id', 'chat_id', 'dialog_id'],
  time: ['时间', '消息时间', '发送时间', '聊天时间', 'time', 'timestamp', 'datetime', 'created_at', 'sent_at'],
  sender: ['发送方', '角色', '发送人', '发送者', 'sender', 'role', 'from', 'speaker'],
  content: ['内容', '消息内容', '聊天内容', '消息', 'content', 'message', 'text', 'msg'],
};

const LABELS: Record<string, RecordRole> = {
  ...labels('user', ['客户', '买家', '顾客', '用户', '消费者', '会员', 'user', 'customer', 'buyer', 'client']),
  ...labels('assistant', ['客服', '商家', '店小二', '卖家', '掌柜', '人工客服', '售前客服', '售后客服', 'assistant', 'agent', 'seller', 'shop', 'staff', 'support']),
  ...labels('notice', ['系统', '系统消息', '系统提示', '系统通知', 'system', 'notice']),
};

function labels(role: RecordRole, names: readonly string[]): Record<string, RecordRole> {
  return Object.fromEntries(names.map((name) => [name, role]));
}

const normalizeHeader = (header: string): string => header.trim().toLowerCase();

/** Finds the session, time, sender and content columns; throws when one is missing or ambiguous. */
export function mapColumns(headers: readonly string[], overrides: ColumnOverrides, where: string): ColumnMap {
  const { found, missing } = matchColumns(headers, overrides, where);
  if (missing.length === 0) return found as ColumnMap;
  const unused = headers.filter((_, index) => !Object.values(found).includes(index)).map((h) => h.trim());
  throw new GlmflowError(
    `${where}: no ${missing.join(', ')} column among the headers ${listHeaders(headers)}`,
    `map them to your headers, e.g. ${missing.map((name, i) => `--set ingest.columns.${name}=${unused[i] ?? '<header>'}`).join(' ')} (recognised: ${missing.map((name) => `${name}: ${HEADER_ALIASES[name].join('/')}`).join('; ')})`,
  );
}

/** Like mapColumns, but undefined when a required column is missing: a sheet that is not conversation data. */
export function conversationColumns(headers: readonly string[], overrides: ColumnOverrides, where: string): ColumnMap | undefined {
  const { found, missing } = matchColumns(headers, overrides, where);
  return missing.length === 0 ? (found as ColumnMap) : undefined;
}

function matchColumns(headers: readonly string[], overrides: ColumnOverrides, where: string): { found: Partial<Record<ColumnName, number>>; missing: ColumnName[] } {
  const normalized = headers.map(normalizeHeader);
  const found: Partial<Record<ColumnName, number>> = {};
  const missing: ColumnName[] = [];
  for (const name of COLUMN_NAMES) {
    const override = overrides[name];
    const wanted = override !== undefined ? [normalizeHeader(override)] : HEADER_ALIASES[name];
    const matches = normalized.flatMap((header, index) => (wanted.includes(header) ? [index] : []));
    if (matches.length > 1) {
      const names = matches.map((index) => headers[index]?.trim());
      throw new GlmflowError(
        `${where}: the ${name} column is ambiguous: ${names.map((n) => `"${n}"`).join(' and ')} both match (headers: ${listHeaders(headers)})`,
        `choose one: --set ingest.columns.${name}=${names[0]}`,
      );
    }
    if (matches[0] !== undefined) found[name] = matches[0];
    // time is optional (file order is used without it), unless the user named a column for it
    else if (name !== 'time' || override !== undefined) missing.push(name);
  }
  return { found, missing };
}

function listHeaders(headers: readonly string[]): string {
  return headers.length ? headers.map((h) => `"${h.trim()}"`).join(', ') : '(none)';
}

/** Maps sender labels to roles, tallying the labels it cannot map so they can be reported together. */
export class RoleMapper {
  // A Map, not an object: a label such as "constructor" must not find Object.prototype's.
  readonly #labels: ReadonlyMap<string, RecordRole>;
  /** Unknown label → rows carrying it, and where it was first seen. */
  readonly unknown = new Map<string, { count: number; first: string }>();

  constructor(overrides: Readonly<Record<string, RecordRole>>) {
    this.#labels = new Map([...Object.entries(LABELS), ...Object.entries(overrides).map(([label, role]) => [normalizeHeader(label), role] as const)]);
  }

  /** The role of a label, or undefined (tallied) when unknown. Callers remember known labels: this runs once per distinct label. */
  role(label: string, at: Location): RecordRole | undefined {
    const role = this.#labels.get(normalizeHeader(label));
    if (role === undefined) {
      const seen = this.unknown.get(label);
      if (seen) seen.count++;
      else this.unknown.set(label, { count: 1, first: describeLocation(at) });
    }
    return role;
  }

  /** Adds the unknown labels another mapper saw (a worker's, on a later part of the input). */
  addUnknown(unknown: Iterable<readonly [string, { count: number; first: string }]>): void {
    for (const [label, { count, first }] of unknown) {
      const seen = this.unknown.get(label);
      if (seen) seen.count += count;
      else this.unknown.set(label, { count, first });
    }
  }

  /** The error for the unknown labels seen, or undefined when there were none. */
  unknownLabelsError(): GlmflowError | undefined {
    if (this.unknown.size === 0) return undefined;
    const seen = [...this.unknown].map(([label, { count, first }]) => `"${label}" ×${count} (first at ${first})`).join(', ');
    const [example] = this.unknown.keys();
    return new GlmflowError(
      `unknown sender labels: ${seen}`,
      `map each to user, assistant, system or notice (a shop system message, dropped), e.g. --set ingest.roles.${example}=assistant; or reject those rows with --set ingest.unknownLabels=reject. Known labels: ${Object.keys(LABELS).join(', ')}`,
    );
  }
}
