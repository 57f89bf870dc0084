// gc collects what killed and superseded runs leave behind, and keeps what a run may still resume from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FixtureProject } from './fixture.ts';

const ENGINE = path.resolve(fileURLToPath(new URL('../../engine', import.meta.url)));

// Like a training: a checkpoint under keyWithout(['steps']) (so raising steps resumes), a model folder under its key.
const SCRATCH = `
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineStage, output } from '${ENGINE}/stage.ts';
export const scratch = defineStage({
  name: 'scratch', module: import.meta.url, description: 'keeps checkpoints in its workDir',
  params: z.object({ seed: z.number().default(1), steps: z.number().default(1), hang: z.boolean().default(false) }),
  inputs: { text: 'text' },
  outputs: { done: output('done', 'done.txt', 'a marker') },
  async run(ctx) {
    const checkpoint = path.join(ctx.workDir, ctx.keyWithout(['steps']));
    mkdirSync(checkpoint, { recursive: true });
    writeFileSync(path.join(checkpoint, \`step-\${ctx.params.steps}\`), 'x'.repeat(10_000));
    mkdirSync(path.join(ctx.workDir, \`\${ctx.key}.model\`), { recursive: true });
    writeFileSync(path.join(ctx.projectDir, 'scratch.started'), '');
    while (ctx.params.hang) await sleep(50);
    writeFileSync(ctx.outputs.done, String(ctx.params.seed));
  },
});
`;

const PIPELINE = `
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pipeline } from '${ENGINE}/pipeline.ts';
import { runCli } from '${ENGINE}/cli.ts';
import { source } from './stages/source.ts';
import { scratch } from './stages/scratch.ts';
const p = new Pipeline();
const s = p.add(source);
p.add(scratch, { text: s.out.text });
process.exitCode = await runCli(p, process.argv.slice(2), { projectDir: path.dirname(fileURLToPath(import.meta.url)) });
`;

test('gc removes workDir scratch of keys no longer referenced and half-built views, keeps what a killed run resumes from, and marks the killed run', async () => {
  const p = new FixtureProject();
  p.write('stages/scratch.ts', SCRATCH);
  p.write('pipeline.ts', PIPELINE);
  const work = path.join(p.dir, '.glmflow/work/scratch');
  assert.equal(p.cli('run', '--set', 'scratch.seed=1').code, 0);
  const first = readdirSync(work).sort();
  assert.equal(first.length, 2); // checkpoint folder + model folder
  assert.equal(p.cli('run', '--set', 'scratch.seed=2').code, 0);
  const second = readdirSync(work).filter((name) => !first.includes(name));
  // A run of seed 3 killed mid-stage: its checkpoint is what the next run of seed 3 resumes from.
  rmSync(path.join(p.dir, 'scratch.started'));
  const killed = p.spawn('run', '--set', 'scratch.seed=3', '--set', 'scratch.hang=true');
  for (let i = 0; i < 400 && !p.exists('scratch.started'); i++) await sleep(25);
  killed.kill('SIGKILL');
  await once(killed, 'exit');
  const third = readdirSync(work).filter((name) => !first.includes(name) && !second.includes(name));
  assert.equal(third.length, 2);
  // Leftovers of a view swap cut short.
  mkdirSync(path.join(p.dir, 'artifacts/.source.building-4242'));
  writeFileSync(path.join(p.dir, 'artifacts/.source.building-4242/all.txt'), 'half');
  mkdirSync(path.join(p.dir, 'artifacts/.source.old-4242'));
  assert.equal((JSON.parse(p.cli('runs', '--json').stdout) as { status: string }[])[0]!.status, 'running');

  const gc = p.cli('gc');
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /1 run whose process was gone marked killed/);
  // Seed 1 is superseded: its scratch is gone. Seed 2 is the latest commit; seed 3 the last attempt.
  assert.deepEqual(readdirSync(work).sort(), [...second, ...third].sort());
  assert.deepEqual(readdirSync(path.join(p.dir, 'artifacts')).sort(), ['scratch', 'source']);
  const runs = JSON.parse(p.cli('runs', '--json').stdout) as { status: string; stages: { stage: string; outcome: string }[] }[];
  assert.equal(runs[0]!.status, 'killed');
  assert.equal(runs[0]!.stages.find((s) => s.stage === 'scratch')!.outcome, 'failed');
  // What was kept still serves: the latest is fresh.
  assert.match(p.cli('status', '--set', 'scratch.seed=2').stdout, /scratch\s+fresh/);
});
