// One JSON line per figure, so runs can be collected and compared by scripts.
export interface Figure {
  readonly bench: string;
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  /** The reference figure this is compared with (../shared/BENCHMARKS.md or a baseline measured in the same run). */
  readonly reference?: number;
  readonly referenceNote?: string;
  /** 'same run': the reference ran beside this figure, interleaved; 'stored': ../shared/BENCHMARKS.md, a fallback where it cannot run. */
  readonly referenceSource?: 'same run' | 'stored';
  /** The ratio of each interleaved round, where there were several. */
  readonly roundRatios?: readonly number[];
  /** value / reference, or reference / value where lower is better. */
  readonly ratio?: number;
  readonly target?: string;
  readonly pass?: boolean;
}

export function report(figure: Figure): void {
  const rounded = { ...figure, value: round(figure.value), ...(figure.reference === undefined ? {} : { reference: round(figure.reference) }), ...(figure.ratio === undefined ? {} : { ratio: round(figure.ratio) }), ...(figure.roundRatios === undefined ? {} : { roundRatios: figure.roundRatios.map(round) }) };
  process.stdout.write(JSON.stringify(rounded) + '\n');
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(4));
}
