// Picks the tfjs backend once per process: native TensorFlow when its package loads, else
// WebGPU on a hardware adapter, else wasm (the tested default), else the pure-JS cpu backend.
// A software WebGPU adapter (Mesa's lavapipe) is used only when webgpu is asked for by name:
// it is correct but no faster than wasm.
// Override with GLMFLOW_BACKEND=tensorflow|webgpu|wasm|cpu or the `requested` argument (CLI --backend).
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { enableWasmKernels } from './kernels/kernels.ts';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GlmflowError } from '../engine/errors.ts';
import { type AdapterSummary, useWebgpu } from './webgpu.ts';

export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  readonly name: BackendName;
  /** One line for logs, e.g. `backend: wasm (SIMD, 1 thread)`. */
  readonly description: string;
  /** On webgpu: the adapter (vendor, architecture, limits). */
  readonly adapter?: AdapterSummary;
}

/** What a model stage records of the backend it ran on (provenance). */
export function backendRecord(b: BackendInfo): { name: BackendName; adapter?: { vendor: string; architecture: string; device: string } } {
  return { name: b.name, ...(b.adapter ? { adapter: { vendor: b.adapter.vendor, architecture: b.adapter.architecture, device: b.adapter.device } } : {}) };
}

/** A short label: the backend's name, and on webgpu its adapter (`webgpu (nvidia ampere)`). */
export function backendLabel(b: BackendInfo): string {
  return b.adapter ? `${b.name} (${b.adapter.vendor} ${b.adapter.architecture})` : b.name;
}

function describeAdapter(a: AdapterSummary): string {
  const mib = (n: number) => `${Math.round(n / 1024 ** 2)} MiB`;
  return `backend: webgpu (${a.vendor} ${a.architecture}${a.software && a.architecture !== 'software' ? ' (software)' : ''}: ${a.description || a.device}; max binding ${mib(a.maxStorageBufferBindingSize)}, max buffer ${mib(a.maxBufferSize)})`;
}

let chosen: BackendInfo | undefined;

function parseName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new GlmflowError(`unknown backend "${value}" (from ${source})`, `use one of: ${BACKEND_NAMES.join(', ')}`);
}

/** tfjs-node(-gpu) registers the 'tensorflow' backend on import; neither can be installed everywhere. */
async function importNative(): Promise<string | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return pkg;
    } catch {
      // absent or failed to load its native library: try the next one
    }
  }
  return undefined;
}

async function useWasm(): Promise<BackendInfo> {
  // Node cannot fetch the .wasm binaries by URL: point tfjs at the files in node_modules.
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(dist + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new GlmflowError('the wasm backend failed to initialise');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = getThreadsCount();
  const fused = enableWasmKernels() ? ', fused multiply-add products' : '';
  return { name: 'wasm', description: `backend: wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${fused})` };
}

/**
 * Selects and initialises the backend; later calls return the first choice (tfjs has one
 * global backend, and switching it would strand tensors already created).
 */
export async function selectBackend(requested?: BackendName): Promise<BackendInfo> {
  if (chosen) return chosen;
  const env = process.env['GLMFLOW_BACKEND'];
  const name = requested ?? (env ? parseName(env, 'GLMFLOW_BACKEND') : undefined);
  if (name === undefined || name === 'tensorflow') {
    const pkg = await importNative();
    if (pkg && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      chosen = { name: 'tensorflow', description: `backend: tensorflow (${pkg})` };
    } else if (name === 'tensorflow') {
      throw new GlmflowError(
        'backend "tensorflow" requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node could be loaded',
        'install one of them (they need libtensorflow, downloaded at install time), or use --backend wasm',
      );
    }
  }
  if (!chosen && (name === undefined || name === 'webgpu')) {
    const adapter = await useWebgpu(name === 'webgpu');
    if (adapter) chosen = { name: 'webgpu', description: describeAdapter(adapter), adapter };
    else if (name === 'webgpu') {
      throw new GlmflowError(
        'backend "webgpu" requested but no WebGPU adapter was found (the optional package "webgpu" is missing, or no Vulkan driver offers an adapter)',
        'install a Vulkan driver (GPU vendor driver; on Debian 12 for the CPU: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1), check `npm ls webgpu`, or use --backend wasm',
      );
    }
  }
  if (!chosen && name !== 'cpu') chosen = await useWasm();
  if (!chosen) {
    await tf.setBackend('cpu');
    await tf.ready();
    chosen = { name: 'cpu', description: 'backend: cpu (pure JavaScript, slow)' };
  }
  return chosen;
}

/** The backend chosen by selectBackend, if it ran. */
export function currentBackend(): BackendInfo | undefined {
  return chosen;
}
