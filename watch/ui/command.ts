// `npx tsx pipeline.ts ui`: serves the dashboard until Ctrl-C.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GlmflowError } from '../../engine/errors.ts';
import { parseSetFlags } from '../../engine/params.ts';
import type { Pipeline } from '../../engine/pipeline.ts';
import { startDashboard } from './server.ts';

const DEFAULT_PORT = 4180;

const HELP = `glmflow ui: a local web dashboard of this project's runs.

Usage: npx tsx pipeline.ts ui [--port N] [--project DIR] [--set stage.param=value]

Open the printed address (it listens on 127.0.0.1 only) to see:
  Runs           every run with its status and command; tick runs to overlay their curves
  Curves         training and validation loss, learning rate, gradient norm, throughput by step;
                 they grow while a training runs (pick train or base's pretraining above the runs)
  Params         the params the ticked runs ran with that differ between them
  Pipeline       each stage: up to date, stale, in cache, running or failed, and how long it took
  Evaluation     the metrics each score run wrote (eval loss, perplexity, ROUGE, BLEU-4)

Options
  --port N       port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --project DIR  another project folder (its .glmflow/ and artifacts/)
  --set s.p=v    judge stage status with these params, as \`status --set\` does (repeatable)

Ctrl-C stops it. It only reads: a dashboard left open never slows or changes a run.

Examples
  npx tsx pipeline.ts ui                 # then open http://127.0.0.1:${DEFAULT_PORT}/
  npx tsx pipeline.ts run train &        # and watch its loss curves move
  npx tsx pipeline.ts ui --port 8080`;

export async function uiCommand(pipeline: Pipeline, projectDir: string, argv: string[]): Promise<number> {
  const values = parseOptions(argv);
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const port = Number(values.port ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GlmflowError(`ui: --port must be a port number, 0 to 65535 (got "${values.port}")`, SEE_HELP);
  const dashboard = await startDashboard({
    pipeline,
    projectDir: values.project ? path.resolve(values.project) : projectDir,
    port,
    params: parseSetFlags(values.set ?? []),
  });
  process.stdout.write(`glmflow dashboard: ${dashboard.url}  (Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await dashboard.close();
  return 0;
}

const SEE_HELP = 'see npx tsx pipeline.ts ui --help';

function parseOptions(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { port: { type: 'string' }, project: { type: 'string' }, set: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    throw new GlmflowError(`ui: ${(error as Error).message}`, SEE_HELP);
  }
}
