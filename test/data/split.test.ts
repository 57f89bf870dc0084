// Split: assignments survive appended data, subsets nest inside the full split,
// counts are exact, small splits warn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { splitStage } from '../../stages/split.ts';
import { readLines, tempDir } from './helpers.ts';
import { runStage } from '../stage-run.ts';

const conversation = (id: string): string => JSON.stringify({ session_id: id, source: 'x.csv', conversations: [{ role: 'user', content: `q ${id}` }, { role: 'assistant', content: 'a' }] });

async function splitOf(ids: readonly string[], params: unknown = {}) {
  const dir = await tempDir('split');
  const input = path.join(dir, 'conversations.jsonl');
  await writeFile(input, ids.map((id) => conversation(id) + '\n').join(''));
  const run = await runStage(splitStage, { params, inputs: { conversations: input } });
  const assignment = new Map<string, string>();
  for (const name of ['train', 'dev', 'test'] as const) {
    for (const line of await readLines<{ session_id: string }>(run.outputs[name])) assignment.set(line.session_id, name);
  }
  return { assignment, summary: run.summary, outputs: run.outputs };
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `session-${from + i}`);

test('ratios split about 80/10/10 and appending data moves no existing conversation', async () => {
  const before = await splitOf(ids(0, 2000));
  const after = await splitOf([...ids(0, 2000), ...ids(2000, 3000)]);
  const counts = { train: 0, dev: 0, test: 0 } as Record<string, number>;
  for (const [id, name] of before.assignment) {
    counts[name]!++;
    assert.equal(after.assignment.get(id), name, id);
  }
  assert.ok(counts['train']! > 1500 && counts['dev']! > 140 && counts['test']! > 140, JSON.stringify(counts));
  assert.equal(after.assignment.size, 3000);
  assert.match(before.summary[0]!, /^2000 conversations in = \d+ train \+ \d+ dev \+ \d+ test \+ 0 outside the subset \+ 0 rejected \(none\)$/);
});

test('lines are copied as they are: ChatGLM3 conversations with their session_id', async () => {
  const { outputs } = await splitOf(ids(0, 50));
  const [first] = await readLines(outputs.train);
  assert.deepEqual(Object.keys(first ?? {}), ['session_id', 'source', 'conversations']);
});

test('a subset, as a fraction or a count, is a nested subset of the full split', async () => {
  const all = ids(0, 1000);
  const full = await splitOf(all);
  const quarter = await splitOf(all, { subset: 0.25 });
  const tenth = await splitOf(all, { subset: 0.1 });
  const hundred = await splitOf(all, { subset: 100 });
  assert.equal(hundred.assignment.size, 100);
  assert.ok(quarter.assignment.size > 200 && quarter.assignment.size < 300, String(quarter.assignment.size));
  for (const subset of [quarter, tenth, hundred]) {
    for (const [id, name] of subset.assignment) assert.equal(full.assignment.get(id), name, id);
  }
  for (const id of tenth.assignment.keys()) assert.ok(quarter.assignment.has(id), id);
  assert.match(hundred.summary[0]!, /^1000 conversations in = \d+ train \+ \d+ dev \+ \d+ test \+ 900 outside the subset/);
});

test('counts give exact dev and test sizes; a different seed gives another split', async () => {
  const all = ids(0, 500);
  const { assignment } = await splitOf(all, { counts: { dev: 40, test: 35 } });
  const sizes = [...assignment.values()].reduce<Record<string, number>>((acc, name) => ({ ...acc, [name]: (acc[name] ?? 0) + 1 }), {});
  assert.deepEqual(sizes, { train: 425, dev: 40, test: 35 });
  const other = await splitOf(all, { seed: 7 });
  const base = await splitOf(all);
  assert.ok([...base.assignment].some(([id, name]) => other.assignment.get(id) !== name));
});

test('a split under 32 conversations warns with advice', async () => {
  const { summary } = await splitOf(ids(0, 200));
  const warnings = summary.filter((line) => line.startsWith('warning:'));
  assert.equal(warnings.length, 2, summary.join('\n'));
  assert.match(warnings[0]!, /^warning: dev holds \d+ conversations \(< 32\): its loss will be too noisy to compare runs; add data, or --set split\.counts\.dev=64 or raise split\.ratios\.dev$/);
});
