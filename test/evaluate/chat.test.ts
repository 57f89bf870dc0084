// The chat command through pipeline.ts with piped stdin, and the session's
// streaming and history.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChatSession } from '../../chat/session.ts';
import { loadModel } from '../../model/load.ts';
import { generate } from '../../model/generate.ts';
import { chatPrompt } from '../../generation/chat-prompt.ts';
import { sharedPath } from '../shared.ts';
import { CHARS, tokenizer, writeEvalFiles } from './fixture.ts';

const PIPELINE = fileURLToPath(new URL('../../pipeline.ts', import.meta.url));

test('chat: the ChatGLM3 prompt layout', () => {
  const ids = chatPrompt(tokenizer, [{ role: 'user', content: CHARS[1]! }]);
  assert.equal(tokenizer.decode(ids), `[gMASK]sop<|user|>\n${CHARS[1]}<|assistant|>`);
});

test('chat: streamed pieces make the reply; history grows and resets', async (t) => {
  const dir = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!dir) return;
  const model = await loadModel(dir);
  try {
    const session = new ChatSession(model, tokenizer, { maxNewTokens: 4, eosTokenId: [] });
    const pieces: string[] = [];
    const answer = await session.reply(CHARS.slice(0, 3).join(''), (p) => pieces.push(p));
    assert.equal(pieces.join(''), answer);
    assert.ok(pieces.length > 1, 'streamed in more than one piece');
    assert.equal(session.turns, 1);
    await session.reply(CHARS[5]!, () => {});
    assert.equal(session.turns, 2);
    session.reset();
    assert.equal(session.turns, 0);
  } finally {
    model.dispose();
  }
});

test('chat: the reply stops before its stop token, streamed and kept alike', async (t) => {
  const dir = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!dir) return;
  const model = await loadModel(dir);
  try {
    const prompt = CHARS.slice(0, 3).join('');
    const free = await generate(model, [chatPrompt(tokenizer, [{ role: 'user', content: prompt }])], { maxNewTokens: 4, eosTokenId: [] });
    // An ordinary character as the stop token: were it decoded, it would show in the reply.
    const stop = free[0]![2]!;
    const before = free[0]!.slice(0, free[0]!.indexOf(stop));
    const session = new ChatSession(model, tokenizer, { maxNewTokens: 4, eosTokenId: [], stopTokenIds: [stop] });
    const pieces: string[] = [];
    const answer = await session.reply(prompt, (p) => pieces.push(p));
    assert.equal(answer, tokenizer.decode(before, { skipSpecialTokens: true }).trimStart());
    assert.equal(pieces.join(''), answer);
  } finally {
    model.dispose();
  }
});

test('chat: piped stdin, /reset and /exit, --help', async (t) => {
  const tiny = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!tiny) return;
  const files = await writeEvalFiles(tiny);
  const args = ['--import', 'tsx', PIPELINE, 'chat', '--model', tiny, '--prefix', files.prefix, '--tokenizer', files.tokenizer, '--max-new-tokens', '3', '--greedy'];
  const input = `${CHARS[1]}${CHARS[2]}\n/reset\n${CHARS[3]}\n/exit\n${CHARS[4]}\n`;
  const r = spawnSync(process.execPath, args, { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.match(/^glm> /gm)?.length, 2, r.stdout);
  assert.match(r.stdout, /\(new conversation\)/);
  assert.doesNotMatch(r.stdout, new RegExp(`you> ${CHARS[4]}`), 'nothing is read after /exit');
  const help = spawnSync(process.execPath, ['--import', 'tsx', PIPELINE, 'chat', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /\/reset/);
});
