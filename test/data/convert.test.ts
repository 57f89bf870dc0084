// Convert on hand-written records: the README rules one by one; the same
// result whether sessions are grouped as they are read or again from buckets,
// and whether lines are in ingest's shape or written otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SourceRecord } from '../../formats/record.ts';
import { convert, type ConvertOptions } from '../../stages/convert/convert.ts';
import { readLines, tempDir } from './helpers.ts';

const row = (session: string, row: number, time: string | null, role: SourceRecord['role'], text: string): SourceRecord => ({ file: 'x.csv', row, session, time, label: role, role, text });

async function convertLines(lines: readonly string[], options: ConvertOptions = {}) {
  const dir = await tempDir('convert');
  const input = path.join(dir, 'records.jsonl');
  await writeFile(input, lines.map((line) => `${line}\n`).join(''));
  const outputs = { conversations: path.join(dir, 'conversations.jsonl'), rejected: path.join(dir, 'rejected.jsonl') };
  const report = await convert(input, outputs, dir, options);
  return { report, conversations: await readFile(outputs.conversations, 'utf8'), rejected: await readFile(outputs.rejected, 'utf8') };
}

async function convertRecords(records: readonly SourceRecord[], options: ConvertOptions = {}) {
  const { report, conversations, rejected } = await convertLines(records.map((record) => JSON.stringify(record)), options);
  const parse = (text: string) => (text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>));
  return { report, conversations: parse(conversations), rejected: parse(rejected) };
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

test('sessions whose records are interleaved are grouped again from buckets, in order of first appearance', async () => {
  const lines: string[] = [];
  // Sessions interleaved as in a CSV sorted by time, and one malformed line among them.
  const record = (i: number) => row(`s${i % 150}`, i + 2, `2018-11-01 10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, i % 300 < 150 ? 'user' : 'assistant', i % 7 === 0 ? '[图片]' : `m${i}`);
  for (let i = 0; i < 600; i++) {
    lines.push(JSON.stringify(record(i)));
    if (i === 333) lines.push('{"file":"x.csv","row":');
  }
  // Over many small buckets, and over few.
  const many = await convertLines(lines, { bucketBytes: 2_000 });
  const few = await convertLines(lines);
  assert.equal(many.report.regrouped, 600);
  assert.equal(many.conversations, few.conversations);
  assert.equal(many.rejected, few.rejected);
  assert.deepEqual(many.report, few.report);
  // The same sessions with their records together (and no malformed line): the same conversations.
  const together = await convertLines([...Array(600).keys()].sort((a, b) => (a % 150) - (b % 150) || a - b).map((i) => JSON.stringify(record(i))));
  assert.equal(together.report.regrouped, 0);
  assert.equal(together.conversations, many.conversations);
  const conversations = many.conversations.trimEnd().split('\n').map((line) => JSON.parse(line) as { session_id: string });
  assert.equal(conversations.length, 150);
  assert.deepEqual(conversations.slice(0, 3).map((c) => c.session_id), ['s0', 's1', 's2']);
  // Rejects in order of their session's first line (s0 on line 1 … s149 on line 150), then the malformed line 335's.
  const rejectedLines = many.rejected.trimEnd().split('\n').map((line) => JSON.parse(line) as { line?: number; session?: string; detail?: string });
  assert.deepEqual(rejectedLines.at(-1), { file: 'records.jsonl', line: 335, reason: 'malformed record', detail: rejectedLines.at(-1)!.detail });
  const sessions = [...new Set(rejectedLines.slice(0, -1).map((entry) => entry.session))];
  assert.deepEqual(sessions, [...sessions].sort((a, b) => Number(a!.slice(1)) - Number(b!.slice(1))));
  assert.equal(many.report.recordsIn, 601);
  assert.equal(many.report.recordsIn, many.report.kept + many.report.rejected);
});

test('records interleaved throughout (an export sorted by time) are all grouped from buckets, on one thread and on two', async () => {
  // 12,000 records of 1,200 sessions, each session's ten records 1,200 lines apart, and a malformed line.
  const record = (i: number) => row(`t${i % 1200}`, i + 2, `2018-11-02 ${String(8 + Math.floor(i / 1200)).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}`, Math.floor(i / 1200) % 2 ? 'assistant' : 'user', i % 13 === 0 ? '[表情]' : `消息${i}`);
  const lines = [...Array(12_000).keys()].map((i) => JSON.stringify(record(i)));
  lines.splice(7_000, 0, '{"file":"x.csv","row":');
  const one = await convertLines(lines);
  const two = await convertLines(lines, { workers: 2, rangeBytes: 900_000 });
  // Every line went through the buckets: the malformed one too.
  assert.equal(one.report.regrouped, 12_001);
  assert.deepEqual(two.report, one.report);
  assert.equal(two.conversations, one.conversations);
  assert.equal(two.rejected, one.rejected);
  assert.equal(one.report.recordsIn, one.report.kept + one.report.rejected);
  // The same conversations as from the records with each session's together.
  const together = await convertLines([...Array(12_000).keys()].sort((a, b) => (a % 1200) - (b % 1200) || a - b).map((i) => JSON.stringify(record(i))));
  assert.equal(together.report.regrouped, 0);
  assert.equal(together.conversations, one.conversations);
  const rejected = one.rejected.trimEnd().split('\n').map((line) => JSON.parse(line) as { line?: number; reason: string });
  const malformed = rejected.findIndex((entry) => entry.reason === 'malformed record');
  assert.equal(rejected[malformed]!.line, 7_001);
  // Among the sessions' rejects by first line: every session starts within the first 1,200 lines.
  assert.equal(malformed, rejected.length - 1);
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
  // Counting up from none to all steps: the range grouped; s1 and s3 interleave, so the range copied from and each bucket grouped.
  assert.ok(progress.length > 3, progress.join(' '));
  assert.equal(progress[0], '0/1');
  assert.deepEqual(progress.map((step) => Number(step.split('/')[0])), progress.map((_, i) => i));
  assert.equal(progress.at(-1), `${progress.length - 1}/${progress.length - 1}`);
  const conversations = await readLines(outputs.conversations);
  assert.deepEqual(conversations.map((c) => [c['session_id'], (c['conversations'] as unknown[]).length]), [['s1', 2], ['s"2', 2], ['s3', 2]]);
  assert.deepEqual(conversations[2]?.['conversations'], [{ role: 'user', content: '到了吗\n还有一件\n也查一下' }, { role: 'assistant', content: '今天送达' }]);
  assert.deepEqual((await readLines(outputs.rejected)).map((r) => [r['line'], r['reason']]), [[5, 'malformed record']]);
  assert.equal(report.recordsIn, 9);
  assert.equal(report.recordsIn, report.kept + report.rejected);
});

// Texts whose bytes come close to what normalizing, placeholders and JSON escapes look for.
const TRICKY = ['  在吗\u3000', '\u00a0好的', 'a\r\nb', 'x\ry', '[图片] [表情]', '[图片]\u3000[表情]', '  ', '', '"引号" \\ 反斜杠', '\u0001控制', '表情 😀', '丠', '\u2028分隔', '\ufeff开头', '末尾\u200a', '制表\t', '好的。', '〇', '[数字x]元', '[图片'];

test('lines in ingest\'s shape and the same records written otherwise give the same bytes', async () => {
  const records: SourceRecord[] = [];
  for (const [i, text] of TRICKY.entries()) {
    const at = i % 3 === 0 ? { file: 'a.xlsx', sheet: '聊天 "记录"', row: i + 2 } : i % 3 === 1 ? { file: 'b.jsonl', line: i + 1 } : { file: 'c.json', item: i };
    const time = i % 4 === 3 ? null : `2018-11-01 10:00:${String(i).padStart(2, '0')}`;
    for (const [role, session] of [['user', `s${i % 5}`], ['assistant', `s${i % 5}`], ['notice', `s${i % 5}`]] as const) records.push({ ...at, session, time, label: role, role, text });
  }
  const shaped = records.map((record) => JSON.stringify(record));
  // Keys in another order: no line matches ingest's shape, so each is parsed.
  const reordered = records.map(({ text, role, label, time, session, ...at }) => JSON.stringify({ ...at, text, role, label, time, session }));
  // In ingest's shape, with every non-ASCII character and the slash written as escapes JSON.stringify does not use.
  const escaped = shaped.map((line) => line.replace(/"text":(".*")}$/, (_, text: string) => `"text":${text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/')}}`));
  const [a, b, c] = await Promise.all([convertLines(shaped), convertLines(reordered), convertLines(escaped)]);
  assert.ok(a.conversations.length > 0 && a.rejected.length > 0);
  assert.equal(b.conversations, a.conversations);
  assert.equal(b.rejected, a.rejected);
  assert.equal(c.conversations, a.conversations);
  assert.equal(c.rejected, a.rejected);
  // And what the rules say, checked on the decoded output.
  const contents = a.conversations.trimEnd().split('\n').flatMap((line) => (JSON.parse(line) as { conversations: { content: string }[] }).conversations.map((m) => m.content));
  for (const content of contents) for (const part of content.split('\n')) assert.equal(part, part.trim());
  assert.ok(contents.some((content) => content.includes('好的。')));
  assert.ok(!contents.some((content) => content === '[图片] [表情]' || content.includes('\r')));
});

test('a line whose bytes are not UTF-8 is read with U+FFFD, as a decoder reads it', async () => {
  const dir = await tempDir('convert');
  const input = path.join(dir, 'records.jsonl');
  const good = (session: string, role: SourceRecord['role'], text: string) => Buffer.from(`${JSON.stringify(row(session, 2, '2018-11-01 10:00:00', role, text))}\n`);
  const bad = Buffer.from(JSON.stringify(row('s', 3, '2018-11-01 10:00:01', 'assistant', 'XX')).replace('XX', '\u0000\u0000'));
  bad[bad.indexOf(0)] = 0xe4;
  bad[bad.indexOf(0)] = 0xff;
  await writeFile(input, Buffer.concat([good('s', 'user', '在吗'), bad, Buffer.from('\n'), good('t', 'user', '你好'), good('t', 'assistant', '在的')]));
  const outputs = { conversations: path.join(dir, 'conversations.jsonl'), rejected: path.join(dir, 'rejected.jsonl') };
  await convert(input, outputs, dir);
  const conversations = await readLines<{ conversations: { content: string }[] }>(outputs.conversations);
  assert.deepEqual(conversations.map((c) => c.conversations.map((m) => m.content)), [['在吗', '\ufffd\ufffd'], ['你好', '在的']]);
});

test('two sessions whose ids share a hash are each converted whole', async () => {
  // s539599 and s722382 have the same 32-bit FNV-1a hash: convert tells sessions apart by it first.
  const talk = (session: string, from: number) => [row(session, from, `2018-11-01 10:00:0${from % 10}`, 'user', `问${session}`), row(session, from + 1, `2018-11-01 10:00:0${(from + 1) % 10}`, 'assistant', `答${session}`)];
  const together = await convertRecords([...talk('s539599', 2), ...talk('s722382', 4), ...talk('x', 6)]);
  const interleaved = await convertRecords([talk('s539599', 2)[0]!, talk('s722382', 4)[0]!, talk('s539599', 2)[1]!, talk('s722382', 4)[1]!]);
  for (const { conversations, report } of [together, interleaved]) {
    const bySession = Object.fromEntries(conversations.map((c) => [c['session_id'], (c['conversations'] as { content: string }[]).map((m) => m.content)]));
    assert.deepEqual(bySession['s539599'], ['问s539599', '答s539599']);
    assert.deepEqual(bySession['s722382'], ['问s722382', '答s722382']);
    assert.equal(report.recordsIn, report.kept + report.rejected);
  }
  assert.deepEqual(together.conversations.map((c) => c['session_id']), ['s539599', 's722382', 'x']);
});
