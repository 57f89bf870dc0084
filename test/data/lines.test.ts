// LineWriter: lines written in any mix of forms land in the order written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineWriter } from '../../formats/lines.ts';
import { tempDir } from './helpers.ts';

test('utf8 lines, lines of UTF-8 bytes (latin1) and copied bytes keep their order across batches', async () => {
  const file = path.join(await tempDir('lines'), 'mixed.txt');
  const writer = new LineWriter(file);
  const expected: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const text = `${i} 退换货 ${'发票'.repeat(i % 40)}`;
    expected.push(text);
    if (i % 3 === 0) await writer.write(text);
    else if (i % 3 === 1) await writer.write(Buffer.from(text).toString('latin1'), 'latin1');
    else await writer.writeBytes('', Buffer.from(`[${text}]`), 1, Buffer.byteLength(text) + 1);
  }
  await writer.close();
  assert.equal(writer.count, 3000);
  assert.deepEqual((await readFile(file, 'utf8')).split('\n'), [...expected, '']);
});
