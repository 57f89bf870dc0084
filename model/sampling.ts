// Next-token choice on the CPU from one row of logits, in Hugging Face's order: repetition
// penalty, then (sampling only) temperature, top-k, top-p, and a draw from a seeded RNG.
import type { Rng } from './random.ts';

export interface SamplingOptions {
  readonly doSample?: boolean;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  /** > 1 discourages tokens already in the row (prompt included), as HF's CTRL-style penalty. */
  readonly repetitionPenalty?: number;
}

/** Modifies `logits` in place for the penalty; returns the chosen token id. */
export function chooseToken(logits: Float32Array, seen: Iterable<number>, o: SamplingOptions, rng: Rng): number {
  const penalty = o.repetitionPenalty ?? 1;
  if (penalty !== 1)
    for (const id of new Set(seen)) {
      const l = logits[id]!;
      logits[id] = l < 0 ? l * penalty : l / penalty;
    }
  if (!o.doSample) return argmax(logits);

  const temperature = o.temperature ?? 1;
  let order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!); // descending
  if (o.topK !== undefined && o.topK > 0) order = order.slice(0, o.topK);
  const max = logits[order[0]!]!;
  const weights = order.map((id) => Math.exp((logits[id]! - max) / temperature));
  const total = weights.reduce((a, w) => a + w, 0);
  let keep = order.length;
  if (o.topP !== undefined && o.topP < 1) {
    // smallest prefix of the sorted tokens whose probability reaches top_p (at least one token)
    let cum = 0;
    keep = order.findIndex((_, i) => (cum += weights[i]! / total) >= o.topP!) + 1 || order.length;
  }
  const kept = weights.slice(0, keep);
  let r = rng.next() * kept.reduce((a, w) => a + w, 0);
  for (let i = 0; i < keep; i++) if ((r -= kept[i]!) < 0) return order[i]!;
  return order[keep - 1]!;
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
