// `glmflow export [run]`: a run's metrics as CSV or JSONL, and to Weights &
// Biases when WANDB_API_KEY is set.
import { writeFileSync } from 'node:fs';
import { GlmflowError } from '../../engine/errors.ts';
import { commandArgs } from '../command-args.ts';
import { RunHistory } from '../history.ts';
import { metricRows, toCsv, toJsonl } from './metric-rows.ts';
import { sendToWandb } from './wandb.ts';

export const EXPORT_HELP = `Usage: npx tsx pipeline.ts export [RUN] [options]

Writes the metrics a run logged (train and eval loss, learning rate, gradient
norm, tokens/s, epoch, per step) as one row per stage, series and step, a
column per metric. RUN is a run number from \`npx tsx pipeline.ts runs\`
(default: the latest run that trained).

  --format csv|jsonl   (default: from --out's extension, else csv)
  --out FILE           where to write (default: standard output)
  --project DIR        the project folder (default: this pipeline's)
  -h, --help           show this help

With WANDB_API_KEY set, the metrics also go to Weights & Biases (project
$WANDB_PROJECT, default glmflow) if @wandb/sdk is installed
(npm install --no-save @wandb/sdk); if it is missing or unreachable, a note
says so and the export still succeeds.
`;

export interface ExportOptions {
  /** Where the W&B line goes (default: standard error). */
  readonly note?: (line: string) => void;
  /** The W&B SDK's package name (tests name one that is not installed). */
  readonly wandbSdk?: string;
}

export async function exportCommand(
  stages: readonly string[],
  argv: readonly string[],
  projectDir: string,
  print: (text: string) => void = (t) => void process.stdout.write(t),
  options: ExportOptions = {},
): Promise<number> {
  const { note = (line) => void process.stderr.write(`${line}\n`) } = options;
  const args = commandArgs('export', argv, { format: { type: 'string' }, out: { type: 'string' } }, EXPORT_HELP, projectDir, print);
  if (!args) return 0;
  const { values, positionals } = args;
  const format = values.format ?? (values.out?.endsWith('.jsonl') ? 'jsonl' : 'csv');
  if (format !== 'csv' && format !== 'jsonl') throw new GlmflowError(`unknown export format "${format}"`, 'use --format csv or --format jsonl');
  const history = new RunHistory(args.projectDir);
  try {
    const run = positionals[0] === undefined ? history.attempts('train', 1)[0]?.runId : Number(positionals[0]);
    if (run === undefined) throw new GlmflowError('no training has run in this project yet', 'start one with `npx tsx pipeline.ts run train`');
    const rows = stages.flatMap((stage) => metricRows(run, stage, history.curves(run, stage)));
    if (!rows.length) throw new GlmflowError(`run ${positionals[0] ?? run} logged no metrics`, 'metrics come from training stages; `npx tsx pipeline.ts runs` lists the runs');
    const text = format === 'csv' ? toCsv(rows) : toJsonl(rows);
    if (values.out) {
      writeFileSync(values.out, text);
      process.stderr.write(`export: ${rows.length} rows of run ${run} written to ${values.out}\n`);
    } else print(text);
    if (process.env['WANDB_API_KEY']) {
      const params = history.attempts('train', 1000).find((a) => a.runId === run)?.params ?? {};
      const sdk = options.wandbSdk === undefined ? {} : { sdk: options.wandbSdk };
      note(await sendToWandb(rows, { project: process.env['WANDB_PROJECT'] ?? 'glmflow', name: `glmflow-run-${run}`, config: { ...params }, ...sdk }));
    }
    return 0;
  } finally {
    history.close();
  }
}
