// The character-level tokenizer of the embedded small model (trained from
// scratch, so it need not share ChatGLM3's vocabulary): one id per character
// seen in the training split, with ChatGLM3's layout around it: 0 = <unk> (also
// padding), 1 = <s>, 2 = </s> (eos), the characters in code-point order, then the
// nine special tokens, so preprocessing and the model see the same structure.
import { decodeWithSpecials, specialIdsAfter, SPECIAL_TOKENS, type SpecialIds, type Tokenizer } from './tokenizer.ts';

const RESERVED = ['<unk>', '<s>', '</s>'] as const;
const UNK_ID = 0;
const EOS_ID = 2;
/** Always in the vocabulary: the message layout encodes "\n" after every role token. */
const ALWAYS = ['\n'];

export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly vocabSize: number;
  readonly eosId = EOS_ID;
  readonly padId = UNK_ID;
  readonly unkId = UNK_ID;
  readonly special: SpecialIds;
  /** The characters, in id order starting at id RESERVED.length. */
  readonly chars: readonly string[];
  readonly #ids = new Map<string, number>();

  constructor(chars: readonly string[]) {
    this.chars = chars;
    chars.forEach((ch, i) => this.#ids.set(ch, RESERVED.length + i));
    const base = RESERVED.length + chars.length;
    this.vocabSize = base + SPECIAL_TOKENS.length;
    this.special = specialIdsAfter(base);
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const ch of text) ids.push(this.#ids.get(ch) ?? UNK_ID);
    return ids;
  }

  decode(ids: readonly number[], options: { readonly skipSpecialTokens?: boolean } = {}): string {
    const base = RESERVED.length + this.chars.length;
    const decodeChars = (run: readonly number[]): string => {
      let text = '';
      for (const id of run) {
        if (id < 0) throw new RangeError(`token id ${id} is negative`);
        // <unk> shows as U+FFFD; <s> and </s> are invisible, as in SentencePiece.
        if (id === UNK_ID) text += '\uFFFD';
        else if (id >= RESERVED.length) text += this.chars[id - RESERVED.length]!;
      }
      return text;
    };
    return decodeWithSpecials(ids, base, decodeChars, options.skipSpecialTokens ?? false);
  }
}

/** Collects the characters of the training texts; build() is independent of the order texts arrive in. */
export class CharVocabBuilder {
  readonly #chars = new Set<string>(ALWAYS);

  add(text: string): void {
    for (const ch of text) this.#chars.add(ch);
  }

  build(): CharTokenizer {
    return new CharTokenizer([...this.#chars].sort(byCodePoint));
  }
}

// Default string sort compares UTF-16 units, which puts astral characters before U+E000-U+FFFF.
function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

export const CHAR_RESERVED = RESERVED;
