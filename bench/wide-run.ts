// Loads a checkpoint written by wide-checkpoint.ts and runs a forward pass, one P-tuning step and
// 8 generated tokens on the selected backend; prints the figures as one JSON line:
//   GLMFLOW_BACKEND=webgpu npx tsx bench/wide-run.ts <dir> [tokens=16]
import { selectBackend } from '../model/backend.ts';
import { runWide } from './wide.ts';

const [dir, tokens = '16'] = process.argv.slice(2);
if (!dir) throw new Error('usage: npx tsx bench/wide-run.ts <dir> [tokens=16]');
const backend = await selectBackend();
process.stderr.write(`${backend.description}\n`);
const f = await runWide(dir, Number(tokens), (line) => process.stderr.write(line + '\n'));
process.stdout.write(JSON.stringify({ backend: backend.description, ...f, peakRssGB: f.peakRssBytes / 1e9, deviceGB: f.deviceBytes / 1e9 }) + '\n');
