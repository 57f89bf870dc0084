// tfjs on WebGPU in Node: Dawn's Node bindings (npm `webgpu`, an optional dependency) under
// @tensorflow/tfjs-backend-webgpu. Vulkan drivers on Linux (NVIDIA, AMD, Intel, or Mesa's
// lavapipe on the CPU) serve it; nothing is downloaded outside npm.
//
// Set-up order matters: the tfjs backend registers itself on import only when navigator.gpu
// exists, and then asks for the adapter's default limits (128 MiB bindings on lavapipe, whatever
// the hardware offers). It is imported before navigator.gpu is set, and registered here with a
// device that has the adapter's maximum limits and turns Dawn's uncaptured errors (which Dawn
// only prints, leaving wrong values behind) into exceptions at the next read-back.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';

/** What the adapter is and the limits the model code must respect. */
export interface AdapterSummary {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software rasteriser (lavapipe, SwiftShader): correct, CPU-speed. */
  readonly software: boolean;
  /** Largest buffer one shader may bind (bytes): no tensor may be larger. */
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
}

/** Limits asked at their adapter maximum (tfjs's own registration asks for these too, at defaults otherwise). */
const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
] as const;

let adapterInUse: AdapterSummary | undefined;
let deviceError: string | undefined;

/** The adapter the webgpu backend runs on, once initialised. */
export function webgpuAdapter(): AdapterSummary | undefined {
  return adapterInUse;
}

/** Throws the first error the device reported since the last check (a validation or out-of-memory error). */
export function throwDeviceError(): void {
  if (deviceError === undefined) return;
  const message = deviceError;
  deviceError = undefined;
  throw new GlmflowError(
    `the GPU rejected a command, so results computed since are wrong: ${message}`,
    'a tensor over the device limit (maxStorageBufferBindingSize) or GPU memory ran out: use a smaller batch or shorter sequences, or --backend wasm',
  );
}

// The few WebGPU shapes used here, written out so the code type-checks where the optional package is absent.
interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}
interface Device {
  readonly limits: Readonly<Record<string, number>>;
  addEventListener(type: 'uncapturederror', listener: (event: { error: { message: string } }) => void): void;
}
interface Adapter {
  readonly info: AdapterInfo;
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor: { requiredLimits: Record<string, number> }): Promise<Device>;
}
interface Gpu {
  requestAdapter(options: { powerPreference: 'high-performance' }): Promise<Adapter | null>;
}
type DawnModule = { create(flags: string[]): Gpu; globals: object };

async function importDawn(): Promise<DawnModule | undefined> {
  try {
    return (await import('webgpu')) as unknown as DawnModule;
  } catch {
    return undefined; // the optional dependency is absent, or its binary does not load on this platform
  }
}

/**
 * Initialises tfjs's webgpu backend on the first adapter Dawn offers. Returns undefined (and
 * changes nothing) when there is no adapter, or only a software one and `allowSoftware` is false.
 */
export async function useWebgpu(allowSoftware: boolean): Promise<AdapterSummary | undefined> {
  const dawn = await importDawn();
  if (!dawn) return undefined;
  // Imported while navigator.gpu is still unset, so the backend does not register its own factory.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return undefined;
  const info = adapter.info;
  const software = info.isFallbackAdapter === true || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(info.description);
  if (software && !allowSoftware) return undefined;
  const requiredLimits = Object.fromEntries(LIMITS.flatMap((name) => (adapter.limits[name] === undefined ? [] : [[name, adapter.limits[name]]])));
  const device = await adapter.requestDevice({ requiredLimits });
  device.addEventListener('uncapturederror', (event) => {
    deviceError ??= event.error.message.split('\n')[0];
  });
  // The backend checks navigator.gpu when it is constructed; Node 20 has no navigator, newer Node one without gpu.
  const existing = (globalThis as { navigator?: object }).navigator;
  Object.defineProperty(globalThis, 'navigator', { value: { ...existing, gpu }, configurable: true, writable: true });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => {
    const backend = new WebGPUBackend(device as never, info as never);
    // Every value that reaches JavaScript comes through read(): refuse it if the device failed meanwhile.
    const read = backend.read.bind(backend);
    backend.read = async (dataId) => {
      const values = await read(dataId);
      throwDeviceError();
      return values;
    };
    return backend;
  });
  if (!(await tf.setBackend('webgpu'))) throw new GlmflowError(`the webgpu backend failed to initialise on ${info.vendor} ${info.architecture}`);
  await tf.ready();
  adapterInUse = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software,
    maxStorageBufferBindingSize: device.limits['maxStorageBufferBindingSize']!,
    maxBufferSize: device.limits['maxBufferSize']!,
  };
  return adapterInUse;
}

/** The largest tensor (bytes) the current backend can hold in one piece: the binding limit on webgpu. */
export function maxTensorBytes(): number {
  return tf.getBackend() === 'webgpu' && adapterInUse ? adapterInUse.maxStorageBufferBindingSize : Infinity;
}
