// How a table's cell strings hold their text. Readers give ordinary strings,
// except the UTF-8 CSV reader: it hands papaparse the file's bytes as byte text
// (formats/byte-text.ts), undecoded, so that a record line is written by copying
// bytes, and papaparse splits the bytes exactly where it would split the text.
import { fromByteText, toByteText, trimByteText } from '../../formats/byte-text.ts';

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

export const UTF8_BYTES: CellForm = {
  encoding: 'latin1',
  decode: fromByteText,
  encode: toByteText,
  trim: trimByteText,
};
