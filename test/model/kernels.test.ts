// glmflow's wasm kernels (model/kernels): the committed binary is its source compiled; the
// fused-multiply-add product equals tfjs's own on every tile shape it has (rows left over from
// the 6-row tiles, several k blocks, several panel passes) and row maxima equal tfjs's; each is
// the kernel actually run, shapes they do not cover go to tfjs, and nothing is left allocated.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../model/backend.ts';
import { compileKernel, KERNEL_FILE } from '../../model/kernels/build.ts';
import { matMul, rowMax } from '../../model/kernels/kernels.ts';
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

test('kernels.wasm is source.ts compiled (npm run build:kernels)', async () => {
  assert.deepEqual(new Uint8Array(readFileSync(KERNEL_FILE)), await compileKernel());
});

test('the fused product is on for wasm here and equals tfjs product for every tile shape', async () => {
  assert.match(backend.description, /fused multiply-add products/);
  const rng = new Rng(3);
  // rows 32..37 reach every tile height (6 and a rest of 0..5); 192, 195 and 773 rows end a block
  // of 32 tiles exactly, with a rest after it, and after several blocks; k 600 is three k blocks,
  // the last partial; n 8*70 is three passes of 32 panels, the last partial
  const shapes: [number, number, number][] = [[32, 8, 8], [33, 600, 560], [34, 1, 16], [35, 256, 264], [36, 257, 8], [37, 33, 40], [192, 40, 16], [195, 40, 16], [773, 300, 24], [768, 256, 4096]];
  // each operand also stored transposed, as the gradients of a product pass them
  for (const [m, k, n] of shapes) {
    for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = random(transposeA ? [k, m] : [m, k], rng);
      const b = random(transposeB ? [n, k] : [k, n], rng);
      const ours = matMul(a, b, transposeA, transposeB);
      const theirs = tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b));
      assert.deepEqual(ours.shape, [m, n]);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!);
      // sums of k products of numbers in [-1, 1]; a fused multiply-add rounds once where tfjs rounds twice
      assert.ok(diff <= 1e-6 * Math.sqrt(k) * 4, `${m}x${k} @ ${k}x${n} (transposed: a ${transposeA}, b ${transposeB}): max abs diff ${diff}`);
      tf.dispose([a, b, ours, theirs]);
    }
  }
});

test('the fused kernel is the product that runs, transposed operands included; fewer than 32 rows or a width not a multiple of 8 go to tfjs', async () => {
  const rng = new Rng(4);
  // tfjs's wasm product is ~10x slower on transposed operands: those are transposed first
  const cases: [[number, number], [number, number], boolean, string[]][] = [
    [[64, 32], [32, 48], false, ['GlmflowMatMul']],
    [[64, 32], [48, 32], true, ['GlmflowMatMul']],
    [[31, 32], [32, 48], false, ['BatchMatMul']],
    [[64, 32], [32, 44], false, ['BatchMatMul']],
    [[64, 32], [44, 32], true, ['Transpose', 'BatchMatMul']],
  ];
  for (const [aShape, bShape, transposeB, kernels] of cases) {
    const a = random(aShape, rng);
    const b = random(bShape, rng);
    const names = await kernelsOf(() => matMul(a, b, false, transposeB));
    assert.deepEqual(names, kernels, `${aShape} @ ${bShape}${transposeB ? 'ᵀ' : ''}`);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(matMul(a, b, false, transposeB), tf.matMul(a, b, false, transposeB)))).dataSync()[0]!);
    assert.ok(diff < 1e-5, `${aShape} @ ${bShape}: ${diff}`);
    tf.dispose([a, b]);
  }
});

test('row maxima equal tfjs\'s, negative rows and infinities included; other widths go to tfjs', async () => {
  const rng = new Rng(6);
  for (const [rows, cols] of [[1, 16], [7, 48], [768, 4096]] as const) {
    const x = tf.tidy(() => tf.sub(tf.mul(random([rows, cols], rng), 50), 60) as tf.Tensor2D);
    const ours = rowMax(x);
    assert.deepEqual(Array.from(ours.dataSync()), Array.from(tf.max(x, 1).dataSync()), `${rows}x${cols}`);
    tf.dispose([x, ours]);
  }
  const special = tf.tensor2d([[-Infinity, ...new Array<number>(15).fill(-1e30), 3, ...new Array<number>(15).fill(-Infinity)], [...new Array<number>(31).fill(-Infinity), Infinity]]);
  assert.deepEqual(Array.from(rowMax(special).dataSync()), [3, Infinity]);
  assert.deepEqual(await kernelsOf(() => rowMax(special)), ['GlmflowRowMax']);
  const narrow = random([4, 20], rng);
  assert.deepEqual(await kernelsOf(() => rowMax(narrow)), ['Max']);
  tf.dispose([special, narrow]);
});

test('kernels leave no tensor and no heap behind', async () => {
  const rng = new Rng(5);
  const a = random([200, 300], rng);
  const b = random([300, 512], rng);
  const run = () => tf.tidy(() => void [matMul(a, b).dataSync(), rowMax(b).dataSync()]);
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
