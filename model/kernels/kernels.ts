// glmflow's own kernels for the wasm backend: matrix products with fused multiply-adds, and row
// maxima. tfjs's wasm backend multiplies through XNNPACK built for baseline SIMD (a multiply and
// an add per lane): about 31 GFLOPS on one core here, and a training step is ~85% products. WebAssembly's relaxed SIMD has a fused
// multiply-add; the kernels of source.ts use it and measured 35-40 GFLOPS on the same shapes.
// tfjs's Max reduces one float at a time, and the loss takes two row maxima of every
// vocabulary block; rowMax reads four vectors at a time. Node 20 has relaxed SIMD behind a V8
// flag (on by default from Node 22), which is turned on here before the kernels are compiled;
// where it cannot be, tfjs's kernels are used.
//
// The kernels run in the wasm backend's own memory (they import it), on the tensors in place.
// `GLMFLOW_WASM_KERNELS=tfjs` keeps tfjs's own, to compare the two.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { PANEL, ROW_MAX_STEP, TILE_ROWS } from './source.ts';

const MATMUL = 'GlmflowMatMul';
const ROW_MAX = 'GlmflowRowMax';
const KERNEL_FILE = new URL('./kernels.wasm', import.meta.url);
/**
 * Below this many rows tfjs's product is used: B is packed on every call, and for a few rows
 * (a generated token per sequence) that copy costs more than the product saves. Measured at
 * 256 × 4096: 0.6-0.7× tfjs's time at 6-12 rows, on par at 24, 1.1× and better from 96.
 */
const MIN_ROWS = 32;
/** Steps of k per pass over C: a tile's rows of A (6 × 1 KiB) stay in L1. */
const K_BLOCK = 256;
/** Panels of B per pass over a block of rows: 32 × 256 × 32 bytes = 256 KiB stays in L2. */
const PANELS_PER_PASS = 32;
/**
 * Tiles of A per block of rows: 32 × 6 rows × 256 × 4 bytes = 192 KiB stays in L2 beside the
 * panels. Measured at 768 × 256 × 4096: 37.5 against 34 GFLOPS with all rows in one block, and
 * 36.5-37.8 against 32.4-35 with a second thread doing the same (data-parallel training).
 */
const TILES_PER_BLOCK = 32;

/** The WebAssembly API this needs (the project's types leave out the DOM library, which declares it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** The parts of tfjs's wasm backend the kernel uses. */
interface WasmBackend {
  readonly wasm: { readonly asm: { readonly memory: object }; _malloc(bytes: number): number; _free(pointer: number): void };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** An exported kernel function: it takes byte addresses, sizes and strides. */
type WasmFunction = (...args: number[]) => void;

interface Kernel {
  /** tiles[R - 1] computes tiles of R rows. */
  readonly tiles: readonly ((a: number, aRow: number, aStep: number, b: number, c: number, tiles: number, panels: number, k: number, ldc: number, accumulate: number, bStride: number) => void)[];
  readonly pack: (b: number, ldb: number, k: number, panels: number, out: number) => void;
  readonly packTransposed: (s: number, lds: number, k: number, panels: number, out: number) => void;
  readonly rowMax: (x: number, rows: number, cols: number, out: number) => void;
}

const kernels = new WeakMap<object, Kernel>();
/** The compiled kernels, once enableWasmKernels found relaxed SIMD (read and compiled only on the wasm backend). */
let compiled: object | undefined;

/** One instance per wasm backend (each worker thread has its own). */
function kernelFor(backend: WasmBackend): Kernel {
  let kernel = kernels.get(backend);
  if (!kernel) {
    const instance = new WebAssembly.Instance(compiled!, { env: { memory: backend.wasm.asm.memory } });
    const exports = instance.exports as Record<string, WasmFunction>;
    kernel = { tiles: Array.from({ length: TILE_ROWS }, (_, r) => exports[`tiles${r + 1}`]!), pack: exports['pack']!, packTransposed: exports['packTransposed']!, rowMax: exports['rowMax']! };
    kernels.set(backend, kernel);
  }
  return kernel;
}

/**
 * C = op(A) @ op(B), op transposing where the attribute says (A stored [K, M] or B stored
 * [N, K]), for M >= MIN_ROWS, K >= 1 and N a multiple of PANEL (see `matMul`).
 */
function matMulKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: { transposeA: boolean; transposeB: boolean } }): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [M, K] = (attrs.transposeA ? [a.shape[1], a.shape[0]] : a.shape) as [number, number];
  const N = attrs.transposeB ? b.shape[0]! : b.shape[1]!;
  // bytes from one row of op(A) to the next, and from one k to the next
  const [aRow, aStep] = attrs.transposeA ? [4, M * 4] : [K * 4, 4];
  const kernel = kernelFor(wasm);
  const out = wasm.makeOutput([M, N], 'float32');
  const aAt = wasm.getMemoryOffset(a.dataId);
  const cAt = wasm.getMemoryOffset(out.dataId);
  const panels = N / PANEL;
  const panelBytes = K * PANEL * 4;
  const packed = wasm.wasm._malloc(K * N * 4) >>> 0;
  try {
    if (attrs.transposeB) kernel.packTransposed(wasm.getMemoryOffset(b.dataId), K * 4, K, panels, packed);
    else kernel.pack(wasm.getMemoryOffset(b.dataId), N * 4, K, panels, packed);
    const fullTiles = Math.floor(M / TILE_ROWS);
    const restRows = M % TILE_ROWS;
    for (let k0 = 0; k0 < K; k0 += K_BLOCK) {
      const steps = Math.min(K_BLOCK, K - k0);
      const accumulate = k0 > 0 ? 1 : 0;
      // the full tiles block by block, then the rows left over as one shorter tile
      for (let t0 = 0; t0 <= fullTiles; t0 += TILES_PER_BLOCK) {
        const rest = t0 + TILES_PER_BLOCK > fullTiles && restRows > 0;
        const tiles = Math.min(TILES_PER_BLOCK, fullTiles - t0);
        if (tiles === 0 && !rest) break;
        const row = t0 * TILE_ROWS;
        for (let p0 = 0; p0 < panels; p0 += PANELS_PER_PASS) {
          const count = Math.min(PANELS_PER_PASS, panels - p0);
          const bAt = packed + p0 * panelBytes + k0 * PANEL * 4;
          const cBlock = cAt + p0 * PANEL * 4;
          if (tiles > 0) kernel.tiles[TILE_ROWS - 1]!(aAt + row * aRow + k0 * aStep, aRow, aStep, bAt, cBlock + row * N * 4, tiles, count, steps, N * 4, accumulate, panelBytes);
          if (rest) {
            const last = fullTiles * TILE_ROWS;
            kernel.tiles[restRows - 1]!(aAt + last * aRow + k0 * aStep, aRow, aStep, bAt, cBlock + last * N * 4, 1, count, steps, N * 4, accumulate, panelBytes);
          }
        }
      }
    }
  } finally {
    wasm.wasm._free(packed);
  }
  return out;
}

/** out[r] = max of row r of x [rows, cols], cols a multiple of ROW_MAX_STEP (see `rowMax`). */
function rowMaxKernel({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { x } = inputs as { x: tf.TensorInfo };
  const [rows, cols] = x.shape as [number, number];
  const out = wasm.makeOutput([rows], 'float32');
  kernelFor(wasm).rowMax(wasm.getMemoryOffset(x.dataId), rows, cols, wasm.getMemoryOffset(out.dataId));
  return out;
}

/** Whether relaxed SIMD is (or can be made) available to this process, for these bytes. */
function relaxedSimd(bytes: Uint8Array): boolean {
  if (WebAssembly.validate(bytes)) return true;
  // Node 20: the feature is complete in V8 but behind a flag; it applies to modules compiled after.
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

/**
 * Registers the kernels for the wasm backend (once per thread), unless GLMFLOW_WASM_KERNELS=tfjs
 * or relaxed SIMD is unavailable. Returns whether `matMul` and `rowMax` use them.
 */
export function enableWasmKernels(): boolean {
  compiled = undefined;
  if (process.env['GLMFLOW_WASM_KERNELS'] === 'tfjs') return false;
  const bytes = readFileSync(KERNEL_FILE);
  if (!relaxedSimd(bytes)) return false;
  compiled = new WebAssembly.Module(bytes);
  for (const [kernelName, kernelFunc] of [[MATMUL, matMulKernel], [ROW_MAX, rowMaxKernel]] as const) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  return true;
}

function onWasm(...tensors: tf.Tensor[]): boolean {
  return compiled !== undefined && tf.getBackend() === 'wasm' && tensors.every((t) => t.dtype === 'float32');
}

/** Whether frozen weights are worth keeping in both layouts: on the CPU backends tfjs's transposed product is ~10x slower. */
export function keepsBothLayouts(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/**
 * op(a) [M, K] @ op(b) [K, N], op transposing where asked, as tf.matMul: the fused-multiply-add
 * kernel where it applies, else tfjs's product (on wasm and cpu, with explicit transposes:
 * their transposed products are ~10x slower). No gradient (callers define theirs).
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  const [M, K] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const [bK, N] = transposeB ? [b.shape[1], b.shape[0]] : b.shape;
  if (onWasm(a, b) && M >= MIN_ROWS && K > 0 && K === bK && N > 0 && N % PANEL === 0) return tf.engine().runKernel(MATMUL, { a, b }, { transposeA, transposeB }) as tf.Tensor2D;
  if (!keepsBothLayouts()) return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b));
}

/** The maximum of each row of x [rows, cols]: the kernel where cols is a non-zero multiple of 16, else tfjs's. No gradient. */
export function rowMax(x: tf.Tensor2D): tf.Tensor1D {
  const applies = onWasm(x) && x.shape[1] > 0 && x.shape[1] % ROW_MAX_STEP === 0;
  return applies ? (tf.engine().runKernel(ROW_MAX, { x }) as tf.Tensor1D) : tf.max(x, 1);
}
