// A raw file the user running glmflow may not read. Tests run as root, whom
// permissions do not stop, so the commands run as the unprivileged user nobody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { userInfo } from 'node:os';
import { FixtureProject } from './fixture.ts';

const NOBODY = 65534;

test('an unreadable raw file is named with the reason in run and status, without a stack trace', (t) => {
  if (userInfo().uid !== 0) {
    if (process.env['CI'] === 'true') assert.fail('this test drops to user nobody and needs root');
    t.skip('needs root, to run glmflow as user nobody');
    return;
  }
  const p = new FixtureProject();
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, p.dir]);
  const as = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'pipeline.ts', ...args], { cwd: p.dir, encoding: 'utf8', uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: p.dir, CI: 'true' } });
  chmodSync(`${p.dir}/data/b.txt`, 0o000);
  for (const command of ['run', 'status']) {
    const r = as(command);
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /error: cannot read \S+\/data\/b\.txt: permission denied \(EACCES\)/, command);
    assert.match(r.stderr, /→ let glmflow read it \(e\.g\. chmod a\+r/, command);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${command} printed a stack trace`);
  }
});
