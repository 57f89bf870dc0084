// The dashboard end to end: the real server on a project's state database, the
// page in headless Chromium, metrics and run changes written while it is open.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pipeline } from '../../pipeline.ts';
import { startDashboard } from '../../watch/ui/server.ts';
import { launchChromium } from './browser.ts';
import { runsProject } from './fixture.ts';

test('dashboard in Chromium: runs, curves, a metric and a finished run appearing live, compared runs, DAG, evaluation', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const project = runsProject();
  const dashboard = await startDashboard({ pipeline, projectDir: project.dir, port: 0, pollMs: 100 });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
    await page.goto(dashboard.url);

    const liveRow = page.locator(`[data-run-row="${project.live}"]`);
    await liveRow.waitFor();
    assert.match(await liveRow.innerText(), /running[\s\S]*train --set train\.learning_rate=0\.05/);
    assert.match(await page.locator(`[data-run-row="${project.finished}"]`).innerText(), /ok[\s\S]*base 1m01s, train 2m28s, score 2\.3s/);

    // The newest training is shown by default: its train loss as a line through all 8 points, validation dashed.
    const curve = (run: number, series: string) => `path.curve[data-run="${run}"][data-series="${series}"][data-name="loss"]`;
    const trainLoss = page.locator(curve(project.live, 'train'));
    await trainLoss.waitFor();
    assert.equal(await trainLoss.getAttribute('data-points'), '8');
    assert.match((await trainLoss.getAttribute('d')) ?? '', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){7}$/);
    assert.equal(await page.locator(curve(project.live, 'eval')).getAttribute('stroke-dasharray'), '6 4');
    assert.deepEqual(await page.locator('figure.chart').evaluateAll((figures) => figures.map((f) => f.getAttribute('data-chart'))), ['loss', 'grad_norm', 'learning_rate', 'tokens_per_s']);

    // A step the training logs now appears without a reload.
    project.logTraining(90);
    await page.locator(`${curve(project.live, 'train')}[data-points="9"]`).waitFor({ timeout: 5000 });

    // Comparing: the finished run's curves overlay the live one's; the param they differ in is listed.
    await page.locator(`input[data-run="${project.finished}"]`).check();
    await page.locator(curve(project.finished, 'train')).waitFor();
    const diff = page.locator('#param-diff tbody tr');
    await diff.first().waitFor();
    assert.deepEqual((await diff.allInnerTexts()).map((row) => row.split('\t')), [['train.learning_rate', '0.05', '0.02']]); // in the order they were ticked
    assert.match(page.url(), /#stage=train&runs=\d+%2C\d+$/);

    // The DAG: every stage, train running in the live run, base's last duration.
    assert.equal(await page.locator('g.dag-node').count(), pipeline.names.length);
    assert.equal(await page.locator('g.dag-node[data-stage="train"]').getAttribute('data-status'), 'running');
    assert.match(await page.locator('g.dag-node[data-stage="base"]').textContent() ?? '', /ran 1m01s in #1/);

    // Evaluation: the score run's metrics, marked as what artifacts/ holds.
    assert.match(await page.locator(`#evaluations tr[data-run="${project.finished}"]`).innerText(), /#1\s*current[\s\S]*1\.834\s+6\.26\s+31\.5\s+9\.25\s+24\.1\s+0\.0712/);

    // The pointer over the loss chart reads out each line's value at that step.
    const box = (await page.locator('figure[data-chart="loss"] svg').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    assert.match((await page.locator('figure[data-chart="loss"] .tip').textContent()) ?? '', /step \d+#\d+ train: [\d.]+/);

    // The training finishes: the run's status and the DAG follow without a reload.
    project.db.recordStage(project.live, { stage: 'train', outcome: 'ran', reason: '', durationMs: 95_000, logPath: null, summary: '' });
    project.db.finishRun(project.live, 'ok');
    await page.locator(`[data-run-row="${project.live}"] .badge.ok`).waitFor({ timeout: 5000 });
    await page.locator('g.dag-node[data-stage="train"][data-status="stale"]').waitFor({ timeout: 5000 });

    const shot = path.join(mkdtempSync(path.join(tmpdir(), 'glmflow-ui-shot-')), 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await dashboard.close();
    project.remove();
  }
});
