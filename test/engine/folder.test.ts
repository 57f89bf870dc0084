// Folder outputs: one output, one hash over its files, handed on as a folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseStage } from '../../stages/base.ts';
import { FixtureProject } from './fixture.ts';

const ENGINE = path.resolve(fileURLToPath(new URL('../../engine', import.meta.url)));

// `shelf` writes one file per raw file (named by a param) into a folder; `index` lists that folder.
const SHELF = `
import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineStage, output, outputDir } from '${ENGINE}/stage.ts';
const mark = (dir: string, stage: string): void => appendFileSync(path.join(dir, 'ran.log'), stage + '\\n');
export const shelf = defineStage({
  name: 'shelf', module: import.meta.url, description: 'one file per raw file, in a folder',
  params: z.object({ sub: z.string().default('books'), note: z.number().default(0) }),
  inputs: { text: 'text' },
  outputs: { shelf: outputDir('shelf', 'shelf', 'the folder') },
  async run(ctx) {
    mark(ctx.projectDir, 'shelf');
    const lines = readFileSync(ctx.inputs.text, 'utf8').split('\\n').filter(Boolean);
    mkdirSync(path.join(ctx.outputs.shelf, ctx.params.sub));
    lines.forEach((line, i) => writeFileSync(path.join(ctx.outputs.shelf, ctx.params.sub, \`\${i}.txt\`), line));
    writeFileSync(path.join(ctx.outputs.shelf, 'count'), String(lines.length));
  },
});
export const index = defineStage({
  name: 'index', module: import.meta.url, description: 'lists the folder it is given',
  params: z.object({}),
  inputs: { shelf: 'shelf' },
  outputs: { index: output('index', 'index.txt', 'file list') },
  async run(ctx) {
    mark(ctx.projectDir, 'index');
    const list = (dir: string, rel = ''): string[] => readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => e.isDirectory() ? list(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]);
    writeFileSync(ctx.outputs.index, list(ctx.inputs.shelf).sort().join('\\n'));
  },
});
`;

const PIPELINE = `
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pipeline } from '${ENGINE}/pipeline.ts';
import { runCli } from '${ENGINE}/cli.ts';
import { source } from './stages/source.ts';
import { shelf, index } from './stages/shelf.ts';
const p = new Pipeline();
const s = p.add(source);
const f = p.add(shelf, { text: s.out.text });
p.add(index, { shelf: f.out.shelf });
process.exitCode = await runCli(p, process.argv.slice(2), { projectDir: path.dirname(fileURLToPath(import.meta.url)) });
`;

function shelfProject(): FixtureProject {
  const p = new FixtureProject();
  p.write('stages/shelf.ts', SHELF);
  p.write('pipeline.ts', PIPELINE);
  return p;
}

test('a folder output is one output: its files are hashed as one, handed on as a folder, shown in artifacts/', () => {
  const p = shelfProject();
  const r = p.cli('run');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(p.ran(), ['index', 'shelf', 'source']);
  assert.equal(p.read('artifacts/index/index.txt'), ['books/0.txt', 'books/1.txt', 'books/2.txt', 'count'].join('\n'));
  assert.deepEqual(readdirSync(path.join(p.dir, 'artifacts/shelf/shelf/books')).sort(), ['0.txt', '1.txt', '2.txt']);
  assert.equal(p.read('artifacts/shelf/shelf/books/1.txt'), 'foo bar');
  const key = (JSON.parse(p.cli('explain', 'index', '--json').stdout) as { details: { inputs: { shelf: { from: string; hash: string } } } }).details.inputs.shelf;
  assert.equal(key.from, 'shelf.shelf');
  assert.match(key.hash, /^[0-9a-f]{64}$/);

  // The same files again: one hash, so the dependent stays fresh (early cutoff).
  assert.equal(p.cli('run', '--set', 'shelf.note=1').code, 0);
  assert.deepEqual(p.ran(), ['shelf']);
  // Same contents under another path inside the folder: another hash, the dependent reruns.
  const moved = p.cli('run', '--set', 'shelf.sub=volumes');
  assert.equal(moved.code, 0, moved.stderr);
  assert.deepEqual(p.ran(), ['index', 'shelf']);
  assert.match(p.read('artifacts/index/index.txt'), /^volumes\/0\.txt$/m);
  // Back: restored from the cache, folder and all.
  assert.equal(p.cli('run').code, 0);
  assert.deepEqual(p.ran(), []);
  assert.deepEqual(readdirSync(path.join(p.dir, 'artifacts/shelf/shelf')).sort(), ['books', 'count']);
});

test('the base model is one folder output, not three files put back together by each consumer', () => {
  assert.deepEqual(Object.keys(baseStage.outputs), ['model']);
  assert.equal(baseStage.outputs.model.directory, true);
  assert.equal(baseStage.outputs.model.kind, 'base-model');
});
