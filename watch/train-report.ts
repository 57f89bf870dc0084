// What the run command reports after a training ran: the advisor's findings on
// its curves and, with WANDB_API_KEY set, a mirror of them to Weights & Biases.
// A reporter, not part of the train stage, so that changing advice never retrains.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from '../engine/cli.ts';
import type { LogEntry } from '../train/checkpoint.ts';
import { trainParams } from '../train/params.ts';
import { adviseTraining } from './advise/advice.ts';
import type { MetricRow } from './export/metric-rows.ts';
import { sendToWandb } from './export/wandb.ts';

export const reportTrainingRun: Reporter = async ({ stage, artifactsDir, params }) => {
  const record = JSON.parse(readFileSync(path.join(artifactsDir, 'training.json'), 'utf8')) as { history: LogEntry[] };
  const p = trainParams.parse(params);
  // Nothing is said when the curves look healthy.
  const lines = adviseTraining(record.history, p);
  if (process.env['WANDB_API_KEY']) {
    // A mirror, never a requirement: sendToWandb reports failures as a line instead of throwing.
    const rows = trainingRows(stage, record.history, artifactsDir);
    lines.push(await sendToWandb(rows, { project: 'glmflow', name: `${stage}-${new Date().toISOString()}`, config: { ...p } }));
  }
  return lines;
};

/**
 * A training's logged metrics as rows for a tracker: training.json's history, with the tokens/s
 * of each logged training step put back from timings.json beside it (kept apart so that
 * training.json is the same bytes however fast the machine was).
 */
export function trainingRows(stage: string, history: readonly LogEntry[], artifactsDir: string): Omit<MetricRow, 'run'>[] {
  const timingsFile = path.join(artifactsDir, 'timings.json');
  const timings = existsSync(timingsFile) ? (JSON.parse(readFileSync(timingsFile, 'utf8')) as { tokensPerSecond?: { step: number; tokens_per_s: number }[] }) : {};
  const speed = new Map((timings.tokensPerSecond ?? []).map((t) => [t.step, t.tokens_per_s]));
  return history.map((e) => {
    const tokens = e.series === 'train' ? speed.get(e.step) : undefined;
    return { stage, series: e.series, step: e.step, values: tokens === undefined ? e.values : { ...e.values, tokens_per_s: tokens } };
  });
}
