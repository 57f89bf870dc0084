// What the run command reports after a training ran: the advisor's findings on
// its curves and, with WANDB_API_KEY set, a mirror of them to Weights & Biases.
// A reporter, not part of the train stage, so that changing advice never retrains.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from '../engine/cli.ts';
import type { LogEntry } from '../train/checkpoint.ts';
import { trainParams } from '../train/params.ts';
import { adviseTraining } from './advise/advice.ts';
import { sendToWandb } from './export/wandb.ts';

export const reportTrainingRun: Reporter = async ({ stage, artifactsDir, params }) => {
  const record = JSON.parse(readFileSync(path.join(artifactsDir, 'training.json'), 'utf8')) as { history: LogEntry[] };
  const p = trainParams.parse(params);
  // Nothing is said when the curves look healthy.
  const lines = adviseTraining(record.history, p);
  if (process.env['WANDB_API_KEY']) {
    // A mirror, never a requirement: sendToWandb reports failures as a line instead of throwing.
    const rows = record.history.map((e) => ({ stage, series: e.series, step: e.step, values: e.values }));
    lines.push(await sendToWandb(rows, { project: 'glmflow', name: `${stage}-${new Date().toISOString()}`, config: { ...p } }));
  }
  return lines;
};
