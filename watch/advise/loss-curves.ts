// The two loss curves the advisor reads, whichever place they come from: a
// finished TrainResult's history (the train stage's summary) or the metrics the
// engine recorded for a run (the advise command).
import type { LogEntry } from '../../train/checkpoint.ts';
import type { Curve } from '../history.ts';

export interface Point {
  readonly step: number;
  readonly value: number;
}

export interface LossCurves {
  readonly train: readonly Point[];
  readonly eval: readonly Point[];
}

// The trainer evaluates once before the first update (step 0) as a baseline for
// the curve. The diagnoses are about what training did, so they start after it:
// otherwise an untrained prefix could be named "the best step" to stop at.
const trained = (p: Point): boolean => p.step > 0;

export function fromTrainHistory(history: readonly LogEntry[]): LossCurves {
  const series = (name: LogEntry['series']): Point[] =>
    history.filter((e) => e.series === name && e.values['loss'] !== undefined).map((e) => ({ step: e.step, value: e.values['loss']! })).filter(trained);
  return { train: series('train'), eval: series('eval') };
}

export function fromRecordedCurves(curves: readonly Curve[]): LossCurves {
  const series = (name: string): Point[] => {
    const curve = curves.find((c) => c.series === name && c.name === 'loss');
    return curve ? curve.steps.map((step, i) => ({ step, value: curve.values[i]! })).filter(trained) : [];
  };
  return { train: series('train'), eval: series('eval') };
}
