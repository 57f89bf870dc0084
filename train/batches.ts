// What the trainer feeds the model: a seeded order per epoch, micro-batches
// cut from it, and collation that pads each batch to its longest example on
// the left (ChatGLM3's tokenizer pads left), labels padded with -100.
import { Rng, seedFor } from '../model/random.ts';
import type { TrainRow } from '../tokenizer/examples-arrow.ts';

export const IGNORE = -100;

export interface Batch {
  readonly inputIds: number[][];
  readonly attentionMask: number[][];
  readonly labels: number[][];
  /** Tokens that are not padding. */
  readonly tokens: number;
}

export function collate(rows: readonly TrainRow[], padId: number): Batch {
  const longest = Math.max(...rows.map((r) => r.input_ids.length));
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  const labels: number[][] = [];
  let tokens = 0;
  for (const row of rows) {
    const pad = longest - row.input_ids.length;
    inputIds.push([...new Array<number>(pad).fill(padId), ...row.input_ids]);
    attentionMask.push([...new Array<number>(pad).fill(0), ...new Array<number>(row.input_ids.length).fill(1)]);
    labels.push([...new Array<number>(pad).fill(IGNORE), ...row.labels]);
    tokens += row.input_ids.length;
  }
  return { inputIds, attentionMask, labels, tokens };
}

/** The order of one epoch: a permutation seeded by (seed, epoch), so a resumed run sees the same data. */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  const rng = new Rng(seedFor(seed, `epoch-${epoch}`));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The micro-batches of training as one endless, deterministic stream: micro-batch m
 * is the same whether a run got there in one go or resumed from a checkpoint.
 */
export class MicroBatches {
  readonly perEpoch: number;
  readonly #orders = new Map<number, number[]>();

  constructor(
    private readonly rows: readonly TrainRow[],
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly padId: number,
  ) {
    this.perEpoch = Math.ceil(rows.length / batchSize);
  }

  epochOf(micro: number): number {
    return Math.floor(micro / this.perEpoch);
  }

  get(micro: number): Batch {
    const epoch = this.epochOf(micro);
    let order = this.#orders.get(epoch);
    if (!order) {
      this.#orders.clear();
      order = epochOrder(this.rows.length, this.seed, epoch);
      this.#orders.set(epoch, order);
    }
    const start = (micro % this.perEpoch) * this.batchSize;
    return collate(order.slice(start, start + this.batchSize).map((i) => this.rows[i]!), this.padId);
  }
}

/** Optimizer steps of a run, as Hugging Face counts them. */
export function totalSteps(p: { max_steps: number; num_train_epochs: number; gradient_accumulation_steps: number }, microPerEpoch: number): number {
  if (p.max_steps > 0) return p.max_steps;
  const perEpoch = Math.max(1, Math.floor(microPerEpoch / p.gradient_accumulation_steps));
  return Math.ceil(p.num_train_epochs * perEpoch);
}
