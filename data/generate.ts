// Writes the embedded sample export data/raw/shop_export.xlsx (seeded, so the
// same data on every machine): `npx tsx data/generate.ts`. The writers are
// reused by the data benchmark to produce a million rows as xlsx and CSV.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { shopRows, type ShopRow } from './shop.ts';

export const HEADERS = ['会话ID', '客户ID', '时间', '发送方', '内容'] as const;
export const SAMPLE = { seed: 20231101, sessions: 480 };

/** The rows of the first `n` sessions. */
export function* takeSessions(rows: Iterable<ShopRow | null>, n: number): Generator<ShopRow | null> {
  let sessions = 0;
  let current: string | undefined;
  for (const row of rows) {
    if (row && row.session !== current) {
      if (++sessions > n) return;
      current = row.session;
    }
    yield row;
  }
}

export function* takeRows<T>(rows: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let taken = 0;
  for (const row of rows) {
    yield row;
    if (++taken >= n) return;
  }
}

/** A shop-system export: the chat sheet (times as real date cells) and a KPI sheet that is not conversation data. */
export async function writeShopXlsx(file: string, rows: Iterable<ShopRow | null>, options: { sharedStrings: boolean }): Promise<number> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: options.sharedStrings, useStyles: true });
  workbook.created = workbook.modified = new Date(Date.UTC(2023, 11, 1));
  const chat = workbook.addWorksheet('聊天记录');
  chat.columns = HEADERS.map((header) => ({ header, width: header === '内容' ? 60 : 20, ...(header === '时间' ? { style: { numFmt: 'yyyy-mm-dd hh:mm:ss' } } : {}) }));
  let count = 0;
  for (const row of rows) {
    // a blank row as exports have them: cells present, all empty (exceljs writes no row for [])
    chat.addRow(row ? [row.session, row.customer, row.time, row.sender, row.content] : HEADERS.map(() => '')).commit();
    count++;
  }
  chat.commit();
  const kpi = workbook.addWorksheet('客服接待统计');
  kpi.addRow(['客服', '接待人数', '平均响应时长(秒)', '满意率']).commit();
  for (const [agent, served, seconds, rate] of [['客服-小美', 152, 31.4, '97.2%'], ['客服-阿杰', 118, 44.0, '95.1%'], ['客服-晓晓', 97, 38.7, '96.3%']] as const) {
    kpi.addRow([agent, served, seconds, rate]).commit();
  }
  kpi.commit();
  await workbook.commit();
  return count;
}

/** The same rows as Excel would save them as CSV (UTF-8 with BOM, CRLF, RFC 4180 quoting). */
export async function writeShopCsv(file: string, rows: Iterable<ShopRow | null>): Promise<number> {
  const out = createWriteStream(file, 'utf8');
  const quote = (cell: string): string => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const time = (d: Date): string => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  let chunk = `\uFEFF${HEADERS.join(',')}\r\n`;
  let count = 0;
  for (const row of rows) {
    chunk += row ? `${[row.session, row.customer, time(row.time), row.sender, quote(row.content)].join(',')}\r\n` : ',,,,\r\n';
    count++;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return count;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = fileURLToPath(new URL('./raw/shop_export.xlsx', import.meta.url));
  const rows = await writeShopXlsx(file, takeSessions(shopRows(SAMPLE.seed), SAMPLE.sessions), { sharedStrings: true });
  console.log(`wrote ${file}: ${SAMPLE.sessions} sessions, ${rows} rows`);
}
