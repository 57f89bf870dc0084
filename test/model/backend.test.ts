// Backend choice: wasm by default here (tfjs-node-gpu cannot install), GLMFLOW_BACKEND overrides,
// an unknown name is a clear error. Each case runs in a fresh process: tfjs has one global backend.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const script = `import { selectBackend } from './model/backend.ts';
try { console.log((await selectBackend()).description); } catch (e) { console.log('error: ' + e.message); }`;

function choose(env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return r.stdout.trim().split('\n').pop() ?? '';
}

test('backend: automatic choice, env override, unknown name', () => {
  const auto = choose({ GLMFLOW_BACKEND: '' });
  assert.match(auto, /^backend: (tensorflow|wasm \((no )?SIMD, \d+ threads?\))/);
  console.log(auto);
  assert.equal(choose({ GLMFLOW_BACKEND: 'cpu' }), 'backend: cpu (pure JavaScript, slow)');
  assert.match(choose({ GLMFLOW_BACKEND: 'wasm' }), /^backend: wasm/);
  assert.match(choose({ GLMFLOW_BACKEND: 'gpu' }), /error: unknown backend "gpu"/);
});
