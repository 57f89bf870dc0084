// ingest and convert on several threads: byte ranges of CSV files (cut where
// papaparse ends rows, quotes and line breaks in cells included), files, and
// session buckets read at once give the same bytes, counts and errors as one thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { takeRows, writeShopCsv } from '../../data/generate.ts';
import { shopRows } from '../../data/shop.ts';
import { GlmflowError } from '../../engine/errors.ts';
import { lineRanges } from '../../formats/ranges.ts';
import { convert } from '../../stages/convert/convert.ts';
import { csvRanges } from '../../stages/ingest/csv-ranges.ts';
import { ingest, type IngestOptions } from '../../stages/ingest/ingest.ts';
import { tempDir } from './helpers.ts';

// Rows papaparse reads in ways a line-by-line cut would not: quoted delimiters, doubled quotes, CRLF and
// lone LF inside quotes, a quoted last cell before a blank row, blanks after a closing quote, a stray quote.
const TRICKY = [
  'session_id,time,sender,content',
  't1,2018-11-01 10:00:00,客户,"你好,在吗"',
  't1,2018-11-01 10:00:01,客服,"亲 ""在的"""',
  't1,2018-11-01 10:00:02,客户,"第一行\r\n第二行\n第三行"',
  ',,,,',
  't1,2018-11-01 10:00:03,客服,"好的"  ',
  't2,2018-11-01 10:00:04,客户,他说"发货了"吗',
  't2,2018-11-01 10:00:05,客服,"[图片]\n"',
  ',,,',
  't2,2018-11-01 10:00:06,客服,已发',
];

async function inputs(newline: '\r\n' | '\n') {
  const dir = await tempDir('parallel');
  const shop = path.join(dir, 'shop.csv');
  await writeShopCsv(shop, takeRows(shopRows(7), 3000));
  const tricky = path.join(dir, 'tricky.csv');
  const trickyRows = Array.from({ length: 40 }, (_, i) => TRICKY.slice(1).map((row) => row.replace(/^t(\d)/, `t$1-${i}`))).flat();
  await writeFile(tricky, [TRICKY[0], ...trickyRows].join(newline) + newline);
  const jsonl = path.join(dir, 'chats.jsonl');
  await writeFile(jsonl, '{"conversations":[{"role":"user","content":"在吗"},{"role":"assistant","content":"在的"}]}\nnot json\n');
  return { dir, files: [shop, tricky, jsonl] };
}

async function ingestWith(dir: string, files: readonly string[], workers: number, name: string, extra: Partial<IngestOptions> = {}) {
  const outputs = { records: path.join(dir, `${name}.records.jsonl`), rejected: path.join(dir, `${name}.rejected.jsonl`) };
  const log: string[] = [];
  const report = await ingest(files, outputs, { projectDir: dir, encoding: 'auto', columns: {}, roles: {}, unknownLabels: 'reject', log: (m) => log.push(m), workers, rangeBytes: 4096, ...extra });
  return { report, records: await readFile(outputs.records), rejected: await readFile(outputs.rejected), outputs };
}

for (const newline of ['\r\n', '\n'] as const) {
  test(`ingest on two threads, CSV cut into byte ranges (${JSON.stringify(newline)} line breaks), writes the bytes one thread writes`, async () => {
    const { dir, files } = await inputs(newline);
    // The files are really cut: many ranges each.
    for (const file of files.slice(0, 2)) assert.ok((await csvRanges(file, 4096))!.ranges.length > 3, `${file} was not cut`);
    const one = await ingestWith(dir, files, 1, 'one');
    const two = await ingestWith(dir, files, 2, 'two');
    assert.deepEqual(two.report, one.report);
    assert.ok(one.records.equals(two.records), 'records.jsonl differs');
    assert.ok(one.rejected.equals(two.rejected), 'rejected.jsonl differs');
    assert.ok(one.report.rejected > 0 && one.report.records > 3000, JSON.stringify(one.report));
  });
}

test('an unknown sender label in a later range stops the run with the message one thread gives', async () => {
  const { dir, files } = await inputs('\r\n');
  const text = await readFile(files[0]!, 'utf8');
  const last = text.lastIndexOf(',客服,');
  await writeFile(files[0]!, `${text.slice(0, last)},客服主管,${text.slice(last + ',客服,'.length)}`);
  const error = async (workers: number): Promise<GlmflowError> => {
    try {
      await ingestWith(dir, files, workers, `labels${workers}`, { unknownLabels: 'error' });
    } catch (caught) {
      assert.ok(caught instanceof GlmflowError, String(caught));
      return caught;
    }
    assert.fail('no error');
  };
  const [one, two] = [await error(1), await error(2)];
  assert.match(one.message, /shop\.csv: unknown sender labels: "客服主管" ×1 \(first at shop\.csv, row \d+\)/);
  assert.equal(two.message, one.message);
  assert.equal(two.hint, one.hint);
});

test('convert on two threads, records cut into ranges, grouped as read or again from buckets, writes the bytes one thread writes', async () => {
  const { dir, files } = await inputs('\r\n');
  const { outputs } = await ingestWith(dir, files, 1, 'records');
  // A malformed record in the middle: its line number must survive the cut.
  const lines = (await readFile(outputs.records, 'utf8')).split('\n');
  lines.splice(1500, 0, '{"broken":');
  await writeFile(outputs.records, lines.join('\n'));
  // The same records with every session's lines spread over the file, as an export sorted by time has them.
  const spread = path.join(dir, 'spread.jsonl');
  await writeFile(spread, lines.filter((_, i) => i % 2 === 0).concat(lines.filter((_, i) => i % 2 === 1)).join('\n'));
  const run = async (records: string, workers: number) => {
    const out = { conversations: path.join(dir, `conv-${path.basename(records)}-${workers}.jsonl`), rejected: path.join(dir, `conv-rejected-${path.basename(records)}-${workers}.jsonl`) };
    const report = await convert(records, out, dir, { workers, bucketBytes: 8192, rangeBytes: 16384 });
    return { report, conversations: await readFile(out.conversations), rejected: await readFile(out.rejected) };
  };
  for (const records of [outputs.records, spread]) {
    const one = await run(records, 1);
    // Cuts fall between sessions: with their records together, none is grouped again.
    const two = await run(records, 2);
    if (records === spread) assert.ok(two.report.regrouped > 1000, JSON.stringify(two.report));
    else assert.equal(two.report.regrouped, 0);
    assert.deepEqual(two.report, one.report);
    assert.ok(one.conversations.equals(two.conversations), 'conversations.jsonl differs');
    assert.ok(one.rejected.equals(two.rejected), 'rejected.jsonl differs');
    assert.ok(one.report.conversations > 100, JSON.stringify(one.report));
  }
  assert.match((await readFile(path.join(dir, `conv-rejected-${path.basename(outputs.records)}-1.jsonl`), 'utf8')), /"line":1501,"reason":"malformed record"/);
});

/**
 * JSON lines as exports and hand edits leave them: a BOM, CRLF, a lone CR between two lines (a line break
 * to readline, so every later line number depends on it), blank and malformed lines, row objects and
 * conversations without ids (whose ids are their line numbers), and a last line without a line break.
 */
async function jsonlInput(dir: string): Promise<string> {
  const lines: string[] = [];
  for (const [index, row] of [...takeRows(shopRows(11), 1200)].entries()) {
    if (row === null) lines.push('');
    else lines.push(JSON.stringify({ session_id: row.session, time: row.time.toISOString(), sender: row.sender, content: row.content }));
    if (index % 97 === 5) lines.push('{"session_id": broken');
    if (index % 131 === 7) lines.push(JSON.stringify({ conversations: [{ role: 'user', content: `第${index}个问题` }, { role: 'assistant', content: '好的' }] }));
  }
  const file = path.join(dir, 'rows.jsonl');
  const text = lines.join('\r\n');
  const cr = text.indexOf('\r\n', text.length >> 1);
  await writeFile(file, `\uFEFF${text.slice(0, cr)}\r${text.slice(cr + 2)}`);
  return file;
}

test('ingest on two threads, JSONL cut into ranges of lines, writes the bytes one thread writes (line numbers, BOM, CRLF, lone CR, no last line break)', async () => {
  const dir = await tempDir('parallel-jsonl');
  const file = await jsonlInput(dir);
  const { size } = await stat(file);
  assert.ok((await lineRanges(file, size, 4096)).length > 10, 'the file was not cut');
  const one = await ingestWith(dir, [file], 1, 'one');
  const two = await ingestWith(dir, [file], 2, 'two');
  assert.deepEqual(two.report, one.report);
  assert.ok(one.records.equals(two.records), 'records.jsonl differs');
  assert.ok(one.rejected.equals(two.rejected), 'rejected.jsonl differs');
  // The malformed lines and the conversations are there, numbered by their line in the file.
  assert.ok(one.report.rejected > 10 && one.report.records > 1000, JSON.stringify(one.report));
  assert.match(one.records.toString(), /"session":"rows\.jsonl:\d+"/);
});

test('JSONL ranges whose first row object has other keys than the file\'s first are read as one thread reads them', async () => {
  const dir = await tempDir('parallel-jsonl-keys');
  // Late in each file, a block of rows longer than a few ranges, so that ranges start among them. Each block's
  // rows alternate between the file's keys and other keys. One thread maps every row object by the keys of the
  // file's first one, and so must two: as a range's first row object, a row without time would leave the times of
  // the range's other rows out; one with a message key beside content would make the content column ambiguous.
  const others = {
    'no-time.jsonl': (i: number) => ({ session_id: `late-${i}`, sender: '客户', content: '在吗' }),
    'message.jsonl': (i: number) => ({ session_id: `late-${i}`, time: '2023-11-02 10:00:00', sender: '客户', content: '在吗', message: 'ignored' }),
  };
  const files: string[] = [];
  for (const [name, other] of Object.entries(others)) {
    const text = await readFile(await jsonlInput(dir), 'utf8');
    const late = text.indexOf('\r\n', Math.floor(text.length * 0.6)) + 2;
    const block = Array.from({ length: 200 }, (_, i) => JSON.stringify(i % 2 ? { session_id: `late-${i}`, time: '2023-11-02 10:00:01', sender: '客服', content: '在的' } : other(i)));
    const file = path.join(dir, name);
    await writeFile(file, `${text.slice(0, late)}${block.join('\r\n')}\r\n${text.slice(late)}`);
    files.push(file);
  }
  const one = await ingestWith(dir, files, 1, 'one');
  const two = await ingestWith(dir, files, 2, 'two');
  assert.deepEqual(two.report, one.report);
  assert.ok(one.records.equals(two.records), 'records.jsonl differs');
  assert.ok(one.rejected.equals(two.rejected), 'rejected.jsonl differs');
  assert.match(one.records.toString(), /"session":"late-1","time":"2023-11-02 10:00:01"/);
});
