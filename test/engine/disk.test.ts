// A full disk, for real: the project lives on a small tmpfs filled up to the
// point where a stage's outputs fit in the store but not their copy in artifacts/.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FixtureProject } from './fixture.ts';

const MB = 1 << 20;

/** A fresh tmpfs of `size`, unmounted after the test; undefined (test skipped) where mounting is not allowed. */
function smallDisk(t: TestContext, size: string): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()}): the full-disk test needs root and mount`;
    if (process.env['CI'] === 'true') assert.fail(why);
    t.skip(why);
    return undefined;
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const free = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

test('disk full while copying outputs: ENOSPC is said as itself, the cache never claims what artifacts/ does not show, a rerun short of space fails cleanly', (t) => {
  const disk = smallDisk(t, '8m');
  if (!disk) return;
  const p = new FixtureProject(disk);
  assert.equal(p.cli('run', 'source').code, 0);
  const before = p.read('artifacts/source/all.txt');
  // 1 MB more raw text: the new output fits in the store, its copy in artifacts/ does not.
  p.write('data/c.txt', 'x'.repeat(MB - 1) + '\n');
  writeFileSync(path.join(disk, 'filler'), Buffer.alloc(free(disk) - 1.5 * MB));

  const full = p.cli('run', 'source');
  assert.equal(full.code, 1, full.stderr + full.stdout);
  assert.match(full.stdout, /✗ source failed: no space left on device \(ENOSPC\)/);
  assert.match(full.stdout, /free disk space/);
  assert.doesNotMatch(full.stdout + full.stderr, /SqliteError|\n\s+at /);
  // Nothing claims the new rows: the view still shows the old ones, and status says stale, not fresh.
  assert.equal(p.read('artifacts/source/all.txt'), before);
  assert.match(p.cli('status', 'source').stdout, /source\s+stale\s+raw file added: data\/c\.txt/);
  assert.deepEqual(readdirSync(path.join(disk, 'artifacts')).filter((name) => name.startsWith('.')), []);
  const [last] = JSON.parse(p.cli('runs', '--json').stdout) as { status: string }[];
  assert.equal(last!.status, 'failed');

  // Still short of space (the stage itself or the cache database is the first to hit it): a clear error, no stack trace.
  const again = p.cli('run', 'source');
  assert.notEqual(again.code, 0);
  assert.match(again.stdout + again.stderr, /no space left on device \((ENOSPC|SQLITE_FULL)\)/);
  assert.doesNotMatch(again.stdout + again.stderr, /SqliteError|\n\s+at /);

  // With space again, the run completes and the view shows what the cache holds.
  rmSync(path.join(disk, 'filler'));
  const ok = p.cli('run', 'source');
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.equal(p.read('artifacts/source/all.txt').length, before.length + MB);
  assert.match(p.cli('status', 'source').stdout, /source\s+fresh/);
});
