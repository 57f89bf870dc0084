// Which raw files ingest reads: symlinks are not followed out of the raw folder
// nor round in loops, code among the raw files is never run, and every file or
// link left out is named in the stage summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expandPatterns } from '../../engine/files.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { ingestStage } from '../../stages/ingest.ts';
import { runStage } from '../stage-run.ts';
import { readLines, tempDir } from './helpers.ts';

const CSV = 'session_id,time,sender,content\ns1,2018-11-01 10:00:00,客户,在吗\ns1,2018-11-01 10:00:05,客服,在的\n';

/** A project with one CSV export under data/raw, and a module beside data/raw that writes `ran` when imported. */
async function project(): Promise<{ dir: string; raw: string; marker: string }> {
  const dir = await tempDir('raw-files');
  const raw = path.join(dir, 'data/raw');
  await mkdir(raw, { recursive: true });
  await writeFile(path.join(raw, 'export.csv'), CSV);
  const marker = path.join(dir, 'ran');
  const code = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\nexport default [];\n`;
  await writeFile(path.join(dir, 'data/generate.ts'), code);
  await writeFile(path.join(raw, 'helper.ts'), code);
  return { dir, raw, marker };
}

async function ingestProject(dir: string, params: Record<string, unknown> = {}) {
  const glob = (params['glob'] as string | undefined) ?? 'data/raw/**/*';
  const loaders = (params['loaders'] as string[] | undefined) ?? [];
  const files = { raw: expandPatterns(dir, glob, 'raw'), loaders: loaders.length ? expandPatterns(dir, loaders, 'loaders') : [] };
  const run = await runStage(ingestStage, { params, files, projectDir: dir });
  return { ...run, files, records: await readLines<SourceRecord>(run.outputs.records) };
}

test('a .ts file among the raw files is not run, and the summary says how to use it as a loader', async () => {
  const { dir, marker } = await project();
  const { summary, records } = await ingestProject(dir);
  assert.equal(existsSync(marker), false, 'code under data/raw was imported');
  assert.equal(records.length, 2);
  assert.ok(summary.some((line) => /^data\/raw\/helper\.ts: not run: .*ingest\.loaders/.test(line)), summary.join('\n'));
  // Named in ingest.loaders, the same module is run: the user asked for it.
  await ingestProject(dir, { loaders: ['data/generate.ts'] });
  assert.equal(existsSync(marker), true);
});

test('symlinks: not followed out of the raw folder, loops detected, broken ones named; each file read once', async () => {
  const { dir, raw, marker } = await project();
  await symlink('..', path.join(raw, 'up'));
  await symlink('.', path.join(raw, 'self'));
  await symlink('../generate.ts', path.join(raw, 'generator.ts'));
  await symlink('missing.csv', path.join(raw, 'broken.csv'));
  await symlink('export.csv', path.join(raw, 'again.csv'));
  await mkdir(path.join(raw, 'more'));
  await writeFile(path.join(raw, 'more/second.csv'), CSV.replaceAll('s1', 's2'));
  await symlink('more/second.csv', path.join(dir, 'data/raw/linked.csv'));
  const { files, summary, records } = await ingestProject(dir);
  assert.deepEqual(files.raw.map((file) => path.relative(dir, file)), ['data/raw/export.csv', 'data/raw/helper.ts', 'data/raw/more/second.csv']);
  assert.equal(existsSync(marker), false, 'a module outside data/raw was imported through a symlink');
  // The export and the file in more/ once each, however many links lead to them.
  assert.deepEqual(records.map((r) => `${r.file}:${r.row}`), ['data/raw/export.csv:2', 'data/raw/export.csv:3', 'data/raw/more/second.csv:2', 'data/raw/more/second.csv:3']);
  const said = (pattern: RegExp): void => assert.ok(summary.some((line) => pattern.test(line)), `${pattern} not in the summary:\n${summary.join('\n')}`);
  said(/^data\/raw\/up: skipped, symlink loop \(-> \.\., a folder above it\)/);
  said(/^data\/raw\/self: skipped, symlink loop \(-> \., a folder above it\)/);
  said(/^data\/raw\/generator\.ts: skipped, symlink \(-> \.\.\/generate\.ts\) leads out of .*data\/raw: not followed/);
  said(/^data\/raw\/broken\.csv: skipped, broken symlink \(-> missing\.csv/);
  said(/^data\/raw\/again\.csv: skipped, symlink \(-> export\.csv\) to a file already read under its own name/);
  said(/^data\/raw\/linked\.csv: skipped, symlink \(-> more\/second\.csv\) to a file already read/);
});

test('a link to a file inside the raw folder that is not read otherwise is read through the link', async () => {
  const { dir, raw } = await project();
  await mkdir(path.join(raw, '.hidden'));
  await writeFile(path.join(raw, '.hidden/third.csv'), CSV.replaceAll('s1', 's3'));
  await symlink('.hidden/third.csv', path.join(raw, 'third.csv'));
  const { records } = await ingestProject(dir, { glob: 'data/raw/*.csv' });
  assert.deepEqual([...new Set(records.map((r) => r.file))], ['data/raw/export.csv', 'data/raw/third.csv']);
});

test('a zero-byte CSV and a broken symlink are listed in the ingest summary', async () => {
  const { dir, raw } = await project();
  await writeFile(path.join(raw, 'empty.csv'), '');
  await symlink('moved-away.xlsx', path.join(raw, 'gone.xlsx'));
  const { summary } = await ingestProject(dir);
  assert.ok(summary.includes('data/raw/empty.csv: skipped, empty file (0 bytes)'), summary.join('\n'));
  assert.ok(summary.includes('data/raw/gone.xlsx: skipped, broken symlink (-> moved-away.xlsx, which does not exist)'), summary.join('\n'));
});
