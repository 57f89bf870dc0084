// The end-of-training summary: figures, and the loss curves as terminal
// sparklines, since a shape is read faster than a column of numbers.
import type { LogEntry } from './checkpoint.ts';
import type { TrainResult } from './trainer.ts';

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return '';
  // Downsample by averaging buckets so long runs still fit one line.
  const buckets = Math.min(width, values.length);
  const points = Array.from({ length: buckets }, (_, b) => {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / buckets));
    const slice = values.slice(from, to);
    return slice.reduce((a, v) => a + v, 0) / slice.length;
  });
  const lo = Math.min(...points);
  const hi = Math.max(...points);
  return points.map((v) => BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}

function curve(history: readonly LogEntry[], series: LogEntry['series']): string | undefined {
  const losses = history.filter((e) => e.series === series).map((e) => e.values['loss']!);
  if (losses.length < 2) return undefined;
  return `${series === 'train' ? 'train loss' : 'eval loss '} ${sparkline(losses)}  ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)} (min ${Math.min(...losses).toFixed(3)})`;
}

export function reportTraining(r: TrainResult): string[] {
  const lines = [
    `${r.steps}/${r.totalSteps} steps${r.resumedFrom === null ? '' : ` (resumed from step ${r.resumedFrom})`}${r.stoppedEarly ? ', stopped early' : ''}; ${Math.round(r.trainTokensPerSecond)} tokens/s${r.threads > 1 ? ` on ${r.threads} threads` : ''}`,
  ];
  const train = curve(r.history, 'train');
  const evaluation = curve(r.history, 'eval');
  if (train) lines.push(train);
  if (evaluation) lines.push(evaluation);
  if (r.bestStep !== null) lines.push(`best eval loss ${r.bestEvalLoss!.toFixed(4)} at step ${r.bestStep}; output from ${r.checkpoint}`);
  return lines;
}
