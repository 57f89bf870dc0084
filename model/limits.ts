// Device limits on tensor size. On webgpu no shader may bind a buffer larger than the adapter's
// maxStorageBufferBindingSize (128 MiB on lavapipe, 1-4 GiB on most GPUs); past it Dawn reports
// a validation error and the kernel leaves wrong values. Weights above the limit are stored as
// row blocks; a tensor that still cannot fit is refused here, by name, before anything runs.
import { GlmflowError } from '../engine/errors.ts';
import { maxTensorBytes } from './webgpu.ts';

const F32 = 4;

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Throws when a float32 tensor of `shape` cannot be bound on this device. */
export function checkTensorFits(name: string, shape: readonly number[], hint: string): void {
  const bytes = shape.reduce((a, b) => a * b, F32);
  const limit = maxTensorBytes();
  if (bytes > limit)
    throw new GlmflowError(`${name} [${shape.join(', ')}] needs ${mib(bytes)}, over this device's limit of ${mib(limit)} for one tensor (maxStorageBufferBindingSize)`, hint);
}

/**
 * Sizes of consecutive row blocks of a [rows, cols] float32 weight, each within the device's
 * binding limit (one block where it fits, which is always the case off webgpu).
 */
export function rowBlocks(name: string, rows: number, cols: number, maxRows = rows): number[] {
  const limit = maxTensorBytes();
  checkTensorFits(`one row of ${name}`, [cols], 'this weight cannot be split finer than a row: use a GPU with a larger binding limit, or --backend wasm');
  const per = Math.min(maxRows, Math.floor(limit / (cols * F32)));
  return Array.from({ length: Math.ceil(rows / per) }, (_, j) => Math.min(per, rows - j * per));
}
