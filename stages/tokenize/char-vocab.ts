// The character-level tokenizer is built from the training split only, so dev
// and test characters it never saw map to <unk>, as they would at inference.
import { readJsonl } from '../../formats/jsonl.ts';
import { CharVocabBuilder, type CharTokenizer } from '../../tokenizer/char-tokenizer.ts';
import { checkConversation } from './validate.ts';

export async function buildCharTokenizer(trainFile: string): Promise<CharTokenizer> {
  const builder = new CharVocabBuilder();
  for await (const line of readJsonl(trainFile)) {
    const checked = checkConversation(line);
    if (checked.ok) for (const message of checked.messages) builder.add(message.content);
  }
  return builder.build();
}
