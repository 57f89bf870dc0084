// How a table's cell strings hold their text. Readers give ordinary strings,
// except the UTF-8 CSV reader: it hands papaparse the file's bytes one char per
// byte (a latin1 view), undecoded. Decoding the text and encoding it again for
// records.jsonl took longer than papaparse's parse on a million-row export, and
// in this form a record line is written by copying bytes. Delimiters, quotes and
// line breaks are ASCII, and no byte of a multi-byte UTF-8 character is ASCII,
// so papaparse splits the bytes exactly where it would split the decoded text.

export interface CellForm {
  /** How record lines built from these cells are written. */
  readonly encoding: 'utf8' | 'latin1';
  /** The text as an ordinary string: for labels, times that need parsing, messages. */
  decode(text: string): string;
  /** An ordinary string in this form. */
  encode(text: string): string;
  /** String.prototype.trim, in this form. */
  trim(text: string): string;
}

export const TEXT: CellForm = {
  encoding: 'utf8',
  decode: (text) => text,
  encode: (text) => text,
  trim: (text) => text.trim(),
};

// The bytes a whitespace character that trim removes can start or end with, in UTF-8: ASCII tab to
// carriage return and space; U+00A0 (C2 A0), U+1680 (E1 9A 80), U+2000–U+200A (E2 80 80–8A),
// U+2028/9 (E2 80 A8/A9), U+202F (E2 80 AF), U+205F (E2 81 9F), U+3000 (E3 80 80), U+FEFF (EF BB BF).
const MAY_START_SPACE = byteSet([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xc2, 0xe1, 0xe2, 0xe3, 0xef]);
const MAY_END_SPACE = byteSet([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x9f, 0xa0, 0xa8, 0xa9, 0xaf, 0xbf]);

function byteSet(bytes: readonly number[]): Uint8Array {
  const set = new Uint8Array(256);
  for (const byte of bytes) set[byte] = 1;
  return set;
}

export const UTF8_BYTES: CellForm = {
  encoding: 'latin1',
  decode: (text) => Buffer.from(text, 'latin1').toString('utf8'),
  encode: (text) => Buffer.from(text, 'utf8').toString('latin1'),
  trim(text) {
    // The usual cell cannot start or end with whitespace: return it as it is. Otherwise trim the decoded
    // text, as trim on the bytes would take 0xA0 (a continuation byte here) for a no-break space.
    if (text !== '' && MAY_START_SPACE[text.charCodeAt(0)] === 0 && MAY_END_SPACE[text.charCodeAt(text.length - 1)] === 0) return text;
    return this.encode(this.decode(text).trim());
  },
};
