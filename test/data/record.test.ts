// records.jsonl lines are written by hand for speed; they must stay exactly what JSON.stringify writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordLine, type Location, type RecordFields } from '../../formats/record.ts';

test('a record line is JSON.stringify of the record, whatever its text and location', () => {
  const texts = ['亲 在吗', 'say "hi"\\', 'line\nbreak\ttab\u0001', 'emoji 😀 and a lone \ud800 surrogate', '', '[图片]'];
  const locations: Location[] = [
    { file: 'shop.csv', row: 2 },
    { file: '导出/客服.xlsx', sheet: '聊天"记录"', row: 7 },
    { file: 'a.jsonl', line: 3 },
    { file: 'loader.ts', item: 0 },
    { file: 'b.json' },
  ];
  let checked = 0;
  for (const at of locations) {
    for (const text of texts) {
      // The same session and label twice in a row, then others: their quoted forms are remembered from one line to the next.
      for (const [session, label] of [['s1', '客户'], ['s1', '客户'], ['s"2', 'agent\n'], ['s1', '客服']] as const) {
        const fields: RecordFields = { session, time: checked % 2 ? null : '2023-11-01 09:23:16', label, role: 'user', text };
        assert.equal(recordLine(at, fields), JSON.stringify({ ...at, ...fields }));
        checked++;
      }
    }
  }
  assert.equal(checked, 120);
});

test('built from UTF-8 bytes (one char per byte) and written as latin1, a record line is the UTF-8 of its JSON', () => {
  const bytes = (text: string): string => Buffer.from(text).toString('latin1');
  // Escapes, every UTF-8 length, and chars whose bytes include 0x80–0x9F and 0xA0.
  for (const text of ['亲 在吗', 'say "hi"\\', 'line\nbreak\ttab\u0001\u007f', 'emoji 😀 é ÿ 丠 \u0085 \u2028', '']) {
    const at = { file: '导出/客服.csv', row: 9 };
    const fields: RecordFields = { session: '会话"1', time: null, label: '客服', role: 'assistant', text };
    const line = recordLine({ ...at, file: bytes(at.file) }, { ...fields, session: bytes(fields.session), label: bytes(fields.label), text: bytes(text) });
    assert.equal(Buffer.from(line, 'latin1').toString('utf8'), JSON.stringify({ ...at, ...fields }));
  }
});
