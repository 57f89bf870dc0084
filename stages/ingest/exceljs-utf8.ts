// exceljs 4.4's streaming reader decodes each zip chunk to text on its own
// (utils/parse-sax.js), so a Chinese character split across two chunks turns
// into U+FFFD: on large sheets sender labels and messages come out garbled
// (seen on the 1M-row benchmark file). This loads exceljs's WorkbookReader with
// a parse-sax that decodes the chunks as one stream; everything else is exceljs's.
import { createRequire } from 'node:module';
import { TextDecoder } from 'node:util';
import type ExcelJS from 'exceljs';

type SaxEvent = { eventType: string; value: unknown };
interface Saxes {
  on(event: string, listener: (value: unknown) => void): void;
  write(text: string): void;
}

const require = createRequire(import.meta.url);
const { SaxesParser } = require('saxes') as { SaxesParser: new () => Saxes };

async function* parseSax(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SaxEvent[]> {
  const parser = new SaxesParser();
  const decoder = new TextDecoder('utf-8');
  let error: unknown;
  let events: SaxEvent[] = [];
  parser.on('error', (err) => (error = err));
  for (const eventType of ['opentag', 'text', 'closetag']) parser.on(eventType, (value) => events.push({ eventType, value }));
  for await (const chunk of chunks) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (error) throw error;
    yield events;
    events = [];
  }
}

function loadWorkbookReader(): typeof ExcelJS.stream.xlsx.WorkbookReader {
  const parseSaxPath = require.resolve('exceljs/lib/utils/parse-sax.js');
  // The readers capture parse-sax when first loaded: load fresh copies that see ours.
  for (const module of ['exceljs/lib/stream/xlsx/workbook-reader.js', 'exceljs/lib/stream/xlsx/worksheet-reader.js']) delete require.cache[require.resolve(module)];
  const original = require.cache[parseSaxPath];
  require.cache[parseSaxPath] = { id: parseSaxPath, filename: parseSaxPath, loaded: true, exports: parseSax } as unknown as NodeJS.Module;
  try {
    return require('exceljs/lib/stream/xlsx/workbook-reader.js') as typeof ExcelJS.stream.xlsx.WorkbookReader;
  } finally {
    if (original) require.cache[parseSaxPath] = original;
    else delete require.cache[parseSaxPath];
  }
}

export const WorkbookReader = loadWorkbookReader();
