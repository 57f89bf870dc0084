// Compiles source.ts to kernels.wasm (`npm run build:kernels`). The binary is committed so that
// nothing is compiled at run time; test/model/kernels.test.ts checks it matches its source.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';
import { kernelSource } from './source.ts';

export const KERNEL_FILE = fileURLToPath(new URL('./kernels.wasm', import.meta.url));

export async function compileKernel(): Promise<Uint8Array> {
  const module = (await wabt()).parseWat('kernels.wat', kernelSource(), { simd: true, relaxed_simd: true });
  try {
    module.validate();
    return module.toBinary({ canonicalize_lebs: true }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await compileKernel();
  writeFileSync(KERNEL_FILE, bytes);
  console.log(`wrote ${KERNEL_FILE} (${bytes.length} bytes)`);
}
