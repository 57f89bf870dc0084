// Byte text: a string holding UTF-8 bytes one char per byte (a latin1 view of
// them). Making one from a Buffer, and writing it back, is a copy; decoding and
// encoding UTF-8 cost more than the work ingest and convert do per row on a
// million-row export. Quotes, backslashes, delimiters and line breaks are ASCII,
// and no byte of a multi-byte UTF-8 character is ASCII, so searching byte text
// for them finds what a search of the decoded text finds.

/** The text a byte text holds. */
export function fromByteText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** A string as byte text. */
export function toByteText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * The length of the character String.prototype.trim removes that starts at `at`, if it is not ASCII, else 0:
 * U+00A0 (C2 A0), U+1680 (E1 9A 80), U+2000–U+200A (E2 80 80–8A), U+2028/9 (E2 80 A8/A9), U+202F (E2 80 AF),
 * U+205F (E2 81 9F), U+3000 (E3 80 80), U+FEFF (EF BB BF). Compares char codes only: it runs on every cell.
 */
function wideSpace(bytes: string, at: number): number {
  const lead = bytes.charCodeAt(at);
  if (lead === 0xc2) return bytes.charCodeAt(at + 1) === 0xa0 ? 2 : 0;
  const middle = bytes.charCodeAt(at + 1);
  const last = bytes.charCodeAt(at + 2);
  if (lead === 0xe1) return middle === 0x9a && last === 0x80 ? 3 : 0;
  if (lead === 0xe2) return (middle === 0x80 && ((last >= 0x80 && last <= 0x8a) || last === 0xa8 || last === 0xa9 || last === 0xaf)) || (middle === 0x81 && last === 0x9f) ? 3 : 0;
  if (lead === 0xe3) return middle === 0x80 && last === 0x80 ? 3 : 0;
  if (lead === 0xef) return middle === 0xbb && last === 0xbf ? 3 : 0;
  return 0;
}

/** Whether the byte char at `at` is an ASCII space trim removes (tab to carriage return, space). */
function asciiSpace(bytes: string, at: number): boolean {
  const code = bytes.charCodeAt(at);
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** Whether the text of `bytes[from, to)` starts or ends with a character trim removes. */
export function hasEdgeSpace(bytes: string, from = 0, to = bytes.length): boolean {
  if (to <= from) return false;
  if (asciiSpace(bytes, from) || asciiSpace(bytes, to - 1)) return true;
  const first = wideSpace(bytes, from);
  if (first !== 0 && from + first <= to) return true;
  return (to - 2 >= from && wideSpace(bytes, to - 2) === 2) || (to - 3 >= from && wideSpace(bytes, to - 3) === 3);
}

/** String.prototype.trim of the text a byte text holds, as byte text. */
export function trimByteText(bytes: string): string {
  return hasEdgeSpace(bytes) ? toByteText(fromByteText(bytes).trim()) : bytes;
}
