// Server-Sent Events for open dashboards. While at least one page listens, the
// state database is polled: metrics a training logs since the last poll go out
// as they are (a `metrics` event), and any change to the run list (a run or a
// stage starting, finishing, dying) as a `runs` event with the new list.
// Polling, because the writer is another process and SQLite has no change feed.
import type { ServerResponse } from 'node:http';
import type { ProjectView } from './project-view.ts';

export class LiveFeed {
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #rowid: number;
  #runs: string;

  constructor(
    private readonly view: ProjectView,
    private readonly pollMs: number,
  ) {
    // Start at the current end: a page loads what exists with its first requests.
    this.#rowid = view.lastMetricRowid();
    this.#runs = JSON.stringify(view.runs());
  }

  /** Holds `res` open as an event stream until the page goes away. */
  subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // A comment line, so the browser sees the stream open before the first event.
    res.write(': glmflow dashboard\n\n');
    this.#clients.add(res);
    res.on('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stop();
    });
    if (!this.#timer) {
      // Nobody listened since the last poll: what was logged meanwhile is in what this page loads next.
      this.#rowid = this.view.metricsSince(this.#rowid).rowid;
      this.#timer = setInterval(() => this.#poll(), this.pollMs);
    }
  }

  close(): void {
    this.#stop();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #poll(): void {
    const { rowid, points } = this.view.metricsSince(this.#rowid);
    this.#rowid = rowid;
    if (points.length) this.#send('metrics', points.map(({ runId, stage, series, step, name, value }) => ({ runId, stage, series, step, name, value })));
    const runs = JSON.stringify(this.view.runs());
    if (runs !== this.#runs) {
      this.#runs = runs;
      this.#send('runs', runs);
    }
  }

  #send(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
    for (const res of this.#clients) res.write(text);
  }
}
