// ChatGLM3's conversation format, as its finetune_demo reads it:
// one JSON object per line, {"conversations":[{"role":…,"content":…}, …]}.
export const ROLES = ['system', 'user', 'assistant', 'observation'] as const;
export type Role = (typeof ROLES)[number];

export interface Message {
  readonly role: Role;
  readonly content: string;
}

export interface Conversation {
  readonly conversations: readonly Message[];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
