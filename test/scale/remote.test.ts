// The remote cache against a real S3-speaking server on loopback: two project
// folders share one bucket; the second restores every stage without running
// any, a damaged remote object is caught by its hash and not used, and gc
// leaves the remote alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { PIPELINE, TINY, tempProject } from '../watch/project.ts';
import { startS3Server, type S3Server } from './s3-server.ts';

const SETS = [...TINY, '--set', 'train.max_steps=4'];
const STAGES = ['ingest', 'convert', 'split', 'tokenize', 'base', 'train'];
let s3: S3Server;

before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3?.close();
});

/** The CLI, asynchronously: the S3 server answers from this very process. */
function cli(project: string, command: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE, command, '--project', project, ...args], { env: { ...process.env, ...s3.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function outcomes(project: string): Promise<Record<string, string>> {
  const runs = JSON.parse((await cli(project, 'runs', '--json', '--limit', '1')).stdout) as { stages: { stage: string; outcome: string }[] }[];
  return Object.fromEntries(runs[0]!.stages.map((s) => [s.stage, s.outcome]));
}

async function remoteKeys(prefix: string): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

test('two projects share one bucket: the second restores every stage without running any, byte for byte; concurrent pushes stay whole; gc leaves the remote alone', { timeout: 240_000 }, async () => {
  const first = await tempProject();
  const second = await tempProject();
  s3.configure(first, 'shared');
  s3.configure(second, 'shared');

  const ran = await cli(first, 'run', 'train', ...SETS);
  assert.equal(ran.status, 0, ran.stderr + ran.stdout);
  assert.deepEqual(await outcomes(first), Object.fromEntries(STAGES.map((s) => [s, 'ran'])));
  const entries = (await remoteKeys('shared/entries/')).map((k) => k.split('/')[2]);
  assert.deepEqual(entries.sort(), [...STAGES].sort(), 'each stage pushed its entry after its commit');

  const status = await cli(second, 'status', 'train', '--remote', ...SETS);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /ingest\s+stale\s+on remote/);

  const started = performance.now();
  const restored = await cli(second, 'run', 'train', ...SETS);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(restored.status, 0, restored.stderr + restored.stdout);
  assert.deepEqual(await outcomes(second), Object.fromEntries(STAGES.map((s) => [s, 'restored'])));
  for (const file of ['train/prefix.safetensors', 'train/training.json', 'base/model/model.safetensors', 'tokenize/train.arrow', 'convert/conversations.jsonl']) {
    assert.deepEqual(readFileSync(path.join(second, 'artifacts', file)), readFileSync(path.join(first, 'artifacts', file)), file);
  }
  assert.match(restored.stderr, /↺ train restored/);
  process.stderr.write(`# remote restore of ingest → train on the tiny model: ${seconds.toFixed(1)} s (CLI start included)\n`);

  const again = await cli(second, 'run', 'train', ...SETS);
  assert.match(again.stdout, /up to date/);

  // Two machines pushing the same stages into one place at once: every entry and object lands whole.
  for (const project of [first, second]) s3.configure(project, 'concurrent');
  const pushes = await Promise.all([cli(first, 'push'), cli(second, 'push')]);
  for (const push of pushes) assert.equal(push.status, 0, push.stderr);
  const third = await tempProject();
  s3.configure(third, 'concurrent');
  const pulled = await cli(third, 'pull', 'train', ...SETS);
  assert.equal(pulled.status, 0, pulled.stdout + pulled.stderr);
  assert.deepEqual(readFileSync(path.join(third, 'artifacts/train/prefix.safetensors')), readFileSync(path.join(first, 'artifacts/train/prefix.safetensors')));
  for (const project of [first, second]) s3.configure(project, 'shared');

  // gc drops local history only: everything pushed is still on the remote.
  const before = await remoteKeys('shared/');
  const gc = await cli(first, 'gc');
  assert.equal(gc.status, 0, gc.stderr);
  assert.deepEqual(await remoteKeys('shared/'), before);
});

test('a damaged remote object is detected by its hash and not used: the stage runs locally and the push repairs it', { timeout: 240_000 }, async () => {
  const first = await tempProject();
  const second = await tempProject();
  s3.configure(first, 'damaged');
  s3.configure(second, 'damaged');
  assert.equal((await cli(first, 'run', 'train', ...SETS)).status, 0);

  const entry = JSON.parse(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: (await remoteKeys('damaged/entries/train/'))[0]! }))).Body!.transformToString()) as { outputs: Record<string, { hash: string; size: number }> };
  const prefix = entry.outputs['prefix']!;
  const objectKey = `damaged/objects/${prefix.hash}`;
  const good = Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: objectKey }))).Body!.transformToByteArray());
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 0xff; // same size, one flipped byte: only the hash can tell
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: objectKey, Body: bad }));

  const run = await cli(second, 'run', 'train', ...SETS);
  assert.equal(run.status, 0, run.stderr + run.stdout);
  assert.match(run.stderr, new RegExp(`remote cache: train: remote object ${objectKey} is damaged .*not used`));
  const got = await outcomes(second);
  assert.equal(got['train'], 'ran');
  for (const stage of STAGES.filter((s) => s !== 'train')) assert.equal(got[stage], 'restored', stage);
  assert.deepEqual(readFileSync(path.join(second, 'artifacts/train/prefix.safetensors')), good, 'the local training gives the bytes the damaged object should have had');

  const repaired = Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: objectKey }))).Body!.transformToByteArray());
  assert.deepEqual(repaired, good, 'the push after the local run wrote the object again');
});

test('push, pull and gc --remote by hand: pull brings a project up to date without running, push says what it sent, gc --remote deletes only what is old enough', { timeout: 240_000 }, async () => {
  const first = await tempProject();
  const second = await tempProject();
  s3.configure(first, 'manual');
  s3.configure(second, 'manual');
  // Automatic pushes off: only `push` uploads.
  for (const project of [first, second]) appendFileSync(path.join(project, 'glmflow.yaml'), '  push: false\n');
  assert.equal((await cli(first, 'run', 'tokenize', ...SETS)).status, 0);
  assert.deepEqual(await remoteKeys('manual/'), []);
  const pushed = await cli(first, 'push', 'tokenize');
  assert.equal(pushed.status, 0, pushed.stderr);
  assert.match(pushed.stdout, /tokenize: pushed to s3:\/\/glmflow-team\/manual \(\d+ objects/);

  const pulled = await cli(second, 'pull', 'tokenize', ...SETS);
  assert.equal(pulled.status, 0, pulled.stderr + pulled.stdout);
  for (const stage of ['ingest', 'convert', 'split', 'tokenize']) assert.match(pulled.stdout, new RegExp(`${stage}: pulled from`));
  const status = await cli(second, 'status', 'tokenize', ...SETS);
  assert.doesNotMatch(status.stdout, /stale/);

  const missing = await cli(second, 'pull', 'train', ...SETS);
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /base: not on the remote/);

  // Remote data goes only when asked, and only what is old enough.
  const stored = await remoteKeys('manual/');
  assert.ok(stored.length > 0);
  const young = await cli(first, 'gc', '--remote', '--older-than', '1');
  assert.equal(young.status, 0, young.stderr);
  assert.match(young.stdout, /removed 0 entries .* and 0 objects/);
  assert.deepEqual(await remoteKeys('manual/'), stored);
  assert.match((await cli(first, 'gc', '--remote')).stderr, /needs --older-than DAYS/);
  const all = await cli(first, 'gc', '--remote', '--older-than', '0');
  assert.equal(all.status, 0, all.stderr);
  assert.deepEqual(await remoteKeys('manual/'), []);
});
