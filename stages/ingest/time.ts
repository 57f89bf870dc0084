// Message times as wall-clock text `YYYY-MM-DD HH:MM:SS`: exports carry no time
// zone, and fixed-width text sorts chronologically without any Date arithmetic.

const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;
// 2018-11-23 09:05:07, 2018/11/23 9:05 (Excel's CSV default), 2018-11-23T09:05:07(.123)(Z),
// 2018年11月23日 09:05:07 (Chinese exports; 时/分/秒 for the colons too)
const TEXT_TIME = /^(\d{4})(?:[-/.]|年)(\d{1,2})(?:[-/.]|月)(\d{1,2})日?(?:(?:[ T]|(?<=日)\s*)(\d{1,2})[:时](\d{2})(?:[:分](\d{2})秒?(?:\.\d+)?)?分?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

const pad = (n: number): string => String(n).padStart(2, '0');

/** Formats the UTC fields of a Date rounded to the nearest second (Excel serials carry float noise: …:07.999 is :08). */
function formatUtc(ms: number): string {
  const d = new Date(Math.round(ms / 1000) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * A cell's time: null when the cell is empty, undefined when it cannot be read as a time.
 * Dates (exceljs gives wall-clock time as UTC fields) and numbers (Excel serial days) are
 * rounded to the second; text is read as written.
 */
export function parseTime(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : formatUtc(value.getTime());
  if (typeof value === 'number') return Number.isFinite(value) ? formatUtc(EXCEL_EPOCH_MS + value * DAY_MS) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return null;
  if (isCanonicalTime(text)) return text;
  const m = TEXT_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  return `${year}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}`;
}

// Fields in range (day up to 31 in any month, as for the parsed forms), in one pattern: faster than a shape test and then the digits.
const CANONICAL = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;

/**
 * Already `YYYY-MM-DD HH:MM:SS` with valid fields: what most exports hold, and then the
 * text is its own result, without the general pattern and re-formatting, which cost more
 * per row than parsing the CSV line did.
 */
export function isCanonicalTime(text: string): boolean {
  return CANONICAL.test(text);
}
