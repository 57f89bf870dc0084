// Convert on hand-written records: the README rules one by one, and the same
// result whether sessions are grouped in one bucket or spread over many.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SourceRecord } from '../../formats/record.ts';
import { convert } from '../../stages/convert/convert.ts';
import { readLines, tempDir } from './helpers.ts';

const row = (session: string, row: number, time: string | null, role: SourceRecord['role'], text: string): SourceRecord => ({ file: 'x.csv', row, session, time, label: role, role, text });

async function convertRecords(records: readonly SourceRecord[], bucketBytes?: number) {
  const dir = await tempDir('convert');
  const input = path.join(dir, 'records.jsonl');
  await writeFile(input, records.map((r) => JSON.stringify(r) + '\n').join(''));
  const outputs = { conversations: path.join(dir, 'conversations.jsonl'), rejected: path.join(dir, 'rejected.jsonl') };
  const report = await convert(input, outputs, dir, bucketBytes === undefined ? {} : { bucketBytes });
  return { report, conversations: await readLines(outputs.conversations), rejected: await readLines(outputs.rejected) };
}

test('sorts by time (stable), drops notices, placeholders and duplicates, merges same-role runs', async () => {
  const { conversations, rejected, report } = await convertRecords([
    row('a', 2, '2018-11-01 10:00:05', 'assistant', '您好\r\n请讲'),
    row('a', 3, '2018-11-01 10:00:00', 'user', '  在吗\u3000'),
    row('a', 4, '2018-11-01 10:00:00', 'user', '在吗'),
    row('a', 5, '2018-11-01 10:00:01', 'user', '[图片] [表情]'),
    row('a', 6, '2018-11-01 10:00:06', 'notice', '会话已转接至人工客服'),
    row('a', 7, '2018-11-01 10:00:07', 'assistant', '[数字x]元 [表情]'),
    row('a', 8, '2018-11-01 10:00:09', 'user', ''),
  ]);
  assert.deepEqual(conversations, [{ session_id: 'a', source: 'x.csv', conversations: [{ role: 'user', content: '在吗' }, { role: 'assistant', content: '您好\n请讲\n[数字x]元 [表情]' }] }]);
  assert.deepEqual(rejected.map((r) => [r['row'], r['reason']]), [[4, 'duplicate row'], [5, 'placeholder-only message'], [6, 'system notice'], [8, 'empty message']]);
  assert.equal(report.recordsIn, report.kept + report.rejected);
});

test('rows without a time keep file order and are never taken for duplicates', async () => {
  const { conversations } = await convertRecords([row('j', 1, null, 'user', '好的'), row('j', 1, null, 'assistant', '嗯'), row('j', 1, null, 'user', '好的')]);
  assert.deepEqual(conversations[0]?.['conversations'], [{ role: 'user', content: '好的' }, { role: 'assistant', content: '嗯' }, { role: 'user', content: '好的' }]);
});

test('many buckets give the same output as one, in order of first appearance', async () => {
  const records: SourceRecord[] = [];
  // Sessions interleaved as in a CSV sorted by time.
  for (let i = 0; i < 600; i++) {
    const session = `s${i % 150}`;
    records.push(row(session, i + 2, `2018-11-01 10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, i % 300 < 150 ? 'user' : 'assistant', `m${i}`));
  }
  const one = await convertRecords(records);
  const many = await convertRecords(records, 2_000);
  assert.equal(one.conversations.length, 150);
  assert.deepEqual(many.conversations, one.conversations);
  assert.deepEqual(one.conversations.slice(0, 3).map((c) => c['session_id']), ['s0', 's1', 's2']);
});

test('records.jsonl as a user may have edited it: BOM, CRLF, blank and malformed lines, escaped ids, nested and repeated keys, no last newline', async () => {
  const dir = await tempDir('convert');
  const input = path.join(dir, 'records.jsonl');
  const line = (r: SourceRecord): string => JSON.stringify(r);
  // Line 1 carries a BOM, so it is read apart from the copied lines; its session must still meet theirs in one bucket.
  const lines = [
    `\uFEFF${line(row('s1', 2, '2018-11-01 10:00:00', 'user', '在吗'))}`,
    line(row('s"2', 3, '2018-11-01 10:00:01', 'user', '发票怎么开')),
    '',
    line(row('s1', 4, '2018-11-01 10:00:02', 'assistant', '在的')),
    '{"file":"x.csv","row":5,"session":',
    line(row('s"2', 6, '2018-11-01 10:00:03', 'assistant', '下单时选电子发票')),
    line(row('s3', 7, '2018-11-01 10:00:04', 'user', '到了吗')),
    // A session key inside a nested object, and a repeated one: the record's session is what JSON.parse says (the last key), s3.
    '{"file":"x.csv","row":8,"note":{"by":"质检","session":"s1"},"session":"s3","time":"2018-11-01 10:00:06","label":"客户","role":"user","text":"还有一件"}',
    '{"file":"x.csv","row":9,"session":"s1","session":"s3","time":"2018-11-01 10:00:07","label":"客户","role":"user","text":"也查一下"}',
  ];
  await writeFile(input, `${lines.join('\r\n')}\r\n${line(row('s3', 10, '2018-11-01 10:00:08', 'assistant', '今天送达'))}`);
  const outputs = { conversations: path.join(dir, 'conversations.jsonl'), rejected: path.join(dir, 'rejected.jsonl') };
  const progress: string[] = [];
  const report = await convert(input, outputs, dir, { bucketBytes: 64, progress: (done, total) => progress.push(`${done}/${total}`) });
  // One call per scratch bucket, counting up to all of them.
  assert.ok(progress.length > 1);
  assert.deepEqual(progress, progress.map((_, i) => `${i}/${progress.length}`));
  const conversations = await readLines(outputs.conversations);
  assert.deepEqual(conversations.map((c) => [c['session_id'], (c['conversations'] as unknown[]).length]), [['s1', 2], ['s"2', 2], ['s3', 2]]);
  assert.deepEqual(conversations[2]?.['conversations'], [{ role: 'user', content: '到了吗\n还有一件\n也查一下' }, { role: 'assistant', content: '今天送达' }]);
  assert.deepEqual((await readLines(outputs.rejected)).map((r) => [r['line'], r['reason']]), [[5, 'malformed record']]);
  assert.equal(report.recordsIn, 9);
  assert.equal(report.recordsIn, report.kept + report.rejected);
});
