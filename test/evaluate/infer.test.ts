// The infer stage: the last user turn is answered given its history; no input, no work.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { inferStage } from '../../stages/infer.ts';
import { promptMessages } from '../../stages/infer/run.ts';
import { sharedPath } from '../shared.ts';
import { runStage } from '../stage-run.ts';
import { CHARS, writeEvalFiles } from './fixture.ts';

test('infer: the prompt ends at the last user turn', () => {
  const line = JSON.stringify({ conversations: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }, { role: 'assistant', content: 'ref' }] });
  assert.deepEqual(promptMessages(line, 'x:1').map((m) => m.content), ['a', 'b', 'c']);
  assert.throws(() => promptMessages('{"conversations":[{"role":"assistant","content":"x"}]}', 'x:2'), /no user turn/);
  assert.throws(() => promptMessages('nope', 'x:3'), /not JSON/);
});

test('infer: with no input it writes an empty file', async () => {
  const { outputs } = await runStage(inferStage, { files: { input: [] } });
  assert.equal(readFileSync(outputs.replies, 'utf8'), '');
});

test('infer: one reply per conversation, in order', async (t) => {
  const tiny = sharedPath(t, 'fixtures/glm/tiny-f32');
  if (!tiny) return;
  const files = await writeEvalFiles(tiny);
  const input = path.join(files.dir, 'conversations.jsonl');
  const conv = (text: string) => JSON.stringify({ conversations: [{ role: 'user', content: text }] });
  writeFileSync(input, [conv(CHARS.slice(1, 4).join('')), '', conv(CHARS[9]!)].join('\n'));
  const { outputs } = await runStage(inferStage, { params: { input, max_new_tokens: 3 }, inputs: files, files: { input: [input] } });
  const replies = readFileSync(outputs.replies, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reply: string });
  assert.deepEqual(replies.map((r) => r.line), [1, 3]);
  for (const r of replies) assert.ok(r.reply.length <= 3);
});

test('infer: an input naming several files stops and says so instead of answering the first', async () => {
  await assert.rejects(runStage(inferStage, { params: { input: 'chats/*.jsonl' }, files: { input: ['chats/a.jsonl', 'chats/b.jsonl'] } }), /infer\.input chats\/\*\.jsonl names 2 files; infer answers one/);
});
