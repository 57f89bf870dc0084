// Ingest on small hand-written exports: header and label mapping, its errors,
// encodings, time formats, and loader modules from another working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'iconv-lite';
import { GlmflowError } from '../../engine/errors.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { ingestStage } from '../../stages/ingest.ts';
import { isCanonicalTime, parseTime } from '../../stages/ingest/time.ts';
import { readLines, tempDir } from './helpers.ts';
import { runStage } from '../stage-run.ts';

async function ingestFile(name: string, content: string | Buffer, params: unknown = {}) {
  const dir = await tempDir('ingest');
  const file = path.join(dir, name);
  await writeFile(file, content);
  const run = await runStage(ingestStage, { params, files: { raw: [file], loaders: [] }, projectDir: dir });
  return { ...run, records: await readLines<SourceRecord>(run.outputs.records), rejected: await readLines(run.outputs.rejected) };
}

async function rejectsWith(promise: Promise<unknown>): Promise<GlmflowError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GlmflowError, String(error));
    return error;
  }
  assert.fail('expected a GlmflowError');
}

test('an unknown session header fails with the headers found and the --set line that maps it', async () => {
  const error = await rejectsWith(ingestFile('orders.csv', '订单号,时间,发送方,内容\nA1,2018-11-01 10:00:00,客户,你好\n'));
  assert.match(error.message, /orders\.csv: no session column among the headers "订单号", "时间", "发送方", "内容"/);
  assert.match(error.hint ?? '', /--set ingest\.columns\.session=订单号/);
});

test('the column override maps that header', async () => {
  const { records } = await ingestFile('orders.csv', '订单号,时间,发送方,内容\nA1,2018-11-01 10:00:00,客户,你好\n', { columns: { session: '订单号' } });
  assert.deepEqual(records.map((r) => [r.session, r.role, r.text]), [['A1', 'user', '你好']]);
});

test('two headers for one meaning are ambiguous', async () => {
  const error = await rejectsWith(ingestFile('two.csv', '会话ID,内容,消息内容,发送方\n'));
  assert.match(error.message, /the content column is ambiguous: "内容" and "消息内容"/);
  assert.match(error.hint ?? '', /--set ingest\.columns\.content=内容/);
});

test('unknown sender labels fail listing them, or are rejected when asked to', async () => {
  const csv = 'session_id,time,sender,content\ns1,2018-11-01 10:00:00,买家,在吗\ns1,2018-11-01 10:00:05,客服主管,在的\ns1,2018-11-01 10:00:09,客服主管,您说\n';
  const error = await rejectsWith(ingestFile('labels.csv', csv));
  assert.match(error.message, /unknown sender labels: "客服主管" ×2 \(first at labels\.csv, row 3\)/);
  assert.match(error.hint ?? '', /--set ingest\.roles\.客服主管=assistant/);

  const mapped = await ingestFile('labels.csv', csv, { roles: { 客服主管: 'assistant' } });
  assert.deepEqual(mapped.records.map((r) => r.role), ['user', 'assistant', 'assistant']);

  const rejected = await ingestFile('labels.csv', csv, { unknownLabels: 'reject' });
  assert.equal(rejected.records.length, 1);
  assert.deepEqual(rejected.rejected.map((r) => [r['row'], r['reason'], r['detail']]), [[3, 'unknown sender label', '客服主管'], [4, 'unknown sender label', '客服主管']]);
  assert.match(rejected.summary[0]!, /3 rows\/lines in = 1 read \(1 records\) \+ 2 rejected \(unknown sender label ×2\)/);
});

test('GBK is detected without a BOM; the encoding param overrides detection', async () => {
  const csv = '会话编号,消息时间,角色,消息内容\r\n880001,2018/11/23 9:05,顾客,"你好,在吗"\r\n880001,2018/11/23 9:06,店小二,"亲 ""在的"""\r\n';
  const { records, log } = await ingestFile('gbk.csv', encode(csv, 'gbk'));
  assert.ok(log.includes('gbk.csv: gbk (detected)'), log.join('\n'));
  assert.deepEqual(records.map((r) => [r.session, r.time, r.role, r.text]), [
    ['880001', '2018-11-23 09:05:00', 'user', '你好,在吗'],
    ['880001', '2018-11-23 09:06:00', 'assistant', '亲 "在的"'],
  ]);
  const error = await rejectsWith(ingestFile('gbk.csv', encode(csv, 'gbk'), { encoding: 'utf-8' }));
  assert.match(error.message, /gbk\.csv is not valid utf-8/);
  assert.match(error.hint ?? '', /--set ingest\.encoding=gbk/);
});

test('a UTF-8 CSV, parsed as bytes, gives exactly the records and rejects its decoded text gives', async () => {
  // 丠 ends in byte A0, which a byte-wise trim would take for a no-break space; U+3000 and U+00A0 are trimmed.
  const rows = [
    '会话丠,2018-11-01 10:00:00,客户,"你好, 在吗?\n第二行 ""引号"" \\ 反斜杠\t制表符"',
    '会话丠,2018/11/1 10:01, 客服 ,在的😀 亲丠',
    '\u3000s2\u3000,2018年11月01日 10:02,客服\u3000,"\u00a0前后空白\u00a0"',
    '\u00a0s3 ,2018-11-01 10:03:00,客服主管,您说',
    's4,23/11/2018 09:00,客户,日在前的日期',
    ',,,',
    ',2018-11-01 10:04:00,客户,无会话',
  ];
  // More than one 1 MiB read, so characters are cut between reads.
  for (let i = 0; i < 24_000; i++) rows.push(`长会话${i % 97},2018-11-02 08:00:00,${i % 2 ? '客服' : '客户'},${'退换货发票物流尺码'.slice(i % 9)}${i}`);
  const csv = `会话ID,时间,发送方,内容\r\n${rows.join('\r\n')}\r\n`;
  const utf8 = Buffer.from(csv);
  assert.ok(utf8.length > 1 << 20 && (utf8[1 << 20]! & 0xc0) === 0x80, 'a character spans the first read boundary');
  const params = { unknownLabels: 'reject' };
  const bytes = await ingestFile('聊天记录.csv', utf8, params);
  const decoded = await ingestFile('聊天记录.csv', encode(csv, 'gb18030'), { ...params, encoding: 'gb18030' });
  assert.ok(bytes.log.includes('聊天记录.csv: utf-8 (detected)'), bytes.log.join('\n'));
  assert.deepEqual(bytes.records, decoded.records);
  assert.deepEqual(bytes.rejected, decoded.rejected);
  assert.deepEqual(bytes.records.slice(0, 3).map((r) => [r.file, r.session, r.time, r.label, r.text]), [
    ['聊天记录.csv', '会话丠', '2018-11-01 10:00:00', '客户', '你好, 在吗?\n第二行 "引号" \\ 反斜杠\t制表符'],
    ['聊天记录.csv', '会话丠', '2018-11-01 10:01:00', '客服', '在的😀 亲丠'],
    ['聊天记录.csv', 's2', '2018-11-01 10:02:00', '客服', '\u00a0前后空白\u00a0'],
  ]);
  assert.deepEqual(bytes.rejected.map((r) => [r['row'], r['reason'], r['session'], r['detail']]), [
    [5, 'unknown sender label', 's3', '客服主管'],
    [6, 'unreadable time', 's4', '23/11/2018 09:00'],
    [7, 'blank row', undefined, undefined],
    [8, 'empty session id', undefined, ' | 2018-11-01 10:04:00 | 客户 | 无会话'],
  ]);
  assert.equal(bytes.records.length, 3 + 24_000);
});

test('bad UTF-8 after the sniffed first megabyte, or a character cut off at the end, stops with where', async () => {
  const head = `会话ID,时间,发送方,内容\n${'s,2018-11-01 10:00:00,客户,你好\n'.repeat(40_000)}`;
  const bad = await rejectsWith(ingestFile('late.csv', Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0x0a])])));
  assert.match(bad.message, /late\.csv is not valid utf-8 \(bad bytes within bytes \d+–\d+\)/);
  assert.match(bad.hint ?? '', /--set ingest\.encoding=gbk/);
  const cut = await rejectsWith(ingestFile('cut.csv', Buffer.from(head + 's,2018-11-01 10:00:00,客户,你').subarray(0, -1)));
  assert.match(cut.message, /cut\.csv is not valid utf-8/);
});

test('times: Excel CSV formats, ISO text, Chinese dates, Excel serials; unreadable ones are rejected', async () => {
  assert.equal(parseTime('2018/11/23 9:05'), '2018-11-23 09:05:00');
  assert.equal(parseTime('2018-11-16 14:08:38'), '2018-11-16 14:08:38');
  assert.equal(parseTime('2018/11/16 14:08:38'), '2018-11-16 14:08:38');
  assert.equal(parseTime('2018-11-16T14:08:38.000Z'), '2018-11-16 14:08:38');
  assert.equal(parseTime('2018年11月16日 14:08:38'), '2018-11-16 14:08:38');
  assert.equal(parseTime('2018年11月16日14时08分'), '2018-11-16 14:08:00');
  assert.equal(parseTime('2018年11月16日'), '2018-11-16 00:00:00');
  assert.equal(parseTime('2018-11-1614:08'), undefined);
  // The canonical form is taken as it is only with every field in range.
  assert.ok(isCanonicalTime('2018-12-31 23:59:59') && isCanonicalTime('2018-01-01 00:00:00'));
  for (const time of ['2018-13-01 10:00:00', '2018-00-10 10:00:00', '2018-11-32 10:00:00', '2018-11-00 10:00:00', '2018-11-16 24:00:00', '2018-11-16 14:60:00', '2018-11-16 14:08:60']) {
    assert.equal(isCanonicalTime(time), false, time);
    assert.equal(parseTime(time), undefined, time);
  }
  // Surrounding space is not canonical, but the cell still reads as that time.
  assert.equal(isCanonicalTime('2018-11-16 14:08:38 '), false);
  assert.equal(parseTime('2018-11-16 14:08:38 '), '2018-11-16 14:08:38');
  assert.equal(parseTime(new Date(Date.UTC(2018, 10, 1, 12, 26, 27) - 1)), '2018-11-01 12:26:27');
  assert.equal(parseTime(43405.5), '2018-11-01 12:00:00');
  assert.equal(parseTime(''), null);
  assert.equal(parseTime('yesterday'), undefined);
  const { rejected } = await ingestFile('t.csv', '会话ID,时间,发送方,内容\ns,yesterday,客户,hi\n');
  assert.deepEqual(rejected.map((r) => [r['row'], r['reason']]), [[2, 'unreadable time']]);
  // Day-first dates are not read: when they are most of a file, the summary says so with an example.
  const dayFirst = Array.from({ length: 12 }, (_, i) => `s,23/11/2018 09:${String(i).padStart(2, '0')},${i % 2 ? '客服' : '客户'},hi`);
  const { summary } = await ingestFile('day-first.csv', `会话ID,时间,发送方,内容\n${dayFirst.join('\n')}\n`);
  assert.ok(summary.includes('day-first.csv: 12 of 12 rows/lines rejected, 12 for "unreadable time" (e.g. "23/11/2018 09:00"): a column may be mapped to the wrong header or hold a format not read; see artifacts/ingest/rejected.jsonl'), summary.join('\n'));
});

test('row-format JSONL and a JSON array of conversations', async () => {
  const rows = await ingestFile('rows.jsonl', '{"session_id":"s","time":"2018-11-01 10:00:00","sender":"customer","content":"hi"}\n{"session_id":"s","time":"2018-11-01 10:00:01","sender":"agent","content":"hello"}\nnot json\n');
  assert.deepEqual(rows.records.map((r) => [r.line, r.role, r.text]), [[1, 'user', 'hi'], [2, 'assistant', 'hello']]);
  assert.deepEqual(rows.rejected.map((r) => [r['line'], r['reason']]), [[3, 'malformed JSON']]);
  const array = await ingestFile('train.json', JSON.stringify([{ conversations: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }, { conversations: [{ role: 'bot', content: '?' }] }]));
  assert.deepEqual(array.records.map((r) => [r.item, r.session, r.role]), [[1, 'train.json:1', 'user'], [1, 'train.json:1', 'assistant']]);
  assert.deepEqual(array.rejected.map((r) => [r['item'], r['reason']]), [[2, 'not a ChatGLM3 conversation']]);
});

test('loader modules run from another working directory, with their own relative imports', async (t) => {
  const dir = await tempDir('loaders');
  await mkdir(path.join(dir, 'lib'));
  await writeFile(path.join(dir, 'lib', 'rows.json'), JSON.stringify([['s9', '2018-11-02 08:00:00', '买家', '发票怎么开'], ['s9', '2018-11-02 08:01:00', '卖家', '下单时选择电子发票即可']]));
  await writeFile(path.join(dir, 'lib', 'read.ts'), "import { readFile } from 'node:fs/promises';\nexport const readRows = async (): Promise<string[][]> => JSON.parse(await readFile(new URL('./rows.json', import.meta.url), 'utf8'));\n");
  await writeFile(
    path.join(dir, 'db.ts'),
    "import { readRows } from './lib/read.ts';\nexport default async function* () {\n  for (const [会话ID, 时间, 发送方, 内容] of await readRows()) yield { 会话ID, 时间, 发送方, 内容 };\n}\n",
  );
  await writeFile(path.join(dir, 'api.js'), "export const conversations = [{ conversations: [{ role: 'user', content: '在吗' }, { role: 'assistant', content: '在的' }] }];\n");
  const elsewhere = await tempDir('cwd');
  const cwd = process.cwd();
  process.chdir(elsewhere);
  t.after(() => process.chdir(cwd));
  const run = await runStage(ingestStage, { params: { loaders: ['db.ts', 'api.js'] }, files: { raw: [], loaders: [path.join(dir, 'db.ts'), path.join(dir, 'api.js')] }, projectDir: dir });
  const records = await readLines<SourceRecord>(run.outputs.records);
  assert.deepEqual(records.map((r) => [r.file, r.item, r.session, r.role, r.text]), [
    ['db.ts', 1, 's9', 'user', '发票怎么开'],
    ['db.ts', 2, 's9', 'assistant', '下单时选择电子发票即可'],
    ['api.js', 1, 'api.js:1', 'user', '在吗'],
    ['api.js', 1, 'api.js:1', 'assistant', '在的'],
  ]);
});

test('a workbook without any conversation sheet fails naming its sheets', async () => {
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.addWorksheet('统计').addRows([['客服', '接待人数'], ['小美', 86]]);
  const dir = await tempDir('xlsx');
  const file = path.join(dir, 'kpi.xlsx');
  await workbook.xlsx.writeFile(file);
  const error = await rejectsWith(runStage(ingestStage, { files: { raw: [file], loaders: [] }, projectDir: dir }));
  assert.match(error.message, /kpi\.xlsx: no sheet holds conversation data \(sheets: "统计"\); sheet "统计": no session, sender, content column among the headers "客服", "接待人数"/);
});

test('macro-enabled workbooks are read; old .xls files stop with how to convert them', async () => {
  const { takeSessions, writeShopXlsx } = await import('../../data/generate.ts');
  const { shopRows } = await import('../../data/shop.ts');
  const dir = await tempDir('xlsm');
  const file = path.join(dir, 'shop.xlsm');
  const rows = await writeShopXlsx(file, takeSessions(shopRows(5), 3), { sharedStrings: true });
  const run = await runStage(ingestStage, { files: { raw: [file], loaders: [] }, projectDir: dir });
  assert.match(run.summary[0]!, new RegExp(`^1 files: ${rows} rows/lines in`));
  assert.ok((await readLines(run.outputs.records)).length > 0);
  const old = path.join(dir, '客服导出.xls');
  await writeFile(old, 'not read');
  const error = await rejectsWith(runStage(ingestStage, { files: { raw: [old], loaders: [] }, projectDir: dir }));
  assert.equal(error.message, '客服导出.xls: Excel 97–2003 spreadsheets (.xls) cannot be read');
  assert.match(error.hint ?? '', /save it as \.xlsx, or export it as CSV/);
});

test('large xlsx sheets keep Chinese text intact across zip chunk boundaries', async () => {
  const { takeRows, writeShopXlsx } = await import('../../data/generate.ts');
  const { shopRows } = await import('../../data/shop.ts');
  const dir = await tempDir('big-xlsx');
  const file = path.join(dir, 'big.xlsx');
  await writeShopXlsx(file, takeRows(shopRows(3), 20_000), { sharedStrings: false });
  const run = await runStage(ingestStage, { files: { raw: [file], loaders: [] }, projectDir: dir });
  const records = await readLines<SourceRecord>(run.outputs.records);
  assert.ok(records.length > 19_000);
  assert.deepEqual(records.filter((r) => (r.label + r.text).includes('\uFFFD')), []);
});

test('a long export reports how many rows are read, file by file', async () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => `s${i >> 4},2018-11-01 10:00:00,${i % 2 ? '客服' : '客户'},第${i}条`);
  const { progress, summary } = await ingestFile('big.csv', `会话ID,时间,发送方,内容\n${rows.join('\n')}\n`);
  assert.deepEqual(progress, ['16384/ rows/lines read, now big.csv']);
  assert.match(summary[0]!, /20000 rows\/lines in = 20000 read/);
});

test('the mostly-rejected warning takes its example from the file it names', async () => {
  const dir = await tempDir('ingest');
  const rows = (time: (i: number) => string) => Array.from({ length: 12 }, (_, i) => `s,${time(i)},${i % 2 ? '客服' : '客户'},hi`).join('\n');
  const earlier = path.join(dir, 'a.csv');
  const later = path.join(dir, 'b.csv');
  await writeFile(earlier, `会话ID,时间,发送方,内容\n${rows((i) => (i === 0 ? 'yesterday' : '2018-11-23 09:00:00'))}\n`);
  await writeFile(later, `会话ID,时间,发送方,内容\n${rows((i) => `23/11/2018 09:${String(i).padStart(2, '0')}`)}\n`);
  const { summary } = await runStage(ingestStage, { files: { raw: [earlier, later], loaders: [] }, projectDir: dir });
  const warnings = summary.filter((line) => line.includes('rows/lines rejected'));
  assert.deepEqual(warnings.map((line) => line.split(':')[0]), ['b.csv']);
  assert.match(warnings[0]!, /12 for "unreadable time" \(e\.g\. "23\/11\/2018 09:00"\)/);
});
