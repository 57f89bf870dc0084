// Conversation → model-ready examples, exactly as ChatGLM3's finetune_demo builds
// them (finetune_hf.py: process_batch for training, process_batch_eval for
// evaluation). Every rule and quirk is spelled out in
// ../shared/fixtures/tokenize/README.md; the fixtures there are the tests.
import type { Message, Role } from '../formats/conversation.ts';
import type { Tokenizer } from './tokenizer.ts';

/** Loss is ignored where a label is this value (PyTorch's CrossEntropyLoss default). */
export const IGNORE_INDEX = -100;

export interface Limits {
  readonly maxInputLength: number;
  readonly maxOutputLength: number;
}

export interface TrainExample {
  readonly inputIds: number[];
  readonly labels: number[];
  /** Whether the cut to maxInputLength + maxOutputLength + 1 removed tokens. */
  readonly truncated: boolean;
  /** Length before that cut. */
  readonly fullLength: number;
}

export interface EvalExamples {
  /** One prompt per assistant message reached: the context so far, then <|assistant|>. */
  readonly inputIds: number[][];
  /** Parallel to inputIds: the reference answer ("\n", content, eos). */
  readonly outputIds: number[][];
}

/** Token ids of one text: a plain array, or a view into a buffer the encode workers sent. */
export type Ids = readonly number[] | Int32Array;
/** Encodes text; lets callers plug in a memo or a precomputed table. */
export type Encode = (text: string) => Ids;

/** One message: role token, the encoding of "\n" (the empty metadata line), then the content, each encoded separately. */
export function messageIds(tokenizer: Tokenizer, role: Role, content: string, encode: Encode = (t) => tokenizer.encode(t)): number[] {
  return [tokenizer.special[role], ...encode('\n'), ...encode(content)];
}

export function trainExample(tokenizer: Tokenizer, messages: readonly Message[], limits: Limits, encode?: Encode): TrainExample {
  const inputIds = [tokenizer.special.gmask, tokenizer.special.sop];
  const lossMask = [false, false];
  for (const message of messages) {
    const ids = messageIds(tokenizer, message.role, message.content, encode);
    // The official code trains on everything but system and user turns (observation included).
    const trainable = message.role !== 'system' && message.role !== 'user';
    for (const id of ids) {
      inputIds.push(id);
      lossMask.push(trainable);
    }
  }
  inputIds.push(tokenizer.eosId);
  // The official one-position shift: a token is a label when the token before it is trainable.
  const labels = inputIds.map((id, i) => (i > 0 && lossMask[i - 1] ? id : IGNORE_INDEX));
  const limit = limits.maxInputLength + limits.maxOutputLength + 1;
  const fullLength = inputIds.length;
  const truncated = fullLength > limit;
  return truncated ? { inputIds: inputIds.slice(0, limit), labels: labels.slice(0, limit), truncated, fullLength } : { inputIds, labels, truncated, fullLength };
}

export function evalExamples(tokenizer: Tokenizer, messages: readonly Message[], limits: Limits, encode?: Encode): EvalExamples {
  const context = [tokenizer.special.gmask, tokenizer.special.sop];
  const inputIds: number[][] = [];
  const outputIds: number[][] = [];
  for (const message of messages) {
    // The official loop stops for good once the context fills the input budget, even if assistant turns follow.
    if (context.length >= limits.maxInputLength) break;
    const ids = messageIds(tokenizer, message.role, message.content, encode);
    if (message.role === 'assistant') {
      inputIds.push([...context.slice(0, limits.maxInputLength), ids[0]!]);
      outputIds.push([...ids.slice(1), tokenizer.eosId].slice(0, limits.maxOutputLength));
    }
    for (const id of ids) context.push(id);
  }
  return { inputIds, outputIds };
}
