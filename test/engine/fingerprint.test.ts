// What each real stage's key covers: shared code is in shared folders, and a
// stage's key holds its own helpers and the shared modules it really uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileHasher } from '../../engine/files.ts';
import { fingerprint } from '../../engine/fingerprint.ts';
import { baseStage } from '../../stages/base.ts';
import { generateStage } from '../../stages/generate.ts';
import { trainStage } from '../../stages/train.ts';

const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const sources = (module: string): string[] => Object.keys(fingerprint(fileURLToPath(module), REPO, new FileHasher(new Map())));

test('editing sampling code leaves base and train fresh: neither key holds model/sampling.ts, nor another stage\'s helpers', () => {
  for (const stage of [baseStage, trainStage]) {
    const files = sources(stage.module);
    assert.ok(files.includes('model/glm.ts'), `${stage.name} uses the model`);
    assert.ok(!files.includes('model/sampling.ts') && !files.includes('model/generate.ts'), `${stage.name}'s key holds decoding code: ${files.join(', ')}`);
    const foreign = files.filter((f) => f.startsWith('stages/') && f !== `stages/${stage.name}.ts` && !f.startsWith(`stages/${stage.name}/`));
    assert.deepEqual(foreign, [], `${stage.name}'s key holds other stages' code`);
  }
  // Generation does decode: its key follows the sampling code.
  assert.ok(sources(generateStage.module).includes('model/sampling.ts'));
});

test('no stage\'s key holds another stage\'s helpers, and the chat command uses none: shared code lives in shared folders', async () => {
  const { pipeline } = await import('../../pipeline.ts');
  for (const name of pipeline.names) {
    const files = sources(pipeline.node(name).def.module);
    const foreign = files.filter((f) => f.startsWith('stages/') && f !== `stages/${name}.ts` && !f.startsWith(`stages/${name}/`));
    assert.deepEqual(foreign, [], `${name}'s key holds other stages' code`);
  }
  const chat = sources(new URL('../../chat/cli.ts', import.meta.url).href);
  assert.deepEqual(chat.filter((f) => f.startsWith('stages/')), [], 'chat imports code from a stage folder');
});
