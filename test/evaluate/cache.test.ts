// Evaluation's promise to the cache, through the real engine: changing only the
// scoring code reruns score and leaves generate's answers as they are. A
// throwaway project links this repo's engine, stages and model code, copies
// metrics/ (the code we change), and feeds generate from prepared files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sharedPath } from '../shared.ts';
import { writeEvalFiles } from './fixture.ts';

const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const LINKED = ['engine', 'stages', 'model', 'generation', 'tokenizer', 'train', 'formats', 'node_modules'];

const INPUTS_STAGE = `
import { cpSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineStage, output, outputDir } from '../engine/stage.ts';
export const inputsStage = defineStage({
  name: 'inputs', module: import.meta.url, description: 'prepared evaluation inputs',
  params: z.object({}), inputs: {}, files: () => ({ data: 'data/*' }),
  outputs: {
    test: output('eval-examples', 'test.arrow', ''), tokenizer: output('tokenizer', 'tokenizer.json', ''),
    prefix: output('prefix', 'prefix.safetensors', ''), base: outputDir('base-model', 'base', ''),
  },
  async run(ctx) {
    for (const [name, spec] of Object.entries(inputsStage.outputs)) cpSync(path.join(ctx.projectDir, 'data', spec.file), ctx.outputs[name as keyof typeof ctx.outputs], { recursive: true });
  },
});
`;

const PIPELINE = `
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pipeline } from './engine/pipeline.ts';
import { runCli } from './engine/cli.ts';
import { generateStage } from './stages/generate.ts';
import { scoreStage } from './stages/score.ts';
import { inputsStage } from './fixture/inputs.ts';
const p = new Pipeline();
const inputs = p.add(inputsStage);
const generate = p.add(generateStage, inputs.out);
p.add(scoreStage, { generations: generate.out.generations });
process.exitCode = await runCli(p, process.argv.slice(2), { projectDir: path.dirname(fileURLToPath(import.meta.url)) });
`;

test('changing only the scorer reruns score, not generate', async (t) => {
  const tiny = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!tiny) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-evalcache-'));
  for (const name of LINKED) symlinkSync(path.join(REPO, name), path.join(dir, name));
  cpSync(path.join(REPO, 'metrics'), path.join(dir, 'metrics'), { recursive: true });
  mkdirSync(path.join(dir, 'fixture'));
  writeFileSync(path.join(dir, 'fixture/inputs.ts'), INPUTS_STAGE);
  writeFileSync(path.join(dir, 'pipeline.ts'), PIPELINE);
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module","private":true}\n');
  mkdirSync(path.join(dir, 'data'));
  await writeEvalFiles(tiny, path.join(dir, 'data'));
  // --preserve-symlinks: modules keep their paths inside the project, so the copied metrics/ is the code that runs and is fingerprinted.
  const run = () => {
    const r = spawnSync(process.execPath, ['--preserve-symlinks', '--import', 'tsx', 'pipeline.ts', 'run', '--set', 'generate.max_new_tokens=4'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };

  const first = run();
  assert.match(first, /generate\s+ran/);
  assert.match(first, /score\s+ran/);
  appendFileSync(path.join(dir, 'metrics/rouge.ts'), '\n// a change to the scoring code\n');
  const second = run();
  assert.match(second, /generate\s+fresh/);
  assert.match(second, /score\s+ran/);
});
