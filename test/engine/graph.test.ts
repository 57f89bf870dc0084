// Graph building, validation and param resolution, in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Pipeline } from '../../engine/pipeline.ts';
import { defineStage, output, type ArtifactRef } from '../../engine/stage.ts';
import { parseSetFlags, resolveParams, trackedParams, NO_PARAMS } from '../../engine/params.ts';
import { dagText } from '../../engine/cli.ts';
import { describeChanges, ENGINE_VERSION, type KeyDetails } from '../../engine/key.ts';

const source = defineStage({
  name: 'source',
  module: import.meta.url,
  description: 'test source',
  params: z.object({ n: z.number().int().min(1).default(3), name: z.string().default('x'), log: z.number().default(5), nested: z.object({ a: z.string().default('k') }).default({ a: 'k' }) }),
  untracked: ['log'],
  inputs: {},
  outputs: { rows: output('rows', 'rows.jsonl', 'rows'), notes: output('notes', 'notes.txt', 'notes') },
  async run() {},
});
const sink = defineStage({
  name: 'sink',
  module: import.meta.url,
  description: 'test sink',
  params: z.object({}),
  inputs: { rows: 'rows' },
  outputs: { out: output('out', 'out.txt', 'out') },
  async run() {},
});

test('wiring exposes typed refs and orders stages dependencies first', () => {
  const p = new Pipeline();
  const s = p.add(source);
  const k = p.add(sink, { rows: s.out.rows });
  assert.deepEqual(s.out.rows, { stage: 'source', output: 'rows', kind: 'rows' });
  assert.equal(k.name, 'sink');
  assert.deepEqual(p.order(['sink']), ['source', 'sink']);
  assert.deepEqual(p.order(['source']), ['source']);
  assert.deepEqual(p.downstreamOf('source'), ['sink']);
  p.alias('finish', 'sink');
  assert.deepEqual(p.order(['finish']), ['source', 'sink']);
  assert.throws(() => p.alias('source', 'sink'), /is a stage already/);
  assert.match(dagText(p, 'mermaid'), /source -->\|rows\| sink/);
  assert.match(dagText(p, 'dot'), /"source" -> "sink" \[label="rows"\]/);
});

test('the graph is validated when built: duplicates, missing inputs, wrong kinds, unknown stages', () => {
  const p = new Pipeline();
  const s = p.add(source);
  assert.throws(() => p.add(source), /stage "source" is added twice/);
  assert.throws(() => p.add(sink, {} as never), /missing its input "rows"/);
  assert.throws(() => p.add(sink, { rows: s.out.notes as unknown as ArtifactRef<'rows'> }), /expects a rows but "source.notes" is a notes/);
  assert.throws(() => p.add(sink, { rows: { stage: 'ghost', output: 'rows', kind: 'rows' } }), /"ghost", which is not in the pipeline/);
  assert.throws(() => p.node('nope'), /no stage named "nope"/);
  assert.throws(() => p.order(['nope']), /no stage named "nope"/);
});

test('params: defaults, --set typing, nested paths, readable errors, untracked params', () => {
  assert.deepEqual(resolveParams(source as never, NO_PARAMS), { n: 3, name: 'x', log: 5, nested: { a: 'k' } });
  const set = parseSetFlags(['source.n=7', 'source.nested.a=b', 'source.name=0123']);
  assert.deepEqual(resolveParams(source as never, set), { n: 7, name: '0123', log: 5, nested: { a: 'b' } });
  assert.throws(() => resolveParams(source as never, parseSetFlags(['source.n=0'])), /source\.n: .*>=1.*\(got 0\)/s);
  assert.throws(() => resolveParams(source as never, parseSetFlags(['source.n=abc'])), /source\.n: .*number.*\(got "abc"\)/s);
  assert.throws(() => resolveParams(source as never, parseSetFlags(['source.typo=1'])), { message: 'stage "source" has no param "typo"', hint: 'its params are: n, name, log, nested' });
  assert.throws(() => parseSetFlags(['noequals']), /not of the form stage.param=value/);
  assert.deepEqual(trackedParams(source as never, { n: 1, log: 9 }), { n: 1 });
});

test('a miss is explained part by part', () => {
  const base: KeyDetails = { engine: ENGINE_VERSION, stage: 's', sources: { 'stages/s.ts': 'a' }, params: { lr: 1, nested: { x: 1 } }, inputs: { rows: { from: 'source.rows', hash: 'h1' } }, files: { raw: { 'data/a.csv': '1', 'data/b.csv': '2' } }, packages: { exceljs: '4.4.0' } };
  const now: KeyDetails = { ...base, sources: { 'stages/s.ts': 'b' }, params: { lr: 2, nested: { x: 3 } }, inputs: { rows: { from: 'source.rows', hash: 'h2' } }, files: { raw: { 'data/a.csv': '9', 'data/c.csv': '3' } }, packages: { exceljs: '4.5.0' } };
  assert.deepEqual(describeChanges(undefined, now), ['never ran']);
  assert.deepEqual(describeChanges(base, now), [
    'param lr: 1 → 2',
    'param nested.x: 1 → 3',
    'input rows changed (source.rows)',
    'raw file changed: data/a.csv',
    'raw file added: data/c.csv',
    'raw file removed: data/b.csv',
    'source changed: stages/s.ts',
    'package exceljs 4.4.0 → 4.5.0',
  ]);
});
