// .jsonl files (and .json files, which finetune_demo-style data often are: JSON
// Lines under another name, or one JSON array).
import { readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { readJsonl, type LineRange } from '../../formats/jsonl.ts';
import type { ObjectReader } from './objects.ts';
import { excerpt } from './sink.ts';

/** With `range`, only those lines of a file of JSON lines (see jsonLines). */
export async function readJsonFile(file: string, relative: string, objects: ObjectReader, range?: LineRange): Promise<void> {
  if (!range && !(await jsonLines(file))) return readJsonArray(file, relative, objects);
  for await (const line of readJsonl(file, range)) {
    const at = { file: relative, line: line.line };
    if (line.ok) await objects.read(line.value, at, line.text);
    else await objects.sink.reject({ ...at, reason: 'malformed JSON', detail: `${line.error}: ${excerpt(line.text)}` });
  }
}

/** A JSON array has to be parsed whole: fine for the small files people write by hand; large data belongs in JSONL. */
async function readJsonArray(file: string, relative: string, objects: ObjectReader): Promise<void> {
  let items: unknown[];
  try {
    items = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, '')) as unknown[];
  } catch (error) {
    return objects.sink.reject({ file: relative, reason: 'malformed JSON', detail: (error as Error).message });
  }
  for (const [index, item] of items.entries()) await objects.read(item, { file: relative, item: index + 1 }, JSON.stringify(item));
}

/** Whether a .jsonl/.json file is read line by line: all but a .json file holding one array. */
export async function jsonLines(file: string): Promise<boolean> {
  return !file.endsWith('.json') || (await firstChar(file)) !== '[';
}

async function firstChar(file: string): Promise<string | undefined> {
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 })) {
    const text = (chunk as string).replace(/^\uFEFF/, '').trimStart();
    if (text) return text[0];
  }
  return undefined;
}
