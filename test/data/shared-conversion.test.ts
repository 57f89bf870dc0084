// The shared reference exports convert to exactly conversations.expected.jsonl,
// and every row that does not make it is in rejected.jsonl with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { sharedPath } from '../shared.ts';
import { ingestStage } from '../../stages/ingest.ts';
import { convertStage } from '../../stages/convert.ts';
import type { Message } from '../../formats/conversation.ts';
import { readLines } from './helpers.ts';
import { runStage } from '../stage-run.ts';

interface Expected {
  readonly source: string;
  readonly session_id?: string;
  readonly line?: number;
  readonly conversations: Message[];
}
interface Converted {
  readonly source: string;
  readonly session_id: string;
  readonly conversations: Message[];
}

const FILES = ['shop_export.xlsx', 'shop_export_utf8bom.csv', 'shop_export_gbk.csv', 'chatglm3_conversations.jsonl'];

async function ingestAndConvert(files: readonly string[], projectDir: string) {
  const ingested = await runStage(ingestStage, { files: { raw: files, loaders: [] }, projectDir });
  const converted = await runStage(convertStage, { inputs: { records: ingested.outputs.records } });
  return {
    ingested,
    converted,
    conversations: await readLines<Converted>(converted.outputs.conversations),
    rejected: [...(await readLines(ingested.outputs.rejected)), ...(await readLines(converted.outputs.rejected))],
  };
}

/** The id convert gives each expected conversation: the session id, or `<file>:<line>` for JSONL. */
const idOf = (expected: Expected): string => expected.session_id ?? `${expected.source}:${expected.line}`;

for (const file of FILES) {
  test(`${file} converts to exactly its part of conversations.expected.jsonl`, async (t) => {
    const expectedFile = sharedPath(t, 'data/ecommerce-cs/conversations.expected.jsonl');
    const input = sharedPath(t, `data/ecommerce-cs/${file}`);
    if (!expectedFile || !input) return;
    const expected = (await readLines<Expected>(expectedFile)).filter((e) => e.source === file);
    const { conversations } = await ingestAndConvert([input], path.dirname(input));
    assert.deepEqual(
      conversations.map((c) => ({ id: c.session_id, source: c.source, conversations: c.conversations })),
      expected.map((e) => ({ id: idOf(e), source: e.source, conversations: e.conversations })),
    );
  });
}

test('all four files together give all 540 expected conversations, and the documented rejects', async (t) => {
  const expectedFile = sharedPath(t, 'data/ecommerce-cs/conversations.expected.jsonl');
  if (!expectedFile) return;
  const dir = path.dirname(expectedFile);
  const { conversations, rejected, ingested, converted } = await ingestAndConvert(
    FILES.map((f) => path.join(dir, f)),
    dir,
  );
  const expected = await readLines<Expected>(expectedFile);
  assert.equal(conversations.length, 540);
  const byId = new Map(conversations.map((c) => [c.session_id, c.conversations]));
  for (const e of expected) assert.deepEqual(byId.get(idOf(e)), e.conversations, idOf(e));

  const count = (reason: string, source?: string): number => rejected.filter((r) => r['reason'] === reason && (source === undefined || r['file'] === source)).length;
  // The README's mess table: 18 blank rows, 30 system-notice rows, 5 duplicates, 264 placeholder-only rows.
  assert.equal(count('blank row'), 18);
  assert.deepEqual([count('blank row', 'shop_export.xlsx'), count('blank row', 'shop_export_utf8bom.csv'), count('blank row', 'shop_export_gbk.csv')], [8, 5, 5]);
  assert.equal(count('system notice'), 30);
  assert.equal(count('duplicate row'), 5);
  assert.equal(count('placeholder-only message'), 264);
  const malformed = rejected.filter((r) => r['reason'] === 'malformed JSON');
  assert.deepEqual(malformed.map((r) => [r['file'], r['line']]), [['chatglm3_conversations.jsonl', 38]]);
  const dropped = new Map(rejected.filter((r) => String(r['reason']).startsWith('session dropped')).map((r) => [r['session'], r['reason']]));
  assert.deepEqual(Object.fromEntries(dropped), {
    db477150c1711b629282be93a48f7818: 'session dropped: no assistant message',
    '00edf97b7bc09c2c5eb300fe97b94c3c': 'session dropped: no assistant message',
    '79917e38b84094922df044cb11b1dd47': 'session dropped: no assistant message',
    '3a53d3cf095d6ebbf70f9cc139249894': 'session dropped: no user message',
  });
  for (const entry of rejected) {
    assert.ok(typeof entry['file'] === 'string' && (typeof entry['row'] === 'number' || typeof entry['line'] === 'number'), JSON.stringify(entry));
  }
  // The KPI sheet is skipped with a note, not an error.
  assert.ok(ingested.summary.some((line) => line.includes('sheet "客服接待统计" skipped')), ingested.summary.join('\n'));
  // Summaries add up: 3 431 + 1 571 + 1 473 rows and 81 non-blank lines.
  assert.match(ingested.summary[0]!, /^4 files: 6556 rows\/lines in = 6537 read \(7404 records\) \+ 19 rejected \(blank row ×18, malformed JSON ×1\)$/);
  assert.match(converted.summary[0]!, /^7404 records in = 7096 in 540 conversations \(6519 messages after merging\) \+ 308 rejected /);
});
