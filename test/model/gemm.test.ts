// The fused-multiply-add product of the wasm backend (model/gemm): its committed binary is its
// source compiled, it equals tfjs's own product on every tile shape it has (rows left over from
// the 6-row tiles, several k blocks, several panel passes), it is the product actually run, it
// leaves shapes it does not cover to tfjs, and it frees what it allocates.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../model/backend.ts';
import { compileKernel, KERNEL_FILE } from '../../model/gemm/build.ts';
import { matMul } from '../../model/gemm/gemm.ts';
import { Rng } from '../../model/random.ts';

const backend = await selectBackend('wasm');

function random(shape: [number, number], rng: Rng): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from({ length: shape[0] * shape[1] }, () => rng.next() * 2 - 1), shape);
}

/** The kernels that ran while `work` did. */
async function kernelsOf(work: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => work());
  return info.kernels.map((k) => k.name);
}

test('kernel.wasm is kernel-source.ts compiled (npm run build:gemm)', async () => {
  assert.deepEqual(new Uint8Array(readFileSync(KERNEL_FILE)), await compileKernel());
});

test('the fused product is on for wasm here and equals tfjs product for every tile shape', async () => {
  assert.match(backend.description, /fused multiply-add products/);
  const rng = new Rng(3);
  // rows 32..37 reach every tile height (6 and a rest of 0..5); k 600 is three k blocks, the last
  // partial; n 8*70 is three passes of 32 panels, the last partial
  const shapes: [number, number, number][] = [[32, 8, 8], [33, 600, 560], [34, 1, 16], [35, 256, 264], [36, 257, 8], [37, 33, 40], [768, 256, 4096]];
  for (const [m, k, n] of shapes) {
    const a = random([m, k], rng);
    const b = random([k, n], rng);
    const ours = matMul(a, b);
    const theirs = tf.matMul(a, b);
    const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!;
    // sums of k products of numbers in [-1, 1]; a fused multiply-add rounds once where tfjs rounds twice
    assert.ok(diff <= 1e-6 * Math.sqrt(k) * 4, `${m}x${k} @ ${k}x${n}: max abs diff ${diff}`);
    tf.dispose([a, b, ours, theirs]);
  }
});

test('the fused kernel is the product that runs; fewer than 32 rows or a width not a multiple of 8 go to tfjs', async () => {
  const rng = new Rng(4);
  const cases: [[number, number], [number, number], string][] = [
    [[64, 32], [32, 48], 'GlmflowMatMul'],
    [[31, 32], [32, 48], 'BatchMatMul'],
    [[64, 32], [32, 44], 'BatchMatMul'],
  ];
  for (const [aShape, bShape, kernel] of cases) {
    const a = random(aShape, rng);
    const b = random(bShape, rng);
    const names = await kernelsOf(() => matMul(a, b));
    assert.deepEqual(names, [kernel], `${aShape} @ ${bShape}`);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(matMul(a, b), tf.matMul(a, b)))).dataSync()[0]!);
    assert.ok(diff < 1e-5, `${aShape} @ ${bShape}: ${diff}`);
    tf.dispose([a, b]);
  }
});

test('products leave no tensor and no heap behind', async () => {
  const rng = new Rng(5);
  const a = random([200, 300], rng);
  const b = random([300, 512], rng);
  const run = () => tf.tidy(() => void matMul(a, b).dataSync());
  run();
  const before = tf.memory();
  // the wasm heap only grows; a leak of the packed copy (600 KB a call) would show within 50 calls
  const heapBefore = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  for (let i = 0; i < 50; i++) run();
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numBytes, before.numBytes);
  assert.equal((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length, heapBefore);
  tf.dispose([a, b]);
});
