// The dashboard's data and its HTTP API, without a browser.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { get } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { pipeline } from '../../pipeline.ts';
import { renderPage } from '../../watch/ui/page.ts';
import { ProjectView } from '../../watch/ui/project-view.ts';
import { startDashboard } from '../../watch/ui/server.ts';
import { runsProject, SCORE_METRICS } from './fixture.ts';

test('project view: runs, curve stages, params that differ, DAG, evaluations', () => {
  const project = runsProject();
  const view = new ProjectView(pipeline, project.dir);
  try {
    const runs = view.runs();
    assert.deepEqual(runs.map((r) => [r.id, r.status]), [[project.live, 'running'], [project.finished, 'ok']]);
    assert.deepEqual(view.curveStages(), ['base', 'train']);
    assert.deepEqual(view.curves(project.live, 'train').map((c) => `${c.series}/${c.name}:${c.steps.length}`).sort(), ['eval/loss:2', 'train/epoch:8', 'train/grad_norm:8', 'train/learning_rate:8', 'train/loss:8', 'train/tokens_per_s:8']);

    // Only the live run ran train differently; base ran in one run only, so it is no difference.
    assert.deepEqual(view.paramDiff([project.finished, project.live]), { runs: [project.finished, project.live], rows: [{ param: 'train.learning_rate', values: ['0.02', '0.05'] }] });

    const dag = view.dag();
    assert.equal(dag.error, null);
    assert.deepEqual(dag.nodes.map((n) => n.stage), pipeline.names);
    const node = (stage: string) => dag.nodes.find((n) => n.stage === stage)!;
    assert.deepEqual(node('train').upstream, ['tokenize', 'base']);
    assert.deepEqual(node('train').last, { runId: project.live, outcome: 'running', took: '0ms' });
    assert.deepEqual(node('base').last, { runId: project.finished, outcome: 'ran', took: '1m01s' });
    assert.equal(node('ingest').state, 'stale');

    assert.deepEqual(view.evaluations().map(({ runId, stage, latest, metrics }) => ({ runId, stage, latest, metrics })), [{ runId: project.finished, stage: 'score', latest: true, metrics: SCORE_METRICS }]);
  } finally {
    view.close();
    project.remove();
  }
});

test('project view: a project whose stages cannot be planned (no raw data) still shows its DAG and says why', () => {
  const project = runsProject();
  rmSync(path.join(project.dir, 'data'), { recursive: true });
  const view = new ProjectView(pipeline, project.dir);
  try {
    const dag = view.dag();
    assert.match(dag.error ?? '', /matches no file/);
    assert.deepEqual(new Set(dag.nodes.map((n) => n.state)), new Set(['unknown']));
    assert.equal(dag.nodes.find((n) => n.stage === 'score')?.last?.outcome, 'ran');
  } finally {
    view.close();
    project.remove();
  }
});

test('project view: a new project, with no state database yet, shows no runs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-ui-new-'));
  const view = new ProjectView(pipeline, dir);
  try {
    assert.deepEqual([view.runs(), view.curveStages(), view.evaluations()], [[], [], []]);
    assert.deepEqual(view.dag().nodes.map((n) => [n.state, n.last]), pipeline.names.map(() => ['unknown', null]));
  } finally {
    view.close();
    rmSync(dir, { recursive: true });
  }
});

test('page: the project name is escaped', () => {
  const page = renderPage('<img src=x onerror="alert(1)">&');
  assert.ok(page.includes('<title>&#60;img src=x onerror=&#34;alert(1)&#34;&#62;&#38; · glmflow dashboard</title>'));
  assert.ok(!page.includes('<img'));
});

test('server: JSON API, a bad request is a 400, another host name is refused, metrics stream live', async () => {
  const project = runsProject();
  const dashboard = await startDashboard({ pipeline, projectDir: project.dir, port: 0, pollMs: 50 });
  try {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(dashboard.url);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<title>glmflow-ui-\w+ · glmflow dashboard<\/title>/);

    const overview = (await (await fetch(`${dashboard.url}api/overview`)).json()) as { runs: unknown[]; curveStages: string[] };
    assert.equal(overview.runs.length, 2);
    assert.deepEqual(overview.curveStages, ['base', 'train']);
    const bad = await fetch(`${dashboard.url}api/curves?run=1&stage=nope`);
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'unknown stage "nope"');
    assert.equal((await fetch(`${dashboard.url}api/nothing`)).status, 404);
    // fetch will not send another Host header; a page on a DNS-rebound name would.
    const rebound = await new Promise<number | undefined>((resolve, reject) => get(dashboard.url, { headers: { host: 'rebound.example' } }, (res) => resolve(res.resume().statusCode)).on('error', reject));
    assert.equal(rebound, 403);

    const events = await fetch(`${dashboard.url}api/events`);
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read(); // the stream's opening comment
    project.logTraining(90);
    let text = '';
    while (!text.includes('event: metrics')) text += (await reader.read()).value ?? '';
    const data = JSON.parse(/event: metrics\ndata: (.*)\n/.exec(text)![1]!) as { runId: number; stage: string; series: string; step: number; name: string }[];
    assert.ok(data.some((p) => p.runId === project.live && p.stage === 'train' && p.series === 'train' && p.step === 90 && p.name === 'loss'));
    await reader.cancel();
  } finally {
    await dashboard.close();
    project.remove();
  }
});
