// Loader modules: a .ts/.js file whose default export (or `rows`/`conversations`
// export) is an iterable or async iterable of row objects or conversations, or a
// function returning one: the way to ingest from a database or an API. Imported by
// absolute file URL, so a loader and its own relative imports resolve the same
// from any working directory.
import { pathToFileURL } from 'node:url';
import { GlmflowError } from '../../engine/errors.ts';
import type { ObjectReader } from './objects.ts';

export const LOADER_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

export async function readLoader(file: string, relative: string, objects: ObjectReader): Promise<void> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const exported = module['default'] ?? module['rows'] ?? module['conversations'];
  const source = typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  if (!isIterable(source)) {
    throw new GlmflowError(
      `loader ${relative} exports no rows`,
      'export default an async iterable (e.g. an async generator function) of row objects ({session_id, time, sender, content}) or ChatGLM3 conversations ({conversations: [...]})',
    );
  }
  let item = 0;
  for await (const value of source) await objects.read(value, { file: relative, item: ++item }, JSON.stringify(value) ?? String(value));
}

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return typeof value === 'object' && value !== null && (Symbol.asyncIterator in value || Symbol.iterator in value);
}
