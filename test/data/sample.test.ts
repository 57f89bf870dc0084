// The embedded default data: enough conversations on the expected topics, and
// reproducible from its seeded generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertStage } from '../../stages/convert.ts';
import { ingestStage } from '../../stages/ingest.ts';
import { SAMPLE, takeSessions, writeShopXlsx } from '../../data/generate.ts';
import { shopRows } from '../../data/shop.ts';
import { readLines, tempDir } from './helpers.ts';
import { runStage } from '../stage-run.ts';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));

async function conversationsOf(file: string, projectDir: string) {
  const ingested = await runStage(ingestStage, { files: { raw: [file], loaders: [] }, projectDir });
  const converted = await runStage(convertStage, { inputs: { records: ingested.outputs.records } });
  return readLines<{ conversations: { role: string; content: string }[] }>(converted.outputs.conversations);
}

test('data/raw/shop_export.xlsx holds at least 400 conversations on sizes, shipping, returns, invoices and after-sales', async () => {
  const conversations = await conversationsOf(path.join(PROJECT, 'data/raw/shop_export.xlsx'), PROJECT);
  assert.ok(conversations.length >= 400, String(conversations.length));
  const text = conversations.map((c) => c.conversations.map((m) => m.content).join('\n')).join('\n');
  for (const topic of ['码', '发货', '退', '发票', '抱歉', '材质']) assert.ok(text.includes(topic), topic);
});

test('the generator reproduces the committed sample', async () => {
  const dir = await tempDir('sample');
  const file = path.join(dir, 'shop_export.xlsx');
  await writeShopXlsx(file, takeSessions(shopRows(SAMPLE.seed), SAMPLE.sessions), { sharedStrings: true });
  const regenerated = await conversationsOf(file, dir);
  const committed = await conversationsOf(path.join(PROJECT, 'data/raw/shop_export.xlsx'), PROJECT);
  assert.deepEqual(
    regenerated.map((c) => c.conversations),
    committed.map((c) => c.conversations),
  );
});
