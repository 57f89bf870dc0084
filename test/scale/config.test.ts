// glmflow.yaml: where stages run and where the cache is shared, read and
// checked at the boundary with messages that name the file and the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { executorFor, loadProjectConfig } from '../../engine/project-config.ts';
import { parseRemoteUrl } from '../../engine/remote/remote-cache.ts';

function project(yaml: string | undefined): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-config-'));
  if (yaml !== undefined) writeFileSync(path.join(dir, 'glmflow.yaml'), yaml);
  return dir;
}

test('executor choice: --executor, then the stage by name, then a resource it claims, then the default', () => {
  const config = loadProjectConfig(project('executor:\n  default: local\n  stages: {tokenize: slurm, base: local}\n  resources: {device: slurm}\n'));
  assert.equal(executorFor(config, 'train', ['device']), 'slurm');
  assert.equal(executorFor(config, 'base', ['device']), 'local', 'the stage by name wins over its resources');
  assert.equal(executorFor(config, 'tokenize', []), 'slurm');
  assert.equal(executorFor(config, 'split', []), 'local');
  assert.equal(executorFor(config, 'train', ['device'], 'local'), 'local', '--executor wins');
  assert.equal(executorFor(loadProjectConfig(project(undefined)), 'train', ['device']), 'local', 'no glmflow.yaml: everything local');
});

test('remote: the short form, the long form, and bad settings named with their file', () => {
  assert.deepEqual(loadProjectConfig(project('remote: s3://team-cache/glmflow\n')).remote, { url: 's3://team-cache/glmflow', path_style: false, push: true });
  const long = loadProjectConfig(project('remote:\n  url: s3://team-cache\n  endpoint: http://10.0.0.5:9000\n  path_style: true\nslurm:\n  partition: gpu\n  gres: gpu:1\n'));
  assert.equal(long.remote?.endpoint, 'http://10.0.0.5:9000');
  assert.equal(long.slurm.gres, 'gpu:1');
  assert.deepEqual(parseRemoteUrl('s3://team-cache/a/b/'), { bucket: 'team-cache', prefix: 'a/b/' });
  assert.deepEqual(parseRemoteUrl('s3://team-cache'), { bucket: 'team-cache', prefix: '' });

  const bad = project('remote: https://team-cache/x\n');
  assert.throws(() => loadProjectConfig(bad), (error: Error) => error.message.includes(path.join(bad, 'glmflow.yaml')) && /remote\.url: an s3:\/\/bucket\/prefix address/.test(error.message));
  assert.throws(() => loadProjectConfig(project('executor:\n  stages: {train: kubernetes}\n')), /executor\.stages\.train/);
  assert.throws(() => loadProjectConfig(project('remotes: s3://x/y\n')), /remotes|unrecognized/i);
  assert.throws(() => loadProjectConfig(project('remote: [unclosed\n')), /cannot read .*glmflow\.yaml/);
});
