// A conversation so far as a ChatGLM3 prompt that asks for the next assistant
// turn: [gMASK] sop, each message as finetune_demo encodes it (<|role|> \n
// content), then <|assistant|>. Shared by infer and chat.
import type { Message } from '../formats/conversation.ts';
import { messageIds } from '../tokenizer/preprocess.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';

export function chatPrompt(tokenizer: Tokenizer, messages: readonly Message[]): number[] {
  return [tokenizer.special.gmask, tokenizer.special.sop, ...messages.flatMap((m) => messageIds(tokenizer, m.role, m.content)), tokenizer.special.assistant];
}
