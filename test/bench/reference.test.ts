// The benches' same-run references: they must do the same work as glmflow's side, and
// PyTorch must run with the environment BENCHMARKS.md's figures were measured in.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { PYTHON, pythonHas, runSentencePieceBench, torchEnv } from '../../bench/reference/python.ts';
import { loadChatGLM3Tokenizer } from '../../tokenizer/chatglm3.ts';
import { sharedPath } from '../shared.ts';

function needsPython(t: TestContext, module: string): boolean {
  if (pythonHas(module)) return true;
  const message = `${PYTHON} cannot import ${module}`;
  if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true, so this is a failure, not a skip)`);
  console.warn(`NOTICE: skipping "${t.name}": ${message}`);
  t.skip(message);
  return false;
}

test('the PyTorch reference runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, the rest of the environment kept', (t) => {
  const env = torchEnv({ OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '524288', OPENBLAS_NUM_THREADS: '2', PATH: '/usr/bin' });
  assert.deepEqual(env, { OPENBLAS_NUM_THREADS: '2', PATH: '/usr/bin' });
  if (!needsPython(t, 'os')) return;
  const seen = spawnSync(PYTHON, ['-c', 'import os, json; print(json.dumps([os.environ.get("OPENBLAS_CORETYPE"), os.environ.get("OPENBLAS_L2_SIZE")]))'], { env: torchEnv({ ...process.env, OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '1' }), encoding: 'utf8' });
  assert.deepEqual(JSON.parse(seen.stdout), [null, null]);
});

test('the SentencePiece reference encodes the same messages into as many tokens as glmflow', (t) => {
  const model = sharedPath(t, 'chatglm3/tokenizer.model');
  const data = sharedPath(t, 'data/ecommerce-cs/conversations.expected.jsonl');
  if (!model || !data || !needsPython(t, 'sentencepiece')) return;
  const tokenizer = loadChatGLM3Tokenizer(model);
  const ours = readFileSync(data, 'utf8').split('\n').filter(Boolean)
    .flatMap((line) => (JSON.parse(line) as { conversations: { content: string }[] }).conversations)
    .reduce((n, m) => n + tokenizer.encode(m.content).length, 0);
  const reference = runSentencePieceBench(model, data, 1);
  assert.equal(reference.tokens, ours);
  assert.ok(reference.tokensPerSecond > 0);
});
