// The glmflow pipeline, as code: each stage is declared in stages/, wired here.
// Wiring is type-checked: an input only accepts an output of the kind it declares.
//
//   npx tsx pipeline.ts --help
//   npx tsx pipeline.ts run train
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './engine/cli.ts';
import { Pipeline } from './engine/pipeline.ts';
import { convertStage } from './stages/convert.ts';
import { ingestStage } from './stages/ingest.ts';
import { splitStage } from './stages/split.ts';
import { tokenizeStage } from './stages/tokenize.ts';
import { baseStage } from './stages/base.ts';
import { trainStage } from './stages/train.ts';
import { generateStage } from './stages/generate.ts';
import { scoreStage } from './stages/score.ts';
import { inferStage } from './stages/infer.ts';
import { adaptFinetuneDemoConfig, isFinetuneDemoConfig } from './train/finetune-config.ts';

export const pipeline = new Pipeline();
const ingest = pipeline.add(ingestStage);
const convert = pipeline.add(convertStage, { records: ingest.out.records });
const split = pipeline.add(splitStage, { conversations: convert.out.conversations });
const tokenize = pipeline.add(tokenizeStage, { train: split.out.train, dev: split.out.dev, test: split.out.test });
const base = pipeline.add(baseStage, { tokenizer: tokenize.out.tokenizer, train: tokenize.out.train, dev: tokenize.out.dev });
const train = pipeline.add(trainStage, { train: tokenize.out.train, dev: tokenize.out.dev, tokenizer: tokenize.out.tokenizer, base: base.out.model });
const generate = pipeline.add(generateStage, { test: tokenize.out.test, tokenizer: tokenize.out.tokenizer, prefix: train.out.prefix, base: base.out.model });
pipeline.add(scoreStage, { generations: generate.out.generations });
pipeline.alias('evaluate', 'score');
pipeline.add(inferStage, { tokenizer: tokenize.out.tokenizer, prefix: train.out.prefix, base: base.out.model });

// The project is this file's folder (its data/, artifacts/ and .glmflow/), unless a command is given --project.
const projectDir = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(pipeline, process.argv.slice(2), {
    projectDir,
    mainTarget: 'train',
    reporters: { train: async (finished) => (await import('./watch/train-report.ts')).reportTrainingRun(finished) },
    configAdapters: [{ name: 'ChatGLM3 finetune_demo', matches: isFinetuneDemoConfig, adapt: adaptFinetuneDemoConfig }],
    // Loaded on use: a no-op `run` should not pay for the dashboard, the chat or the scheduler.
    commands: {
      chat: {
        summary: 'interactive chat with the fine-tuned model, replies streamed (--help for options)',
        run: (argv) => import('./chat/cli.ts').then((m) => m.chatCommand(argv, projectDir)),
      },
      ui: {
        summary: 'local web dashboard: runs, live loss curves, params, stage status, evaluation (--help)',
        run: (argv) => import('./watch/ui/command.ts').then((m) => m.uiCommand(pipeline, projectDir, argv)),
      },
      tokenize: {
        summary: 'one-off: tokenize a conversations file to ids (--help for options)',
        run: (argv) => import('./tokenizer/cli.ts').then((m) => m.tokenizeCommand(argv)),
      },
      advise: {
        summary: 'diagnose a training\'s loss curves and say which --set to try [run] (--help)',
        run: (argv) => import('./watch/advise/command.ts').then((m) => m.adviseCommand(argv, projectDir)),
      },
      sweep: {
        summary: 'train a grid of params as cached branches, table sorted by eval loss (--help)',
        run: (argv) => import('./watch/sweep/command.ts').then((m) => m.sweepCommand(pipeline, argv, projectDir)),
      },
      export: {
        summary: 'a run\'s metrics as CSV or JSONL, and to W&B with WANDB_API_KEY [run] (--help)',
        run: (argv) => import('./watch/export/command.ts').then((m) => m.exportCommand(pipeline.names, argv, projectDir)),
      },
      schedule: {
        summary: 'run the pipeline on a cron schedule, full data, with run history (--help)',
        run: (argv) => import('./watch/schedule/command.ts').then((m) => m.scheduleCommand(pipeline, argv, projectDir)),
      },
    },
  });
}
