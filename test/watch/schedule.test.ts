// The scheduler on a one-second cron with stand-in jobs (overlap policies,
// failure), missed runs, the OS-level equivalents, and the command on a
// project whose pipeline fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleDb } from '../../watch/schedule/schedule-db.ts';
import { missedRuns, Scheduler, type Job, type OverlapPolicy } from '../../watch/schedule/scheduler.ts';
import { crontab, onCalendar, systemdUnits } from '../../watch/schedule/os-schedule.ts';
import { reportMissed } from '../../watch/schedule/command.ts';
import { cli } from './project.ts';

const EVERY_SECOND = '* * * * * *';

/** Two runs of `job` on a one-second schedule; the log lines and the recorded runs, oldest first. */
async function twoRuns(overlap: OverlapPolicy, job: Job) {
  const db = new ScheduleDb(mkdtempSync(path.join(tmpdir(), 'glmflow-schedule-')));
  const lines: string[] = [];
  const scheduler = new Scheduler({ cron: EVERY_SECOND, target: 'score', overlap, maxRuns: 2, log: (l) => lines.push(l) }, job, db);
  const result = await scheduler.finished;
  const runs = db.runs().reverse();
  db.close();
  return { result, lines, runs };
}

/** A stand-in pipeline run that takes `ms`, or ends early (status 130) when cancelled. */
const slowJob = (ms: number): Job => async (signal) => {
  await sleep(ms, undefined, { signal }).catch(() => {});
  return signal.aborted ? { code: 130, detail: 'interrupted' } : { code: 0, detail: 'log x.log' };
};

test('overlap skip: a tick during a run is recorded as skipped, not run', async () => {
  const { result, lines, runs } = await twoRuns('skip', slowJob(1600));
  assert.deepEqual(result, { runs: 2, failed: 0 });
  assert.ok(runs.some((r) => r.status === 'skipped'), JSON.stringify(runs));
  assert.deepEqual(runs.filter((r) => r.status !== 'skipped').map((r) => r.status), ['ok', 'ok']);
  assert.ok(lines.some((l) => /skipped: the previous run is still running \(--overlap skip\)/.test(l)));
});

test('overlap queue: a tick during a run runs after it, at its due time', async () => {
  const { runs, lines } = await twoRuns('queue', slowJob(1300));
  assert.deepEqual(runs.map((r) => r.status), ['ok', 'ok']);
  assert.ok(runs[1]!.dueAt < runs[1]!.startedAt!, 'the queued run started after it was due');
  assert.ok(runs[1]!.startedAt! >= runs[0]!.finishedAt!, 'and not before the first ended');
  assert.ok(lines.some((l) => /queued behind the running one/.test(l)));
});

test('overlap cancel: the running run is interrupted for the new one', async () => {
  const { runs, lines, result } = await twoRuns('cancel', slowJob(5000));
  assert.equal(runs[0]!.status, 'cancelled');
  assert.equal(runs[0]!.exitCode, 130);
  assert.equal(result.failed, 0, 'a cancelled run is not a failure');
  assert.ok(lines.some((l) => /cancels the running one/.test(l)));
});

test('a failed run: a ✗ line with its exit status and log, counted as failed', async () => {
  const { result, lines, runs } = await twoRuns('skip', async () => ({ code: 3, detail: 'log /tmp/run.log' }));
  assert.deepEqual(result, { runs: 2, failed: 2 });
  assert.deepEqual(runs.map((r) => [r.status, r.exitCode]), [['failed', 3], ['failed', 3]]);
  assert.ok(lines.includes(`schedule: ✗ run ${runs[0]!.id} failed with exit status 3: log /tmp/run.log`), lines.join('\n'));
});

test('missed runs: every due time after the last recorded one, up to now', () => {
  const since = new Date('2026-03-01T10:00:00Z');
  const missed = missedRuns('0 * * * *', since, new Date('2026-03-01T15:30:00Z'));
  assert.deepEqual(missed.map((d) => d.toISOString()), ['11', '12', '13', '14', '15'].map((h) => `2026-03-01T${h}:00:00.000Z`));
  assert.equal(missedRuns(EVERY_SECOND, since, new Date('2026-03-02T00:00:00Z'), 10).length, 10);
});

test('OS-level equivalents: crontab with flock for skip and queue, systemd timer with OnCalendar', () => {
  const s = { cron: '0 2 * * *', overlap: 'skip' as const, pipelineDir: '/srv/glm flow', projectDir: '/srv/p', args: ['run', 'score', '--set', 'split.subset=1'] };
  assert.equal(crontab(s).split('\n')[1], `0 2 * * * flock -n /srv/p/.glmflow/schedule.flock sh -c 'cd '\\''/srv/glm flow'\\'' && npx tsx pipeline.ts run score --set split.subset=1' >> /srv/p/.glmflow/logs/schedule.log 2>&1`);
  assert.match(crontab({ ...s, overlap: 'queue' }), / flock \/srv\/p/);
  assert.match(crontab({ ...s, overlap: 'cancel' }), /no crontab equivalent/);
  assert.throws(() => crontab({ ...s, cron: EVERY_SECOND }), /five fields/);
  assert.equal(onCalendar('0 2 * * *'), '*-*-* 2:0:0');
  assert.equal(onCalendar('30 */6 1-7 * 1-5'), 'Mon..Fri *-*-1..7 0/6:30:0');
  assert.equal(onCalendar('*/10 * * * * *'), '*-*-* *:*:0/10');
  assert.throws(() => onCalendar('0 2 L * *'), /no systemd equivalent/);
  assert.match(systemdUnits(s), /OnCalendar=\*-\*-\* 2:0:0\n.*\nPersistent=true/);
  assert.match(systemdUnits(s), /ExecStart=\/usr\/bin\/env npx tsx pipeline.ts run score --set split.subset=1/);
});

test('missed runs at start, on a given clock: reported and recorded; with --catch-up the latest is left to run now', () => {
  const db = new ScheduleDb(mkdtempSync(path.join(tmpdir(), 'glmflow-schedule-')));
  const hourly = '0 * * * *';
  const id = db.start(hourly, 'score', Date.parse('2026-03-01T10:00:00Z'));
  db.finish(id, 'ok', 0, '');
  const lines: string[] = [];
  const noLines: string[] = [];
  const at = (iso: string) => new Date(iso);
  assert.equal(reportMissed(db, hourly, 'score', false, (l) => lines.push(l), at('2026-03-01T10:59:59Z')), undefined);
  assert.deepEqual(lines, noLines, 'nothing was due yet');
  assert.equal(reportMissed(db, hourly, 'score', false, (l) => lines.push(l), at('2026-03-01T12:30:00Z')), undefined);
  assert.deepEqual(lines, [
    'schedule: missed 2 run(s) since 2026-03-01T10:00:00.000Z while the scheduler was down: 2026-03-01T11:00:00.000Z, 2026-03-01T12:00:00.000Z',
    'schedule: --catch-up would run the latest of them now',
  ]);
  // Recorded: the next start reports only what it missed itself, and --catch-up hands back the latest to run.
  lines.length = 0;
  const due = reportMissed(db, hourly, 'score', true, (l) => lines.push(l), at('2026-03-01T14:10:00Z'));
  assert.equal(due?.toISOString(), '2026-03-01T14:00:00.000Z');
  assert.deepEqual(lines, [
    'schedule: missed 2 run(s) since 2026-03-01T12:00:00.000Z while the scheduler was down: 2026-03-01T13:00:00.000Z, 2026-03-01T14:00:00.000Z',
    'schedule: catching up: running the one due 2026-03-01T14:00:00.000Z now (--catch-up)',
  ]);
  assert.deepEqual(db.runs().map((r) => [r.status, new Date(r.dueAt).toISOString().slice(11, 13)]), [['missed', '13'], ['missed', '12'], ['missed', '11'], ['ok', '10']]);
  db.close();
});

test('schedule command: a failing pipeline gives a ✗ line and a non-zero status', () => {
  const project = mkdtempSync(path.join(tmpdir(), 'glmflow-schedule-cli-'));
  const first = cli(project, 'schedule', '--cron', EVERY_SECOND, '--target', 'split', '--max-runs', '1');
  assert.equal(first.status, 1, first.stderr + first.stdout);
  assert.match(first.stdout, /schedule: ✗ run 1 failed with exit status 2: error: .* \(log .*\.glmflow\/logs\/schedule\/.*\.log\)/);
  assert.match(first.stdout, /stopped after 1 run\(s\), 1 failed/);
  assert.match(cli(project, 'schedule', '--cron', EVERY_SECOND, '--target', 'nope').stderr, /unknown target "nope"/);
});

test('schedule command: the next start reports missed runs, and with --catch-up runs the latest at once', () => {
  const project = mkdtempSync(path.join(tmpdir(), 'glmflow-schedule-cli-'));
  // A run recorded a minute ago: however long this takes, at least 59 one-second runs were missed since.
  mkdirSync(path.join(project, '.glmflow'));
  const db = new ScheduleDb(path.join(project, '.glmflow'));
  const last = Math.floor((Date.now() - 60_000) / 1000) * 1000;
  db.finish(db.start(EVERY_SECOND, 'split', last), 'failed', 2, '');
  db.close();
  // The catch-up starts at once, before any tick, and counts towards --max-runs.
  const run = cli(project, 'schedule', '--cron', EVERY_SECOND, '--target', 'split', '--max-runs', '1', '--catch-up');
  const missed = /schedule: missed (\d+) run\(s\) since (\S+) while the scheduler was down/.exec(run.stdout);
  assert.ok(missed, run.stdout + run.stderr);
  assert.ok(Number(missed[1]) >= 59, missed[0]);
  assert.equal(missed[2], new Date(last).toISOString());
  assert.match(run.stdout, /schedule: catching up: running the one due (\S+) now \(--catch-up\)\n[^]*schedule: run \d+ \(due \1\) started: split/);
  assert.match(run.stdout, /stopped after 1 run\(s\), 1 failed/);
});
