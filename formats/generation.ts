// One line of generations.jsonl: what the generate stage hands to score.
export interface Generation {
  readonly prompt: string;
  readonly reference: string;
  readonly prediction: string;
  readonly prompt_tokens: number;
  /** Reference tokens the loss is over (the answer and its eos). */
  readonly reference_tokens: number;
  readonly prediction_tokens: number;
  /** Mean cross-entropy of the reference's tokens given the prompt (nats). */
  readonly loss: number;
  /** eos or a turn-ending token ('stop'), or max_new_tokens reached ('length'). */
  readonly finish: 'stop' | 'length';
  /** The backend that generated it, e.g. `wasm` or `webgpu (nvidia ampere)` (provenance). */
  readonly backend: string;
}

export function readGenerations(text: string): Generation[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Generation);
}
