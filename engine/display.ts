// What the terminal shows while stages run: on a TTY, a live block of progress
// bars under the scrolling messages; elsewhere (CI, pipes), plain lines with
// progress at most every few seconds per stage.
import type { StageOutcome } from './db.ts';

export interface StageResult {
  readonly stage: string;
  readonly outcome: StageOutcome;
  readonly reason: string;
  readonly durationMs: number;
  readonly outputs: readonly { file: string; size: number }[];
  readonly summary: readonly string[];
  readonly logPath: string | null;
  readonly error?: string;
}

interface Live {
  readonly started: number;
  done: number;
  total: number | undefined;
  detail: string;
  lastPrinted: number;
}

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const PLAIN_PROGRESS_EVERY_MS = 5000;

export class Display {
  readonly #live = new Map<string, Live>();
  readonly #tty: boolean;
  #drawn = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.#tty = Boolean(out.isTTY) && process.env['CI'] !== 'true';
  }

  info(line: string): void {
    this.#clear();
    this.out.write(line + '\n');
    this.#draw();
  }

  stageStarted(stage: string, reasons: readonly string[]): void {
    this.info(`▶ ${stage}: ${reasons.join('; ')}`);
    this.#live.set(stage, { started: Date.now(), done: 0, total: undefined, detail: '', lastPrinted: Date.now() });
    if (this.#tty && !this.#timer) {
      this.#timer = setInterval(() => this.#redraw(), 120);
      this.#timer.unref();
    }
  }

  progress(stage: string, done: number, total: number | undefined, detail: string): void {
    const live = this.#live.get(stage);
    if (!live) return;
    Object.assign(live, { done, total, detail });
    if (!this.#tty && Date.now() - live.lastPrinted >= PLAIN_PROGRESS_EVERY_MS) {
      live.lastPrinted = Date.now();
      this.out.write(`  ${progressLine(stage, live, '·')}\n`);
    }
  }

  stageFinished(result: StageResult): void {
    this.#live.delete(result.stage);
    const seconds = formatDuration(result.durationMs);
    if (result.outcome === 'ran') this.info(`✓ ${result.stage} ran in ${seconds}`);
    else if (result.outcome === 'failed') this.info(`✗ ${result.stage} failed after ${seconds}: ${result.error ?? ''}${result.logPath ? `\n  log: ${result.logPath}` : ''}`);
    else if (result.outcome === 'skipped') this.info(`- ${result.stage} skipped: ${result.reason}`);
    else if (result.outcome === 'restored') this.info(`↺ ${result.stage} restored from cache`);
    if (this.#live.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #redraw(): void {
    this.#frame++;
    this.#clear();
    this.#draw();
  }

  #clear(): void {
    if (this.#tty && this.#drawn) this.out.write(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  #draw(): void {
    if (!this.#tty) return;
    const spin = SPINNER[this.#frame % SPINNER.length]!;
    const lines = [...this.#live].map(([stage, live]) => progressLine(stage, live, spin));
    if (lines.length) this.out.write(lines.join('\n') + '\n');
    this.#drawn = lines.length;
  }
}

function progressLine(stage: string, live: Live, mark: string): string {
  const elapsed = Date.now() - live.started;
  const parts = [`${mark} ${stage.padEnd(10)}`];
  if (live.total) {
    const ratio = Math.min(1, live.done / live.total);
    const width = 24;
    const filled = Math.round(ratio * width);
    parts.push(`${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(ratio * 100).toFixed(0).padStart(3)}% ${live.done}/${live.total}`);
    if (ratio > 0 && ratio < 1) parts.push(`ETA ${formatDuration((elapsed / ratio) * (1 - ratio))}`);
  } else if (live.done) {
    parts.push(String(live.done));
  }
  parts.push(formatDuration(elapsed));
  if (live.detail) parts.push(live.detail);
  return parts.join('  ');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A fixed-width table; columns sized to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export function summaryTable(results: readonly StageResult[]): string {
  const rows = results.map((r) => [
    r.stage,
    r.outcome,
    r.outcome === 'ran' || r.outcome === 'failed' ? formatDuration(r.durationMs) : '-',
    r.outputs.map((o) => `${o.file} (${formatBytes(o.size)})`).join(', '),
  ]);
  return table(['stage', 'state', 'time', 'outputs'], rows);
}
