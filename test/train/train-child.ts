// Run as a separate process by the resume test, so that it can be killed with SIGKILL:
//   node --import tsx test/train/train-child.ts <checkpoint dir> <result.json>
import { writeFileSync } from 'node:fs';
import { Checkpoints } from '../../train/checkpoint.ts';
import { train } from '../../train/trainer.ts';
import { KILL_TEST_OPTIONS, killTestData, silentHooks, tinyModel } from './tiny.ts';

const [dir, out] = process.argv.slice(2) as [string, string];
const model = await tinyModel();
const result = await train(model, killTestData(), KILL_TEST_OPTIONS, new Checkpoints(dir), silentHooks);
writeFileSync(out, JSON.stringify(result));
