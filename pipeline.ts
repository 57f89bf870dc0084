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

export const pipeline = new Pipeline();
const ingest = pipeline.add(ingestStage);
const convert = pipeline.add(convertStage, { records: ingest.out.records });
const split = pipeline.add(splitStage, { conversations: convert.out.conversations });
pipeline.add(tokenizeStage, { train: split.out.train, dev: split.out.dev, test: split.out.test });

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(pipeline, process.argv.slice(2), {
    projectDir: path.dirname(fileURLToPath(import.meta.url)),
    commands: {
      tokenize: {
        summary: 'one-off: tokenize a conversations file to ids (--help for options)',
        async run(argv) {
          const { tokenizeCommand } = await import('./tokenizer/cli.ts');
          await tokenizeCommand(argv);
        },
      },
    },
  });
}
