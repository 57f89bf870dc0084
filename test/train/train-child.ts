// Run as a separate process by the resume test, so that it can be killed with SIGKILL:
//   node --import tsx test/train/train-child.ts <checkpoint dir> <result.json> [every-step]
// every-step: a checkpoint after every step, none rotated away (for the kill-during-save test).
import { writeFileSync } from 'node:fs';
import { Checkpoints } from '../../train/checkpoint.ts';
import { train } from '../../train/trainer.ts';
import { KILL_TEST_OPTIONS, killTestData, options, silentHooks, tinyModel } from './tiny.ts';

const [dir, out, mode] = process.argv.slice(2) as [string, string, string | undefined];
const model = await tinyModel();
const opts = mode === 'every-step' ? options({ max_steps: 400, save_steps: 1, eval_steps: 1000, save_total_limit: 0 }) : KILL_TEST_OPTIONS;
const result = await train(model, killTestData(), opts, new Checkpoints(dir), silentHooks);
writeFileSync(out, JSON.stringify(result));
