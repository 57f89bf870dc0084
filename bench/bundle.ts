// Packs the GPU bench for a host with a GPU and a Vulkan driver (or CUDA) but no Node, npm or
// network: one self-extracting shell script holding an xz-compressed tar of this Node binary, the
// bench bundled into one file by esbuild, Dawn's binary for the host platform, and the .wasm files of tfjs's and glmflow's wasm kernels
// (the fallback when no GPU is found). The host needs sh, tar and xz.
//   npx tsx bench/bundle.ts [out=glmflow-gpu-bench.sh]      then, on the GPU host: sh glmflow-gpu-bench.sh
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const LIMIT = 64 * 1024 ** 2;
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const out = path.resolve(process.argv[2] ?? 'glmflow-gpu-bench.sh');
const stage = mkdtempSync(path.join(tmpdir(), 'glmflow-bundle-'));
try {
  // The bench and everything it imports, in one ES module; the packages with native or binary
  // files stay outside and are copied beside it as node_modules.
  await build({
    entryPoints: [path.join(root, 'bench/gpu.bench.ts')],
    outfile: path.join(stage, 'gpu-bench.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    external: ['webgpu', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
    // bundled CommonJS calls require() for Node built-ins, and wasm's loader reads __dirname
    banner: {
      js: "import { createRequire as __glmflowRequire } from 'node:module'; import { fileURLToPath as __glmflowPath } from 'node:url'; import { dirname as __glmflowDir } from 'node:path'; const require = __glmflowRequire(import.meta.url); const __filename = __glmflowPath(import.meta.url); const __dirname = __glmflowDir(__filename);",
    },
    logLevel: 'warning',
  });
  const copy = (from: string, to: string) => {
    mkdirSync(path.dirname(path.join(stage, to)), { recursive: true });
    copyFileSync(from, path.join(stage, to));
  };
  const webgpu = path.dirname(require.resolve('webgpu/package.json'));
  const platform = `${process.platform}-${process.arch}`;
  copy(path.join(webgpu, 'package.json'), 'node_modules/webgpu/package.json');
  copy(path.join(webgpu, 'index.js'), 'node_modules/webgpu/index.js');
  copy(path.join(webgpu, 'dist', platform, 'dawn.node'), `node_modules/webgpu/dist/${platform}/dawn.node`);
  const wasm = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  copy(path.join(wasm, 'package.json'), 'node_modules/@tensorflow/tfjs-backend-wasm/package.json');
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'])
    copy(path.join(wasm, 'dist', f), `node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`);
  // model/kernels reads its binary beside the module that imports it: here, the bundle
  copy(path.join(root, 'model/kernels/kernels.wasm'), 'kernels.wasm');
  copy(process.execPath, 'node');
  chmodSync(path.join(stage, 'node'), 0o755);
  writeFileSync(path.join(stage, 'package.json'), '{"type":"module"}\n');

  const payload = path.join(stage, '..', `${path.basename(stage)}.tar.xz`);
  execFileSync('tar', ['-cJf', payload, '-C', stage, '.'], { env: { ...process.env, XZ_OPT: '-6 -T0' } });
  const header = [
    '#!/bin/sh',
    '# glmflow GPU bench: extracts Node and the bench to a temporary folder and runs it (needs sh, tar, xz).',
    'set -e',
    'dir=$(mktemp -d)',
    "trap 'rm -rf \"$dir\"' EXIT",
    "sed '1,/^__PAYLOAD__$/d' \"$0\" | tar -xJ -C \"$dir\"",
    '"$dir/node" "$dir/gpu-bench.mjs" "$@"',
    'exit $?',
    '__PAYLOAD__',
    '',
  ].join('\n');
  writeFileSync(out, Buffer.concat([Buffer.from(header), readFileSync(payload)]));
  chmodSync(out, 0o755);
  rmSync(payload);
  const size = statSync(out).size;
  process.stdout.write(JSON.stringify({ bundle: out, bytes: size, mib: Number((size / 1024 ** 2).toFixed(1)), underLimit: size < LIMIT }) + '\n');
  if (size >= LIMIT) process.exitCode = 1;
} finally {
  rmSync(stage, { recursive: true, force: true });
}
