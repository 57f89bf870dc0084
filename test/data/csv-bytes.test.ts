// ingest reads UTF-8 CSV rows from their bytes where it can, and leaves the
// rest to papaparse: the records, rejects and counts must be the bytes
// papaparse reading every row gives, whatever the rows hold and wherever the
// bytes reader stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { takeRows, writeShopCsv } from '../../data/generate.ts';
import { shopRows } from '../../data/shop.ts';
import { ingest, type IngestOptions } from '../../stages/ingest/ingest.ts';
import { tempDir } from './helpers.ts';

// Rows the bytes reader writes itself, hands to TableReader, or stops at (the last few).
const ROWS = [
  '会话ID,时间,发送方,内容',
  's1,2018-11-01 10:00:00,客户,在吗',
  's1,2018-11-01 10:00:01,客服,"你好,亲 ""在的"""',
  's1,2018-11-01 10:00:02,客户,"第一行\n第二行"',
  '',
  ' s2,2018-11-01 10:00:03,客户,前后有空格的会话',
  's2\u3000,2018-11-01 10:00:04,客服,全角空格',
  's2,2018/11/1 10:05,客服,不是标准格式的时间',
  's2,,客户,没有时间',
  's2,2018-13-01 10:00:00,客户,月份不对',
  's2,2018-11-01 24:00:00,客户,小时不对',
  's3,2018-11-01 10:00:06, 客户 ,标签带空格',
  's3,2018-11-01 10:00:07,质检,不认识的标签',
  's3,2018-11-01 10:00:08,系统,会话已转接',
  's3,2018-11-01 10:00:09,客服,反斜杠\\和制表\t符',
  's3,2018-11-01 10:00:10,客服,表情😀和丠',
  's4,2018-11-01 10:00:11,客户',
  's4,2018-11-01 10:00:12,客服,多一列,多余',
  ',,,',
  's4,2018-11-01 10:00:13,客服,"引号后有空格"  ',
  's4,2018-11-01 10:00:14,客户,他说"发货了"吗',
  's4,2018-11-01 10:00:15,客服,之后的行',
];

async function both(file: string, extra: Partial<IngestOptions> = {}) {
  const dir = path.dirname(file);
  const run = async (csvBytes: boolean) => {
    const outputs = { records: path.join(dir, `${csvBytes}.records.jsonl`), rejected: path.join(dir, `${csvBytes}.rejected.jsonl`) };
    const log: string[] = [];
    const report = await ingest([file], outputs, { projectDir: dir, encoding: 'auto', columns: {}, roles: {}, unknownLabels: 'reject', log: (m) => log.push(m), csvBytes, ...extra });
    return { report, log, records: await readFile(outputs.records, 'utf8'), rejected: await readFile(outputs.rejected, 'utf8') };
  };
  return { bytes: await run(true), papaparse: await run(false) };
}

function assertSame({ bytes, papaparse }: Awaited<ReturnType<typeof both>>): void {
  assert.deepEqual(bytes.report, papaparse.report);
  assert.deepEqual(bytes.log, papaparse.log);
  assert.equal(bytes.records, papaparse.records);
  assert.equal(bytes.rejected, papaparse.rejected);
}

for (const newline of ['\n', '\r\n']) {
  for (const bom of ['', '\uFEFF']) {
    test(`rows of every kind, ${JSON.stringify(newline)} line breaks${bom ? ', a BOM' : ''}: the bytes papaparse gives`, async () => {
      const file = path.join(await tempDir('csv-bytes'), 'shop.csv');
      await writeFile(file, bom + ROWS.join(newline) + newline);
      const result = await both(file);
      assertSame(result);
      // It read past the rows it hands to TableReader, up to the stray quotes.
      assert.ok(result.bytes.report.records >= 10, JSON.stringify(result.bytes.report));
    });
  }
}

test('a lone CR or LF that is not the line break, no last line break, a tab-separated file: the bytes papaparse gives', async () => {
  const dir = await tempDir('csv-bytes');
  const files = {
    'cr.csv': `${ROWS.slice(0, 3).join('\n')}\ns5,2018-11-01 10:00:20,客户,回车\r在中间\n${ROWS[1]}`,
    'lf.csv': `${ROWS.slice(0, 3).join('\r\n')}\r\ns5,2018-11-01 10:00:20,客户,换行\n在中间\r\n${ROWS[1]}\r\n`,
    'rows.tsv': ROWS.slice(0, 17).map((row) => row.replace(/,/g, '\t')).join('\n'),
  };
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    await writeFile(file, text);
    assertSame(await both(file));
  }
});

test('a generated export of 25,000 rows (several reads into one reused buffer): the bytes papaparse gives, on one thread and in byte ranges on two', async () => {
  const file = path.join(await tempDir('csv-bytes'), 'shop.csv');
  await writeShopCsv(file, takeRows(shopRows(7), 25_000));
  assertSame(await both(file));
  assertSame(await both(file, { workers: 2, rangeBytes: 1 << 20 }));
});
