// Eval loss over a set of examples: the mean cross-entropy per reference token
// (each example's mean weighted by its token count), so perplexity = exp(loss)
// is the per-token perplexity of the references.

export interface ExampleLoss {
  readonly loss: number;
  readonly reference_tokens: number;
}

/** NaN when there are no reference tokens. */
export function evalLoss(examples: readonly ExampleLoss[]): number {
  let total = 0;
  let tokens = 0;
  for (const e of examples) {
    total += e.loss * e.reference_tokens;
    tokens += e.reference_tokens;
  }
  return tokens === 0 ? NaN : total / tokens;
}
