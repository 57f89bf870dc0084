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

// The characters String.prototype.trim removes that are not ASCII, in UTF-8: U+00A0 (C2 A0),
// U+1680 (E1 9A 80), U+2000–U+200A (E2 80 80–8A), U+2028/9 (E2 80 A8/A9), U+202F (E2 80 AF),
// U+205F (E2 81 9F), U+3000 (E3 80 80), U+FEFF (EF BB BF).
const WIDE_SPACES = new Set(['\xc2\xa0', '\xe1\x9a\x80', '\xe2\x80\xa8', '\xe2\x80\xa9', '\xe2\x80\xaf', '\xe2\x81\x9f', '\xe3\x80\x80', '\xef\xbb\xbf']);
for (let last = 0x80; last <= 0x8a; last++) WIDE_SPACES.add(`\xe2\x80${String.fromCharCode(last)}`);

/** Whether the byte char at `at` is an ASCII space trim removes (tab to carriage return, space). */
function asciiSpace(bytes: string, at: number): boolean {
  const code = bytes.charCodeAt(at);
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** Whether the text of `bytes[from, to)` starts or ends with a character trim removes. */
export function hasEdgeSpace(bytes: string, from = 0, to = bytes.length): boolean {
  if (to <= from) return false;
  if (asciiSpace(bytes, from) || asciiSpace(bytes, to - 1)) return true;
  const start = bytes.charCodeAt(from);
  // Every wide space starts with C2, E1, E2, E3 or EF; and ends with 80–8A, 9F, A0, A8, A9, AF or BF.
  if ((start === 0xc2 || (start >= 0xe1 && start <= 0xe3) || start === 0xef) && (WIDE_SPACES.has(bytes.slice(from, from + 2)) || WIDE_SPACES.has(bytes.slice(from, from + 3)))) return true;
  const end = bytes.charCodeAt(to - 1);
  return end >= 0x80 && end <= 0xbf && (WIDE_SPACES.has(bytes.slice(Math.max(from, to - 2), to)) || WIDE_SPACES.has(bytes.slice(Math.max(from, to - 3), to)));
}

/** String.prototype.trim of the text a byte text holds, as byte text. */
export function trimByteText(bytes: string): string {
  return hasEdgeSpace(bytes) ? toByteText(fromByteText(bytes).trim()) : bytes;
}
