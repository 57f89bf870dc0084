// The `tokenizer` artifact of the tokenize stage: the one file train, evaluate
// and infer load, so they all use the tokenizer the ids were made with. For
// ChatGLM3 it describes the tokenizer.model (absolute path + sha256, checked on
// load); for the character-level tokenizer it holds the whole vocabulary.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { GlmflowError } from '../engine/errors.ts';
import { ChatGLM3Tokenizer, loadChatGLM3Tokenizer } from './chatglm3.ts';
import { CHAR_RESERVED, CharTokenizer } from './char-tokenizer.ts';
import { SPECIAL_TOKENS, type Tokenizer } from './tokenizer.ts';

const FORMAT = 'glmflow-tokenizer';
const VERSION = 1;

interface CommonFields {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly vocab_size: number;
  readonly eos_id: number;
  readonly pad_id: number;
  readonly special_tokens: Record<string, number>;
}

export type TokenizerArtifact =
  | (CommonFields & { readonly type: 'sentencepiece'; readonly model: string; readonly sha256: string })
  | (CommonFields & { readonly type: 'char'; readonly unk_id: number; readonly vocab: readonly string[] });

export function tokenizerArtifact(tokenizer: Tokenizer): TokenizerArtifact {
  const common: CommonFields = {
    format: FORMAT,
    version: VERSION,
    vocab_size: tokenizer.vocabSize,
    eos_id: tokenizer.eosId,
    pad_id: tokenizer.padId,
    special_tokens: Object.fromEntries(SPECIAL_TOKENS.map((token, i) => [token, tokenizer.special.mask + i])),
  };
  if (tokenizer instanceof ChatGLM3Tokenizer) return { ...common, type: 'sentencepiece', model: tokenizer.file, sha256: tokenizer.sha256 };
  if (tokenizer instanceof CharTokenizer) return { ...common, type: 'char', unk_id: tokenizer.unkId, vocab: [...CHAR_RESERVED, ...tokenizer.chars] };
  throw new TypeError(`no artifact format for tokenizer kind ${tokenizer.kind}`);
}

/** Writes the artifact; the same tokenizer always gives the same bytes. */
export function writeTokenizerArtifact(file: string, tokenizer: Tokenizer): void {
  writeFileSync(file, JSON.stringify(tokenizerArtifact(tokenizer), null, 1) + '\n');
}

/**
 * Loads any tokenizer glmflow knows: a tokenizer artifact (.json, as the tokenize stage writes it),
 * a ChatGLM3 tokenizer.model, or a model folder containing one.
 */
export function loadTokenizer(file: string): Tokenizer {
  // Told apart by content, not name: stage inputs are store objects without extensions.
  if (!looksLikeJson(file)) return loadChatGLM3Tokenizer(file);
  const full = path.resolve(file);
  let artifact: TokenizerArtifact;
  try {
    artifact = JSON.parse(readFileSync(full, 'utf8')) as TokenizerArtifact;
  } catch (error) {
    throw new GlmflowError(`cannot read the tokenizer artifact ${full}: ${(error as Error).message}`, 'expected the tokenizer.json written by the tokenize stage; re-run tokenize');
  }
  if (artifact?.format !== FORMAT || artifact.version !== VERSION) {
    throw new GlmflowError(`${full} is not a glmflow tokenizer artifact (expected "format": "${FORMAT}", "version": ${VERSION})`, 'use the tokenizer.json written by the tokenize stage');
  }
  if (artifact.type === 'char') {
    const chars = artifact.vocab.slice(CHAR_RESERVED.length);
    const tokenizer = new CharTokenizer(chars);
    if (tokenizer.vocabSize !== artifact.vocab_size) throw new GlmflowError(`${full} is inconsistent: vocab_size ${artifact.vocab_size} but ${artifact.vocab.length} vocabulary entries`, 're-run tokenize');
    return tokenizer;
  }
  const model = readModelChecked(artifact.model, artifact.sha256, full);
  return model;
}

function looksLikeJson(file: string): boolean {
  if (!existsSync(file) || statSync(file).isDirectory()) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(1);
    return readSync(fd, head, 0, 1, 0) === 1 && head[0] === 0x7b; // '{'
  } finally {
    closeSync(fd);
  }
}

function readModelChecked(model: string, sha256: string, artifactFile: string): ChatGLM3Tokenizer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(model);
  } catch {
    throw new GlmflowError(`the tokenizer model ${model} named by ${artifactFile} is missing`, 'restore that file or re-run tokenize with the tokenizer param pointing at the model');
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new GlmflowError(`the tokenizer model ${model} changed since the data was tokenized (sha256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…)`, 'ids made with another tokenizer would be silently wrong: re-run tokenize');
  }
  return loadChatGLM3Tokenizer(model);
}
