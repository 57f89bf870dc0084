// A run's logged metrics as rows: one per stage, series and step, a column per
// metric (loss, learning_rate, grad_norm…), which is how spreadsheets and
// experiment trackers want them.
import type { Curve } from '../history.ts';

export interface MetricRow {
  readonly run: number;
  readonly stage: string;
  readonly series: string;
  readonly step: number;
  readonly values: Readonly<Record<string, number>>;
}

export function metricRows(run: number, stage: string, curves: readonly Curve[]): MetricRow[] {
  const rows = new Map<string, { run: number; stage: string; series: string; step: number; values: Record<string, number> }>();
  for (const curve of curves) {
    curve.steps.forEach((step, i) => {
      const id = `${curve.series}\0${step}`;
      let row = rows.get(id);
      if (!row) rows.set(id, (row = { run, stage, series: curve.series, step, values: {} }));
      row.values[curve.name] = curve.values[i]!;
    });
  }
  return [...rows.values()].sort((a, b) => a.step - b.step || a.series.localeCompare(b.series));
}

export function toJsonl(rows: readonly MetricRow[]): string {
  return rows.map((r) => JSON.stringify({ run: r.run, stage: r.stage, series: r.series, step: r.step, ...r.values }) + '\n').join('');
}

export function toCsv(rows: readonly MetricRow[]): string {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.values)))].sort();
  const lines = [['run', 'stage', 'series', 'step', ...names].map(csvCell).join(',')];
  // A metric a row did not log is an empty cell, not 0.
  for (const r of rows) lines.push([r.run, r.stage, r.series, r.step, ...names.map((n) => r.values[n] ?? '')].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
