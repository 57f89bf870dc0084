// The dashboard's HTTP server (node:http, loopback only): the page at /, the
// JSON it reads under /api/, and the live event stream at /api/events.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GlmflowError } from '../../engine/errors.ts';
import type { ParamSources } from '../../engine/params.ts';
import type { Pipeline } from '../../engine/pipeline.ts';
import { LiveFeed } from './live.ts';
import { renderPage } from './page.ts';
import { ProjectView } from './project-view.ts';

export interface DashboardOptions {
  readonly pipeline: Pipeline;
  readonly projectDir: string;
  /** 0: any free port. */
  readonly port: number;
  readonly params?: ParamSources;
  /** How often the database is checked for new metrics and run changes. */
  readonly pollMs?: number;
}

export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A request the page got wrong: answered 400 with the message. */
class BadRequest extends Error {}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const view = new ProjectView(options.pipeline, options.projectDir, options.params);
  const live = new LiveFeed(view, options.pollMs ?? 1000);
  const page = renderPage(path.basename(view.projectDir));
  let port = options.port;

  const api: Record<string, (query: URLSearchParams) => unknown> = {
    '/api/overview': () => ({ project: view.projectDir, stages: options.pipeline.names, curveStages: view.curveStages(), runs: view.runs() }),
    '/api/curves': (q) => view.curves(intParam(q, 'run'), stageParam(q)),
    '/api/params': (q) => view.paramDiff((q.get('runs') ?? '').split(',').filter(Boolean).map((id) => toInt(id, 'runs'))),
    '/api/dag': () => view.dag(),
    '/api/evaluations': () => view.evaluations(),
  };
  const stageParam = (q: URLSearchParams): string => {
    const stage = q.get('stage') ?? '';
    if (!options.pipeline.names.includes(stage)) throw new BadRequest(`unknown stage "${stage}"`);
    return stage;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // Only pages of this origin: another site in the browser must not read a project through a rebound DNS name.
    if (req.headers.host !== `${HOST}:${port}` && req.headers.host !== `localhost:${port}`) return void send(res, 403, 'text/plain', 'forbidden host');
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (req.method !== 'GET') return void send(res, 405, 'text/plain', 'only GET');
    if (url.pathname === '/') return void send(res, 200, 'text/html; charset=utf-8', page);
    if (url.pathname === '/api/events') return live.subscribe(res);
    const route = api[url.pathname];
    if (!route) return void send(res, 404, 'text/plain', 'not found');
    try {
      send(res, 200, 'application/json', JSON.stringify(route(url.searchParams)));
    } catch (error) {
      const status = error instanceof BadRequest ? 400 : 500;
      send(res, status, 'text/plain', error instanceof Error ? error.message : String(error));
    }
  };

  const server = createServer(handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, HOST, resolve);
    });
  } catch (error) {
    live.close();
    view.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new GlmflowError(`port ${options.port} is in use`, 'pick another with --port N, or --port 0 for any free one');
    throw error;
  }
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}/`,
    close: async () => {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      view.close();
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function intParam(q: URLSearchParams, name: string): number {
  return toInt(q.get(name) ?? '', name);
}

function toInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new BadRequest(`${name}: "${text}" is not a whole number`);
  return n;
}
