// One multi-turn conversation: the history, and a reply streamed as the model
// chooses its tokens.
import type { Message } from '../formats/conversation.ts';
import { generate, type GenerateOptions, stopTokenSet, withoutStopToken } from '../model/generate.ts';
import type { GlmModel } from '../model/glm.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { chatPrompt } from '../generation/chat-prompt.ts';

export class ChatSession {
  #history: Message[] = [];

  constructor(
    private readonly model: GlmModel,
    private readonly tokenizer: Tokenizer,
    private readonly options: GenerateOptions,
  ) {}

  get turns(): number {
    return this.#history.length / 2;
  }

  reset(): void {
    this.#history = [];
  }

  /** Answers `text` given the turns so far; `write` receives the reply's text piece by piece. */
  async reply(text: string, write: (piece: string) => void): Promise<string> {
    const messages: Message[] = [...this.#history, { role: 'user', content: text }];
    const stops = stopTokenSet(this.model.config, this.options);
    const ids: number[] = [];
    let shown = '';
    const [newIds] = await generate(this.model, [chatPrompt(this.tokenizer, messages)], {
      ...this.options,
      onToken: (id) => {
        ids.push(id);
        // Decoded whole each time: a character can span tokens, and a half one decodes to U+FFFD until it completes.
        // The stop token comes last and is no part of the reply.
        const decoded = this.tokenizer.decode(withoutStopToken(ids, stops), { skipSpecialTokens: true }).trimStart();
        if (decoded.endsWith('\uFFFD') || !decoded.startsWith(shown)) return;
        write(decoded.slice(shown.length));
        shown = decoded;
      },
    });
    // ChatGLM3 answers start with the "\n" of the empty metadata line: not shown, not kept.
    const answer = this.tokenizer.decode(withoutStopToken(newIds!, stops), { skipSpecialTokens: true }).trimStart();
    if (answer.startsWith(shown)) write(answer.slice(shown.length));
    this.#history = [...messages, { role: 'assistant', content: answer.trimEnd() }];
    return answer;
  }
}
