// Backend choice: wasm by default here (tfjs-node-gpu cannot install; lavapipe is a software
// WebGPU adapter, used only when asked), GLMFLOW_BACKEND overrides, an unknown name is a clear
// error. Each case runs in a fresh process: tfjs has one global backend.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

/** Mesa's lavapipe ICD: CI installs it (bookworm-backports); without it webgpu has no adapter here. */
const LAVAPIPE = '/usr/share/vulkan/icd.d/lvp_icd.json';

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
  // a software adapter is never chosen automatically: on a machine with only lavapipe this stays wasm
  assert.match(auto, /^backend: (tensorflow|webgpu \((?!mesa software)|wasm \((no )?SIMD, \d+ threads?(, fused multiply-add products)?\))/);
  console.log(auto);
  assert.equal(choose({ GLMFLOW_BACKEND: 'cpu' }), 'backend: cpu (pure JavaScript, slow)');
  assert.match(choose({ GLMFLOW_BACKEND: 'wasm' }), /^backend: wasm/);
  assert.match(choose({ GLMFLOW_BACKEND: 'gpu' }), /error: unknown backend "gpu"/);
});

test('backend: webgpu by name runs on a software adapter and names it with its limits; without an adapter it says what to install', (t) => {
  const none = choose({ GLMFLOW_BACKEND: 'webgpu', VK_ICD_FILENAMES: '/nonexistent/icd.json' });
  assert.match(none, /error: backend "webgpu" requested but no WebGPU adapter was found/);
  if (!existsSync(LAVAPIPE)) {
    if (process.env['CI'] === 'true') assert.fail(`${LAVAPIPE} is missing: .ci/run installs mesa-vulkan-drivers from bookworm-backports`);
    t.diagnostic(`skipped the lavapipe case: ${LAVAPIPE} is absent (apt-get install -t bookworm-backports mesa-vulkan-drivers)`);
    return;
  }
  const forced = choose({ GLMFLOW_BACKEND: 'webgpu', VK_ICD_FILENAMES: LAVAPIPE });
  console.log(forced);
  assert.match(forced, /^backend: webgpu \(mesa software: llvmpipe.*; max binding \d+ MiB, max buffer \d+ MiB\)$/);
});
