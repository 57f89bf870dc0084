// Python's notion of whitespace, which the reference metrics rely on through
// str.strip(), str.split() and re's \s. It is not JavaScript's: Python counts
// U+001C–U+001F and U+0085 as whitespace and not the BOM (U+FEFF), so trim()
// and /\s/ would change which texts are empty and where words break.

/** Every character for which Python's str.isspace() is true (the same set as re's \s on str). */
const WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** One whitespace character, as Python's re matches \s. */
export const PY_SPACE = `[${WHITESPACE}]`;

const LEADING = new RegExp(`^[${WHITESPACE}]+`);
const TRAILING = new RegExp(`[${WHITESPACE}]+$`);
const RUNS = new RegExp(`[${WHITESPACE}]+`);

/** Python's str.strip() with no argument. */
export const pyStrip = (text: string): string => text.replace(LEADING, '').replace(TRAILING, '');

/** Python's str.rstrip() with no argument. */
export const pyRstrip = (text: string): string => text.replace(TRAILING, '');

/** Python's str.split() with no argument: the words between whitespace runs, none empty. */
export const pySplit = (text: string): string[] => text.split(RUNS).filter((w) => w !== '');
