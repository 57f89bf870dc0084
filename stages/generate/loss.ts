// Eval loss of a reference answer given its prompt, by teacher forcing: the
// mean cross-entropy of the answer's tokens (the prompt carries no labels).
import type { GlmModel } from '../../model/glm.ts';
import { IGNORE_INDEX } from '../../tokenizer/preprocess.ts';

export async function referenceLoss(model: GlmModel, prompt: readonly number[], reference: readonly number[]): Promise<number> {
  const inputIds = [[...prompt, ...reference]];
  const labels = [[...new Array<number>(prompt.length).fill(IGNORE_INDEX), ...reference]];
  const { loss } = await model.forward({ inputIds, labels }, { logits: 'none' });
  return loss!;
}
