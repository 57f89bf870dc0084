// `glmflow advise [run]`: the tuning advisor on a recorded training's loss curves.
import { GlmflowError } from '../../engine/errors.ts';
import { trainParams } from '../../train/params.ts';
import { RunHistory, type Attempt } from '../history.ts';
import { commandArgs } from '../command-args.ts';
import { formatDiagnosis, nextCommand } from './advice.ts';
import { diagnose } from './diagnose.ts';
import { fromRecordedCurves } from './loss-curves.ts';

export const ADVISE_HELP = `Usage: npx tsx pipeline.ts advise [RUN] [options]

Reads the loss curves of a training (the latest one, or the train stage of run
RUN as listed by \`npx tsx pipeline.ts runs\`) and says what looks wrong, with
the evidence and the --set to try:
  loss falling too slowly              → raise train.learning_rate
  train loss falling, eval flat/rising → overfitting: weight_decay, more data, stop earlier
  eval minimum followed by a rise      → the best step; early_stopping_patience
  NaN, divergence or oscillation       → lower learning_rate, raise per_device_train_batch_size
  train loss above eval loss           → dev set too small or easy, or not converged

  --project DIR   the project folder (default: this pipeline's)
  --json          the diagnoses as JSON
  -h, --help      show this help
`;

export function adviseCommand(argv: readonly string[], projectDir: string, print: (line: string) => void = console.log): number {
  const args = commandArgs('advise', argv, { json: { type: 'boolean' } }, ADVISE_HELP, projectDir, print);
  if (!args) return 0;
  const { values, positionals } = args;
  const history = new RunHistory(args.projectDir);
  try {
    const attempt = pickAttempt(history.attempts('train', 1000), positionals[0]);
    const params = trainParams.parse(attempt.params);
    const diagnoses = diagnose(fromRecordedCurves(history.curves(attempt.runId, 'train')), params);
    if (values.json) {
      print(JSON.stringify({ run: attempt.runId, outcome: attempt.outcome, diagnoses }));
      return 0;
    }
    print(`run ${attempt.runId}, train ${attempt.outcome}: learning_rate ${params.learning_rate}, weight_decay ${params.weight_decay}, batch ${params.per_device_train_batch_size}, max_steps ${params.max_steps}, early_stopping_patience ${params.early_stopping_patience}`);
    if (attempt.outcome === 'failed') print(`the training failed: ${attempt.reason}`);
    if (!diagnoses.length) print('✓ the loss curves show none of the problems the advisor knows');
    for (const d of diagnoses) print(formatDiagnosis(d).join('\n'));
    const next = nextCommand(diagnoses);
    if (next) print(`\nnext: ${next}`);
    return 0;
  } finally {
    history.close();
  }
}

function pickAttempt(attempts: readonly Attempt[], run: string | undefined): Attempt {
  if (run === undefined) {
    const latest = attempts[0];
    if (!latest) throw new GlmflowError('no training has run in this project yet', 'start one with `npx tsx pipeline.ts run train`');
    return latest;
  }
  const attempt = attempts.find((a) => String(a.runId) === run);
  if (!attempt) {
    const ids = attempts.slice(0, 10).map((a) => a.runId);
    throw new GlmflowError(`run ${run} did not train (it restored or skipped train, or does not exist)`, ids.length ? `runs that trained: ${ids.join(', ')}` : 'no training has run in this project yet');
  }
  return attempt;
}
