// The cache's promises, checked through the real CLI on a throwaway project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { FixtureProject } from './fixture.ts';

const ALL = ['count', 'report', 'slow', 'source', 'words'];

test('stages claiming the same resource never run at once, even with free job slots', () => {
  const p = new FixtureProject();
  assert.equal(p.cli('run', '--jobs', '4', '--set', 'slow.chunks=4').code, 0);
  assert.match(p.read('device.log'), /^(words\+words-slow\+slow-|slow\+slow-words\+words-)$/);
});

test('a second run with nothing changed does no work', () => {
  const p = new FixtureProject();
  assert.equal(p.cli('run').code, 0);
  assert.deepEqual(p.ran(), ALL);
  const again = p.cli('run');
  assert.equal(again.code, 0);
  assert.match(again.stdout, /up to date/);
  assert.deepEqual(p.ran(), []);
  assert.equal(p.read('artifacts/count/count.json'), '{"lines":3}');
});

test('a param change reruns that stage and its dependents only', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  const r = p.cli('run', '--set', 'count.ignoreBlank=false');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(p.ran(), ['count', 'report']);
  assert.match(r.stderr, /param ignoreBlank: true → false/);
  assert.equal(p.read('artifacts/count/count.json'), '{"lines":5}');
});

test('a reporter speaks after its stage ran, from the committed outputs, and is silent when the stage was fresh', () => {
  const p = new FixtureProject();
  assert.match(p.cli('run').stdout, /^count: reported \{"lines":3\} with min 0$/m);
  assert.doesNotMatch(p.cli('run').stdout, /reported/);
  assert.match(p.cli('run', '--set', 'count.min=7').stdout, /^count: reported \{"lines":7\} with min 7$/m);
});

test('an untracked param does not change the key', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  assert.equal(p.cli('run', '--set', 'source.logEvery=99').code, 0);
  assert.deepEqual(p.ran(), []);
});

test('early cutoff: a rerun with byte-identical outputs leaves dependents fresh', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  // min 2 < 3 lines: count reruns but writes the same bytes.
  const r = p.cli('run', '--set', 'count.min=2');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(p.ran(), ['count']);
});

test('a source change in one stage reruns it only; an unrelated stage is untouched', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  p.write('stages/words.ts', p.read('stages/words.ts') + '\n// a comment-only change\n');
  const status = p.cli('status');
  assert.match(status.stdout, /words\s+stale\s+source changed: stages\/words.ts/);
  assert.match(status.stdout, /count\s+fresh/);
  p.cli('run');
  assert.deepEqual(p.ran(), ['words']);
});

test('a local module imported by a stage, or started by it as a worker, is part of its fingerprint', () => {
  const p = new FixtureProject();
  p.write('stages/helper.ts', 'export const sep = "\\n";\n');
  p.write('stages/worker.ts', 'export {};\n');
  p.write('stages/count.ts', p.read('stages/count.ts').replace("import { z } from 'zod';", "import { z } from 'zod';\nimport { sep } from './helper.ts';\nvoid sep;\nvoid new URL('./worker.ts', import.meta.url);"));
  p.cli('run');
  p.ran();
  p.write('stages/helper.ts', 'export const sep = "\\r\\n";\n');
  const explain = p.cli('explain', 'count');
  assert.match(explain.stdout, /source changed: stages\/helper.ts/);
  p.cli('run');
  assert.deepEqual(p.ran(), ['count']);
  p.write('stages/worker.ts', 'export const changed = true;\n');
  assert.match(p.cli('explain', 'count').stdout, /source changed: stages\/worker.ts/);
});

test('touching a raw file without changing it causes no rerun; editing it does', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  const later = new Date(Date.now() + 60_000);
  utimesSync(path.join(p.dir, 'data/a.txt'), later, later);
  assert.equal(p.cli('run').code, 0);
  assert.deepEqual(p.ran(), []);
  p.write('data/b.txt', 'changed\n');
  const r = p.cli('run');
  assert.match(r.stderr, /raw file changed: data\/b.txt/);
  assert.ok(p.ran().includes('source'));
});

test('a param changed back is restored from the cache without running', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.cli('run', '--set', 'source.upper=true');
  p.ran();
  const back = p.cli('run');
  assert.equal(back.code, 0);
  assert.deepEqual(p.ran(), []);
  assert.match(back.stderr, /restored from cache/);
  assert.equal(p.read('artifacts/source/all.txt'), 'hello world\n\nfoo bar\nsecond file\n');
});

test('a failing stage: its branch is skipped and named, independent branches finish, nothing partial is kept', () => {
  const p = new FixtureProject();
  const r = p.cli('run', '--set', 'words.fail=true');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ words failed: words was told to fail/);
  assert.match(r.stdout, /log: .*words\.log/);
  assert.match(r.stdout, /skipped because of the failure: report/);
  assert.deepEqual(p.ran(), ['count', 'slow', 'source', 'words']);
  assert.equal(p.exists('artifacts/words/words.txt'), false);
  assert.match(p.cli('status', '--set', 'words.fail=true').stdout, /words\s+stale\s+never ran/);
  // The fix: only what did not commit runs.
  assert.equal(p.cli('run').code, 0);
  assert.deepEqual(p.ran(), ['report', 'words']);
});

/** Every file under `rel` with its size and modification time: a fingerprint of what a command wrote. */
function snapshot(p: FixtureProject, rel: string): string[] {
  const root = path.join(p.dir, rel);
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).sort().map((f) => {
    const st = statSync(path.join(root, f));
    return `${f} ${st.isFile() ? st.size : 'dir'} ${st.mtimeMs}`;
  });
}

test('--dry-run prints the plan and writes nothing: no artifacts/, no .glmflow/ (not even cache.db), and on a used project no change to it', () => {
  const p = new FixtureProject();
  const r = p.cli('run', '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /source\s+would run\s+never ran/);
  assert.equal(p.exists('artifacts'), false);
  assert.equal(p.exists('.glmflow'), false);
  assert.deepEqual(p.ran(), []);

  assert.equal(p.cli('run').code, 0);
  p.ran();
  p.write('data/c.txt', 'new raw file\n');
  const before = snapshot(p, '.glmflow');
  const changed = p.cli('run', '--dry-run', '--set', 'count.min=9');
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /source\s+would run\s+raw file added: data\/c\.txt/);
  assert.deepEqual(snapshot(p, '.glmflow'), before);
  assert.deepEqual(p.ran(), []);
});

test('a failed run prints the command to rerun as it was given, --set, --config and --project included', () => {
  const p = new FixtureProject();
  p.write('params.yaml', 'count: {min: 1}\n');
  const r = p.cli('run', 'report', '--set', 'words.fail=true', '--config', 'params.yaml', '--project', p.dir);
  assert.equal(r.code, 1);
  assert.ok(r.stdout.includes(`fix the cause, then rerun: npx tsx pipeline.ts run report --set words.fail=true --config params.yaml --project ${p.dir} (`), r.stdout);
});

test('--force reruns a fresh stage', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  p.cli('run', 'count', '--force', 'count');
  assert.deepEqual(p.ran(), ['count']);
});

test('gc removes unreferenced objects and prints the bytes freed; latest outputs stay usable', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.cli('run', '--set', 'source.upper=true');
  const gc = p.cli('gc');
  assert.equal(gc.code, 0);
  const m = /removed (\d+) objects, freed (\d+(?:\.\d)?) (B|KB)/.exec(gc.stdout);
  assert.ok(m && Number(m[1]) > 0, gc.stdout);
  p.ran();
  assert.match(p.cli('run', '--set', 'source.upper=true').stdout, /up to date/);
  assert.deepEqual(p.ran(), []);
  // History dropped by gc is recomputed, not restored.
  p.cli('run');
  assert.ok(p.ran().includes('source'));
});

test('an artifacts/ file edited by hand is named by status and run, never silently used nor discarded; deleted, it is rebuilt from the store', () => {
  const p = new FixtureProject();
  p.cli('run');
  p.ran();
  p.write('artifacts/count/count.json', '{"lines":300}');
  const status = p.cli('status');
  assert.match(status.stdout, /count\s+edited\s+edited by hand: artifacts\/count\/count\.json \(no stage reads artifacts\/: change data\/ or params instead/);
  assert.match(status.stdout, /words\s+fresh/);
  const run = p.cli('run');
  assert.equal(run.code, 2);
  assert.match(run.stderr, /edited by hand: artifacts\/count\/count\.json\. Files in artifacts\/ are copies of the cache/);
  assert.match(run.stderr, /→ .*change its inputs \(data\/\) or its params.*delete the edited files and rerun/);
  assert.deepEqual(p.ran(), []);
  assert.equal(p.read('artifacts/count/count.json'), '{"lines":300}');
  // A file added to a stage's view counts as an edit as well.
  p.write('artifacts/words/notes.txt', 'mine');
  assert.match(p.cli('status').stdout, /words\s+edited\s+edited by hand: artifacts\/words\/notes\.txt/);
  // Deleting what was edited is the way back: the view is rebuilt from the store, nothing reruns.
  rmSync(path.join(p.dir, 'artifacts/count/count.json'));
  rmSync(path.join(p.dir, 'artifacts/words/notes.txt'));
  assert.match(p.cli('status').stdout, /count\s+fresh\s+artifacts\/count\/ does not show the cached outputs: run rebuilds it/);
  assert.equal(p.cli('run').code, 0);
  assert.deepEqual(p.ran(), []);
  assert.equal(p.read('artifacts/count/count.json'), '{"lines":3}');
  assert.match(p.cli('status').stdout, /count\s+fresh\s+up to date/);
});
