// Device limits on webgpu (lavapipe binds at most 128 MiB per tensor): an embedding over the
// limit is stored in row blocks and gives wasm's logits; a tensor that cannot fit is refused by
// name; Dawn's validation errors become exceptions instead of silently wrong values.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./limits-child.ts', import.meta.url));
const LAVAPIPE = '/usr/share/vulkan/icd.d/lvp_icd.json';

interface Report {
  backend: string;
  values: number[];
  loss: number;
  trainLoss: number;
  gradNorm: number;
  tooLarge: string;
  deviceError?: string;
}

function run(backend: string): Report {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'glmflow-limits-')), 'report.json');
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, out], { env: { ...process.env, GLMFLOW_BACKEND: backend, VK_ICD_FILENAMES: LAVAPIPE }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(out, 'utf8')) as Report;
}

test('webgpu on lavapipe: an embedding over the 128 MiB binding limit gives the same logits, loss and gradient as wasm; oversized tensors are refused or raise', (t) => {
  if (!existsSync(LAVAPIPE)) {
    if (process.env['CI'] === 'true') assert.fail(`${LAVAPIPE} is missing: .ci/run installs mesa-vulkan-drivers from bookworm-backports`);
    t.diagnostic(`skipped: ${LAVAPIPE} is absent (apt-get install -t bookworm-backports mesa-vulkan-drivers)`);
    return;
  }
  const gpu = run('webgpu');
  const cpu = run('wasm');
  assert.equal(gpu.backend, 'webgpu');
  assert.equal(cpu.backend, 'wasm');
  assert.equal(gpu.values.length, 8 * 65024);
  let max = 0;
  for (let i = 0; i < cpu.values.length; i++) max = Math.max(max, Math.abs(gpu.values[i]! - cpu.values[i]!));
  console.log(`logits max abs diff webgpu vs wasm: ${max.toExponential(2)}; loss ${gpu.loss} vs ${cpu.loss}; grad norm ${gpu.gradNorm} vs ${cpu.gradNorm}`);
  assert.ok(max <= 1e-4, `logits differ by ${max}`);
  assert.ok(Math.abs(gpu.loss - cpu.loss) <= 1e-5 * cpu.loss);
  assert.ok(Math.abs(gpu.trainLoss - cpu.loss) <= 1e-5 * cpu.loss);
  assert.ok(Math.abs(gpu.gradNorm - cpu.gradNorm) <= 1e-4 * cpu.gradNorm);
  assert.match(gpu.tooLarge, /^logits \[1, 600, 65024\] needs 148\.8 MiB, over this device's limit of 128\.0 MiB for one tensor \(maxStorageBufferBindingSize\)/);
  assert.equal(cpu.tooLarge, 'no error', 'wasm has no per-tensor binding limit');
  assert.match(gpu.deviceError ?? '', /the GPU rejected a command, so results computed since are wrong: .*maximum storage buffer binding size/);
});
