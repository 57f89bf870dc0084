// Writes the seeded ChatGLM3-6B-width checkpoint (bench/wide.ts):
//   npx tsx bench/wide-checkpoint.ts <dir> [layers=2] [seed=0]
import { writeWideCheckpoint } from './wide.ts';

const [dir, layers = '2', seed = '0'] = process.argv.slice(2);
if (!dir) throw new Error('usage: npx tsx bench/wide-checkpoint.ts <dir> [layers=2] [seed=0]');
const started = performance.now();
const r = writeWideCheckpoint(dir, Number(layers), Number(seed));
process.stdout.write(JSON.stringify({ dir, layers: Number(layers), bytes: r.bytes, shards: r.files, seconds: (performance.now() - started) / 1000 }) + '\n');
