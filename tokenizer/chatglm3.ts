// ChatGLM3's tokenizer: its SentencePiece model plus the nine special tokens
// appended after the model's pieces (64789-64797 for the real tokenizer.model).
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { GlmflowError } from '../engine/errors.ts';
import { parseSentencePieceModel } from './sentencepiece-model.ts';
import { SentencePiece } from './sentencepiece.ts';
import { decodeWithSpecials, specialIdsAfter, SPECIAL_TOKENS, type SpecialIds, type Tokenizer } from './tokenizer.ts';

export class ChatGLM3Tokenizer implements Tokenizer {
  readonly kind = 'sentencepiece';
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId = 0;
  readonly special: SpecialIds;

  constructor(
    readonly sp: SentencePiece,
    /** Absolute path of the tokenizer.model read. */
    readonly file: string,
    /** sha256 of its bytes, so an artifact can insist on the very same model later. */
    readonly sha256: string,
  ) {
    this.vocabSize = sp.size + SPECIAL_TOKENS.length;
    this.special = specialIdsAfter(sp.size);
    this.eosId = sp.eosId;
  }

  encode(text: string): number[] {
    return this.sp.encode(text);
  }

  decode(ids: readonly number[], options: { readonly skipSpecialTokens?: boolean } = {}): string {
    return decodeWithSpecials(ids, this.sp.size, (run) => this.sp.decode(run), options.skipSpecialTokens ?? false);
  }
}

/** Resolves a model folder (holding tokenizer.model) or the file itself to the file's absolute path. */
export function resolveTokenizerModel(pathOrDir: string): string {
  const full = path.resolve(pathOrDir);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    throw new GlmflowError(
      `tokenizer not found: ${full} does not exist (expected a ChatGLM3 tokenizer.model or a model folder containing one)`,
      'set the tokenizer param to the base model folder (e.g. THUDM/chatglm3-6b downloaded locally) or leave it empty for the character-level tokenizer',
    );
  }
  if (!stat.isDirectory()) return full;
  const file = path.join(full, 'tokenizer.model');
  try {
    statSync(file);
  } catch {
    throw new GlmflowError(`tokenizer not found: the folder ${full} has no tokenizer.model (expected the SentencePiece model of ChatGLM3)`, 'point the tokenizer param at the folder of a ChatGLM3 checkpoint, or at the tokenizer.model file itself');
  }
  return file;
}

export function loadChatGLM3Tokenizer(pathOrDir: string): ChatGLM3Tokenizer {
  const file = resolveTokenizerModel(pathOrDir);
  const bytes = readFileSync(file);
  let sp: SentencePiece;
  try {
    sp = new SentencePiece(parseSentencePieceModel(bytes, file));
  } catch (error) {
    if (error instanceof GlmflowError && !error.message.includes(file)) throw new GlmflowError(`${file}: ${error.message}`, error.hint);
    throw error;
  }
  return new ChatGLM3Tokenizer(sp, file, createHash('sha256').update(bytes).digest('hex'));
}
