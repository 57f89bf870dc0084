import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { EVAL_COLUMNS, ExamplesWriter, readEvalExamples, readTrainExamples, TRAIN_COLUMNS } from '../../tokenizer/examples-arrow.ts';

test('examples round-trip through Arrow over several record batches, in order', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'glmflow-arrow-')), 'train.arrow');
  const writer = new ExamplesWriter(file, TRAIN_COLUMNS);
  const rows = Array.from({ length: 2500 }, (_, i) => ({ input_ids: Array.from({ length: i % 9 }, (_, k) => i * 10 + k), labels: Array.from({ length: i % 9 }, (_, k) => (k % 2 ? -100 : k)) }));
  for (const row of rows) writer.write(row);
  await writer.close();
  const back: { input_ids: number[]; labels: number[] }[] = [];
  for await (const row of readTrainExamples(file)) back.push({ input_ids: [...row.input_ids], labels: [...row.labels] });
  assert.deepEqual(back, rows);
  // Standard IPC stream: any Arrow reader sees the documented schema.
  const table = tableFromIPC(readFileSync(file));
  assert.deepEqual(table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`), ['input_ids: List<Int32>', 'labels: List<Int32>']);
  assert.ok(table.batches.length >= 3);
});

test('an empty split still has the schema and reads as no rows', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'glmflow-arrow-')), 'test.arrow');
  const writer = new ExamplesWriter(file, EVAL_COLUMNS);
  await writer.close();
  let n = 0;
  for await (const _ of readEvalExamples(file)) n++;
  assert.equal(n, 0);
  assert.deepEqual(tableFromIPC(readFileSync(file)).schema.fields.map((f) => f.name), ['input_ids', 'output_ids']);
});

test('reading train columns from an eval file fails naming the missing column', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'glmflow-arrow-')), 'test.arrow');
  const writer = new ExamplesWriter(file, EVAL_COLUMNS);
  writer.write({ input_ids: [1], output_ids: [2] });
  await writer.close();
  await assert.rejects(async () => {
    for await (const _ of readTrainExamples(file)) void _;
  }, /no column "labels"/);
});
