// Sweeps with trials at once (--max-parallel): the same results as one at a
// time, trials overlapping, halving's rungs each finished before the next,
// and the table printed as trials finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { cli, tempProject, TINY } from '../watch/project.ts';

test('sweep --max-parallel 2 with --halving: trials overlap, each rung ends before the next, the table fills in, and the results equal a one-at-a-time sweep', { timeout: 300_000 }, async () => {
  const serialProject = await tempProject();
  const parallelProject = await tempProject();
  const args = [...TINY, '--set', 'train.max_steps=4', '--set', 'train.learning_rate=0.01,0.2', '--set', 'train.weight_decay=0,0.01', '--halving'];

  const serial = cli(serialProject, 'sweep', ...args);
  assert.equal(serial.status, 0, serial.stderr + serial.stdout);
  const parallel = cli(parallelProject, 'sweep', ...args, '--max-parallel', '2');
  assert.equal(parallel.status, 0, parallel.stderr + parallel.stdout);

  assert.equal(parallel.stdout, serial.stdout, 'the same table and best line');
  assert.match(parallel.stdout, /halved at 1 steps/);

  const lines = parallel.stderr.split('\n');
  const at = (pattern: RegExp): number[] => lines.flatMap((line, i) => (pattern.test(line) ? [i] : []));
  // The pool starts two trials before either reports back.
  assert.ok(at(/^sweep: trial 2\/4 \(rung 1\/3/)[0]! < at(/→ trial \d\/4/)[0]!, parallel.stderr);
  // Halving ranks a whole rung: the second rung starts after every first-rung trial reported.
  assert.ok(Math.max(...at(/→ trial \d\/4/)) < at(/^sweep: trial 1\/2 \(rung 2\/3/)[0]!, parallel.stderr);
  // A table after each finished trial (4 + 2 + 1), before the final one on stdout.
  assert.equal(at(/^#\s+train\.learning_rate/).length, 7);
  // Two trials share the machine's cores: each is given its half, not every core.
  const cores = availableParallelism();
  const workers = Math.max(0, Math.floor(cores / 2) - 1);
  assert.ok(lines.includes(`sweep: 2 trials at once, each on its share of this machine's ${cores} cores (--set train.workers=${workers})`), parallel.stderr);
  // Upstream stages ran once, before any trial trained.
  assert.equal(parallel.stderr.match(/▶ tokenize/g)?.length, 1);
});
