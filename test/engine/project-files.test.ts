// File patterns belong to the project folder, not to wherever the command was started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expandPatterns } from '../../engine/files.ts';
import { tokenizeStage } from '../../stages/tokenize.ts';

test('a relative tokenizer folder is looked up in the project (--project), and names its tokenizer.model, not the first file of the folder', () => {
  const project = mkdtempSync(path.join(tmpdir(), 'glmflow-project-'));
  mkdirSync(path.join(project, 'chatglm3'));
  // Sorted, config.json and the weights come before tokenizer.model.
  for (const name of ['config.json', 'model.safetensors', 'tokenizer.model']) writeFileSync(path.join(project, 'chatglm3', name), name);
  assert.notEqual(process.cwd(), project);
  const pattern = tokenizeStage.files!(tokenizeStage.params.parse({ tokenizer: 'chatglm3' }), project).tokenizer;
  assert.deepEqual(expandPatterns(project, pattern, 'tokenize files.tokenizer'), [path.join(project, 'chatglm3', 'tokenizer.model')]);
});
