// Killed runs and concurrent runs, with real child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import { FixtureProject } from './fixture.ts';

async function waitFor(p: FixtureProject, rel: string): Promise<void> {
  for (let i = 0; i < 400 && !p.exists(rel); i++) await sleep(25);
  assert.ok(p.exists(rel), `${rel} never appeared`);
}

test('kill -9 in the middle of a stage leaves the cache consistent; the rerun redoes only what did not commit', async () => {
  const p = new FixtureProject();
  const child = p.spawn('run', '--set', 'slow.chunks=200');
  await waitFor(p, 'slow.started');
  child.kill('SIGKILL');
  await once(child, 'exit');
  p.ran();
  // The killed stage left nothing the cache believes in, nor a half-written view.
  assert.equal(p.exists('artifacts/slow/big.txt'), false);
  const status = p.cli('status', '--set', 'slow.chunks=200');
  assert.match(status.stdout, /slow\s+stale\s+never ran/);
  assert.match(status.stdout, /source\s+fresh/);
  // Whatever had not committed when the kill came (slow, perhaps report) is stale; only that reruns.
  const stale = (JSON.parse(p.cli('status', '--json', '--set', 'slow.chunks=200').stdout) as { stage: string; state: string }[]).filter((s) => s.state !== 'fresh').map((s) => s.stage).sort();
  const rerun = p.cli('run', '--set', 'slow.chunks=200');
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /recovered a lock left by process/);
  assert.deepEqual(p.ran(), stale);
  assert.equal(p.read('artifacts/slow/big.txt').length, 200_000);
  // Staging leftovers of the killed run are garbage, and gc collects them.
  assert.equal(p.cli('gc').code, 0);
  assert.deepEqual(readdirSync(path.join(p.dir, '.glmflow/tmp')), []);
});

test('a second concurrent run waits for the lock, naming the holder; --no-wait fails fast', async () => {
  const p = new FixtureProject();
  const first = p.spawn('run', '--set', 'slow.gate=release');
  await waitFor(p, 'slow.started');
  const noWait = p.cli('run', '--no-wait', '--set', 'slow.gate=release');
  assert.equal(noWait.code, 2);
  assert.match(noWait.stderr, /another glmflow run holds this project: process \d+/);
  const second = p.spawn('run', '--set', 'slow.gate=release');
  let err = '';
  second.stderr.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 2400 && !/waiting for process/.test(err); i++) await sleep(25);
  assert.match(err, /waiting for process \d+ .* to finish/);
  p.write('release', '');
  const [firstCode] = (await once(first, 'exit')) as [number];
  const [secondCode] = (await once(second, 'exit')) as [number];
  assert.equal(firstCode, 0);
  assert.equal(secondCode, 0);
  // The waiter found everything done by the first run.
  assert.deepEqual(p.ran(), ['count', 'report', 'slow', 'source', 'words']);
});

test('a lock file left by a dead process is recovered', () => {
  const p = new FixtureProject();
  mkdirSync(path.join(p.dir, '.glmflow'));
  writeFileSync(path.join(p.dir, '.glmflow/lock'), JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), command: 'run', since: 'earlier' }));
  const r = p.cli('run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /recovered a lock left by process/);
});

