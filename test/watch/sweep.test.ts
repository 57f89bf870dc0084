// Sweeps: the grid and halving arithmetic, and real sweeps on a temporary
// project (trials as cached branches, a rerun restores every trial, halving
// stops the worse half), with the advisor reading what they recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { betterHalf, rungSteps } from '../../watch/sweep/halving.ts';
import { grid, latestSets, sample, sweepSpace } from '../../watch/sweep/grid.ts';
import { cli, tempProject, TINY } from './project.ts';

test('--set flags: several values make an axis, one value is fixed, JSON values keep their commas', () => {
  const space = sweepSpace(['train.learning_rate=2e-5,5e-5', 'train.max_steps=100', 'split.ratios={"train":0.8,"dev":0.1,"test":0.1},{"train":0.7,"dev":0.2,"test":0.1}']);
  assert.deepEqual(space.fixed, ['train.max_steps=100']);
  assert.deepEqual(space.axes, [
    { param: 'train.learning_rate', values: ['2e-5', '5e-5'] },
    { param: 'split.ratios', values: ['{"train":0.8,"dev":0.1,"test":0.1}', '{"train":0.7,"dev":0.2,"test":0.1}'] },
  ]);
  assert.throws(() => sweepSpace(['train.learning_rate']), /not of the form stage\.param=value/);
  assert.throws(() => sweepSpace(['train.seed=1,2', 'train.seed=3,4']), /given twice/);
});

test('the grid is every combination; a random draw is distinct, seeded, and in grid order', () => {
  const trials = grid([{ param: 'a.x', values: ['1', '2', '3'] }, { param: 'a.y', values: ['p', 'q'] }]);
  assert.deepEqual(trials, [['a.x=1', 'a.y=p'], ['a.x=1', 'a.y=q'], ['a.x=2', 'a.y=p'], ['a.x=2', 'a.y=q'], ['a.x=3', 'a.y=p'], ['a.x=3', 'a.y=q']]);
  const drawn = sample(trials, 3, 7);
  assert.equal(new Set(drawn).size, 3);
  assert.deepEqual(drawn, sample(trials, 3, 7));
  const positions = drawn.map((t) => trials.findIndex((x) => x === t));
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
  assert.deepEqual(sample(trials, 10, 7), trials);
  assert.deepEqual(latestSets(['t.a=1', 't.b=2', 't.a=3']), ['t.b=2', 't.a=3']);
});

test('successive halving: rungs double up to the full length, the better half of the scored trials goes on', () => {
  assert.deepEqual(rungSteps(4, 400), [100, 200, 400]);
  assert.deepEqual(rungSteps(5, 400), [50, 100, 200, 400]);
  assert.deepEqual(rungSteps(1, 400), [400]);
  assert.deepEqual(rungSteps(16, 8), [1, 1, 2, 4, 8]);
  const scores = new Map([['a', 3], ['b', 1], ['c', null], ['d', 2], ['e', 5]]);
  assert.deepEqual(betterHalf(['a', 'b', 'c', 'd', 'e'], (t) => scores.get(t)!), ['b', 'd', 'a']);
});

test('sweep end to end: a table sorted by eval loss, the best --set line, a rerun that restores every trial, halving, and advise on the result', async () => {
  const project = await tempProject();
  const axes = ['--set', 'train.learning_rate=0.01,0.2', '--set', 'train.weight_decay=0,0.01'];
  const first = cli(project, 'sweep', ...TINY, '--set', 'train.max_steps=4', ...axes);
  assert.equal(first.status, 0, first.stderr + first.stdout);
  const rows = first.stdout.split('\n').filter((l) => /^\d\s/.test(l));
  assert.equal(rows.length, 4, first.stdout);
  const losses = rows.map((r) => Number(r.split(/\s+/)[3]));
  assert.deepEqual(losses, [...losses].sort((a, b) => a - b), 'sorted by eval loss');
  assert.ok(rows.every((r) => r.endsWith('ran')), first.stdout);
  const best = /best \(eval loss ([\d.]+)\): npx tsx pipeline.ts run train (.*)/.exec(first.stdout);
  assert.ok(best, first.stdout);
  assert.equal(Number(best[1]), losses[0]);
  assert.match(best[2]!, /--set train\.max_steps=4 --set train\.learning_rate=0\.2 --set train\.weight_decay=0(\.01)?$/);
  // Upstream stages ran once, for the first trial; the others only trained.
  assert.equal(first.stderr.match(/▶ tokenize/g)?.length, 1);

  const again = cli(project, 'sweep', ...TINY, '--set', 'train.max_steps=4', ...axes);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /▶ train/, 'no trial trains again');
  assert.equal(again.stdout.split('\n').filter((l) => /^\d\s.*cached$/.test(l)).length, 4, again.stdout);

  const halving = cli(project, 'sweep', ...TINY, '--set', 'train.max_steps=8', '--set', 'train.learning_rate=0.01,0.05,0.1,0.2', '--halving');
  assert.equal(halving.status, 0, halving.stderr + halving.stdout);
  assert.match(halving.stderr, /trial 4\/4 \(rung 1\/3, max_steps 2\)/);
  assert.match(halving.stderr, /trial 2\/2 \(rung 2\/3, max_steps 4\)/);
  assert.match(halving.stderr, /trial 1\/1 \(rung 3\/3, max_steps 8\)/);
  assert.match(halving.stdout, /^1\s+\S+\s+[\d.]+\s+\d+\s+[\d.]+\s+8\s+ran$/m, 'the survivor trained all 8 steps');
  assert.equal(halving.stdout.match(/halved at 2 steps/g)?.length, 2);
  assert.equal(halving.stdout.match(/halved at 4 steps/g)?.length, 1);
  assert.match(halving.stdout, /best \(eval loss [\d.]+\): npx tsx pipeline.ts run train .*--set train\.max_steps=8 --set train\.learning_rate=/);

  const advice = cli(project, 'advise', '--json');
  assert.equal(advice.status, 0, advice.stderr);
  const parsed = JSON.parse(advice.stdout) as { run: number; outcome: string; diagnoses: { kind: string; suggestions: { set: string }[] }[] };
  assert.equal(parsed.outcome, 'ran');
  for (const d of parsed.diagnoses) assert.ok(d.suggestions.length > 0, `${d.kind} suggests a --set`);
  const text = cli(project, 'advise', String(parsed.run));
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^run ${parsed.run}, train ran: learning_rate `));
  assert.match(cli(project, 'advise', '999').stderr, /run 999 did not train/);

  const noAxis = cli(project, 'sweep', '--set', 'train.learning_rate=0.1');
  assert.equal(noAxis.status, 2);
  assert.match(noAxis.stderr, /sweep needs at least one --set with several values/);
  assert.match(cli(project, 'sweep', '--bogus').stderr, /sweep: Unknown option '--bogus'[\s\S]*→ see npx tsx pipeline.ts sweep --help/);
  assert.match(cli(project, 'sweep', ...axes, '--halving').stderr, /--halving needs the full training length/);
});
