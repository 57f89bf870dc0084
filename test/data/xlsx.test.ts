// Excel workbooks that are damaged, cut short or not workbooks at all, and cell
// text that holds XML entities literally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import ExcelJS from 'exceljs';
import { GlmflowError } from '../../engine/errors.ts';
import type { SourceRecord } from '../../formats/record.ts';
import { ingestStage } from '../../stages/ingest.ts';
import { runStage } from '../stage-run.ts';
import { cli } from '../watch/project.ts';
import { readLines, tempDir } from './helpers.ts';

const SAMPLE = fileURLToPath(new URL('../../data/raw/shop_export.xlsx', import.meta.url));

async function ingestFiles(dir: string, files: readonly string[]) {
  const run = await runStage(ingestStage, { files: { raw: files, loaders: [] }, projectDir: dir });
  return { ...run, records: await readLines<SourceRecord>(run.outputs.records) };
}

async function ingestError(dir: string, file: string): Promise<GlmflowError> {
  try {
    await ingestFiles(dir, [file]);
  } catch (error) {
    assert.ok(error instanceof GlmflowError, `not a GlmflowError: ${String((error as Error).stack ?? error)}`);
    return error;
  }
  assert.fail(`${file} was read without an error`);
}

/** The embedded sample export cut to `percent` of its bytes, as a copy cut short would be. */
async function truncatedSample(dir: string, percent: number): Promise<string> {
  const bytes = await readFile(SAMPLE);
  const file = path.join(dir, `cut${percent}.xlsx`);
  await writeFile(file, bytes.subarray(0, Math.floor((bytes.length * percent) / 100)));
  return file;
}

for (const percent of [10, 50, 90, 99]) {
  test(`the sample workbook cut at ${percent} % stops with the file named, what is wrong and what to do`, async () => {
    const dir = await tempDir('xlsx');
    const file = await truncatedSample(dir, percent);
    const error = await ingestError(dir, file);
    assert.match(error.message, new RegExp(`^cut${percent}\\.xlsx cannot be read as an Excel workbook: the file is incomplete`));
    assert.match(error.hint ?? '', /copy it again|save it again/);
  });
}

test('a CSV renamed .xlsx is named as a text file, with the way out', async () => {
  const dir = await tempDir('xlsx');
  const file = path.join(dir, 'chats.xlsx');
  await writeFile(file, '\uFEFF会话ID,时间,发送方,内容\ns1,2018-11-01 10:00:00,客户,你好\n');
  const error = await ingestError(dir, file);
  assert.match(error.message, /^chats\.xlsx cannot be read as an Excel workbook: it is not a zip file.*starts with text "会话ID/);
  assert.match(error.hint ?? '', /rename it to \.csv/);
});

test('a workbook damaged in the middle names the sheet and the last row read', async () => {
  const dir = await tempDir('xlsx');
  const bytes = Buffer.from(await readFile(SAMPLE));
  // Zeros over compressed sheet data: the zip's table of contents is intact, the sheet is not.
  bytes.fill(0, Math.floor(bytes.length * 0.5), Math.floor(bytes.length * 0.5) + 2000);
  const file = path.join(dir, 'damaged.xlsx');
  await writeFile(file, bytes);
  const error = await ingestError(dir, file);
  assert.match(error.message, /^damaged\.xlsx, sheet "聊天记录" after row \d+: cannot be read/);
  assert.match(error.hint ?? '', /damaged/);
});

test('run convert on a cut workbook fails with the message, and leaves no lock, staging folder or running run', async () => {
  const project = await tempDir('xlsx-project');
  await mkdir(path.join(project, 'data/raw'), { recursive: true });
  const bytes = await readFile(SAMPLE);
  await writeFile(path.join(project, 'data/raw/shop_export.xlsx'), bytes.subarray(0, bytes.length >> 1));
  const run = cli(project, 'run', 'convert');
  assert.equal(run.status, 1, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout + run.stderr, /data\/raw\/shop_export\.xlsx cannot be read as an Excel workbook: the file is incomplete/);
  assert.equal(existsSync(path.join(project, '.glmflow/lock')), false, 'the lock was left behind');
  const tmp = path.join(project, '.glmflow/tmp');
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'a staging folder was left behind');
  const runs = JSON.parse(cli(project, 'runs', '--json').stdout) as { status: string }[];
  assert.deepEqual(runs.map((r) => r.status), ['failed']);
  // With the whole file back, the same project runs.
  await copyFile(SAMPLE, path.join(project, 'data/raw/shop_export.xlsx'));
  assert.equal(cli(project, 'run', 'ingest').status, 0);
});

test('cell text holding an XML entity literally arrives exactly as Excel shows it', async () => {
  const dir = await tempDir('xlsx');
  const text = '&gt;^ω^&lt; &amp; <b>';
  // Inline strings (t="str") and a formula's text result: the XML holds them as &amp;gt;… and each must be decoded once.
  const file = path.join(dir, 'entities.xlsx');
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
  const sheet = workbook.addWorksheet('chats');
  sheet.addRow(['session_id', 'time', 'sender', 'content']).commit();
  sheet.addRow(['s1', '2018-11-01 10:00:00', '客户', text]).commit();
  sheet.addRow(['s1', '2018-11-01 10:00:05', '客服', { formula: 'A1', result: text }]).commit();
  await workbook.commit();
  // The same text as a shared string, the other way Excel stores it.
  const shared = new ExcelJS.Workbook();
  const sharedSheet = shared.addWorksheet('chats');
  sharedSheet.addRow(['session_id', 'time', 'sender', 'content']);
  sharedSheet.addRow(['s2', '2018-11-01 10:00:00', '客户', text]);
  const sharedFile = path.join(dir, 'shared.xlsx');
  await shared.xlsx.writeFile(sharedFile);
  const { records } = await ingestFiles(dir, [file, sharedFile]);
  assert.deepEqual(records.map((r) => r.text), [text, text, text]);
});

test('a reader step that can never finish ends in an error naming the place, not in a silent exit', () => {
  // A promise nothing will settle, as exceljs's was on some cut workbooks: the process would exit with code 13 and say nothing.
  const script = `import { guarded } from ${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../../stages/ingest/xlsx.ts', import.meta.url))).href)};
try { await guarded(new Promise(() => {}), 'stuck.xlsx', { sheet: '聊天记录', row: 41 }); } catch (error) { console.log(error.message); }`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'stuck.xlsx, sheet "聊天记录" after row 41: the workbook ended before its data did');
});
