// exceljs 4.4's streaming reader decodes each zip chunk to text on its own
// (utils/parse-sax.js), so a Chinese character split across two chunks turns
// into U+FFFD: on large sheets sender labels and messages come out garbled
// (seen on the 1M-row benchmark file). It also decodes XML entities in string
// cells (t="str", inlineStr, a formula's text result) a second time after the
// XML parser did, so a cell whose text is `&gt;` came out as `>`. This loads
// exceljs's WorkbookReader with a parse-sax that decodes the chunks as one stream
// and a worksheet reader that takes the parser's text as it is; everything else
// is exceljs's.
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

// saxes has decoded the entities already: the worksheet reader's second decoding must leave the text as it is.
const utils = require('exceljs/lib/utils/utils.js') as Record<string, unknown>;
const onceDecodedUtils = { ...utils, xmlDecode: (text: string) => text };

function loadWorkbookReader(): typeof ExcelJS.stream.xlsx.WorkbookReader {
  const replacements = new Map<string, unknown>([
    [require.resolve('exceljs/lib/utils/parse-sax.js'), parseSax],
    [require.resolve('exceljs/lib/utils/utils.js'), onceDecodedUtils],
  ]);
  // The readers capture their modules when first loaded: load fresh copies that see ours, after the rest of
  // exceljs is loaded with the real ones (the xforms decode entities themselves and must keep doing so).
  require('exceljs');
  for (const module of ['exceljs/lib/stream/xlsx/workbook-reader.js', 'exceljs/lib/stream/xlsx/worksheet-reader.js']) delete require.cache[require.resolve(module)];
  const originals = new Map([...replacements.keys()].map((file) => [file, require.cache[file]]));
  for (const [file, exports] of replacements) require.cache[file] = { id: file, filename: file, loaded: true, exports } as unknown as NodeJS.Module;
  try {
    return require('exceljs/lib/stream/xlsx/workbook-reader.js') as typeof ExcelJS.stream.xlsx.WorkbookReader;
  } finally {
    for (const [file, original] of originals) {
      if (original) require.cache[file] = original;
      else delete require.cache[file];
    }
  }
}

export const WorkbookReader = loadWorkbookReader();
