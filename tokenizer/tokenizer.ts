// The interface every glmflow tokenizer offers (ChatGLM3 SentencePiece or the
// character-level one), with ChatGLM3's special-token layout: the nine special
// tokens take the ids right after the base vocabulary, in this order.
import type { Role } from '../formats/conversation.ts';

export const SPECIAL_TOKENS = ['[MASK]', '[gMASK]', '[sMASK]', 'sop', 'eop', '<|system|>', '<|user|>', '<|assistant|>', '<|observation|>'] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export interface SpecialIds {
  readonly mask: number;
  readonly gmask: number;
  readonly smask: number;
  readonly sop: number;
  readonly eop: number;
  readonly system: number;
  readonly user: number;
  readonly assistant: number;
  readonly observation: number;
}

export interface Tokenizer {
  readonly kind: 'sentencepiece' | 'char';
  /** Number of ids, special tokens included: every id is below it (the model's embedding needs at least this many rows). */
  readonly vocabSize: number;
  readonly eosId: number;
  /** Padding id of the data collator (0, as ChatGLM3's tokenizer). */
  readonly padId: number;
  readonly special: SpecialIds;
  /** Plain text → ids. Special-token strings inside the text are ordinary text. */
  encode(text: string): number[];
  /** Ids → text; special tokens appear as their strings unless skipped. */
  decode(ids: readonly number[], options?: { readonly skipSpecialTokens?: boolean }): string;
}

/** Special ids for a base vocabulary of `base` ids. */
export function specialIdsAfter(base: number): SpecialIds {
  return {
    mask: base,
    gmask: base + 1,
    smask: base + 2,
    sop: base + 3,
    eop: base + 4,
    system: base + 5,
    user: base + 6,
    assistant: base + 7,
    observation: base + 8,
  };
}

export function roleId(tokenizer: Tokenizer, role: Role): number {
  return tokenizer.special[role];
}

/**
 * Decodes base-vocabulary runs with `decodeBase` and renders special ids between them,
 * as ChatGLM3's SPTokenizer.decode does (each run is decoded separately).
 */
export function decodeWithSpecials(
  ids: readonly number[],
  base: number,
  decodeBase: (run: readonly number[]) => string,
  skipSpecialTokens: boolean,
): string {
  let text = '';
  let run: number[] = [];
  for (const id of ids) {
    if (id < base) {
      run.push(id);
      continue;
    }
    const token = SPECIAL_TOKENS[id - base];
    if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (0..${base + SPECIAL_TOKENS.length - 1})`);
    if (run.length > 0) text += decodeBase(run);
    run = [];
    if (!skipSpecialTokens) text += token;
  }
  if (run.length > 0) text += decodeBase(run);
  return text;
}
