// An S3-speaking server on loopback for the remote-cache tests: s3rver, a
// Node implementation of S3's REST protocol (path-style buckets, SigV4
// requests, ListObjectsV2, ranged and streamed bodies) storing objects on
// disk. Debian 12 packages no MinIO; s3rver installs with npm ci like the
// rest of the project, starts in-process in milliseconds and needs no root.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** Environment for the CLI: credentials the SDK's usual way. */
  readonly env: Record<string, string>;
  readonly client: S3Client;
  /** glmflow.yaml pointing a project at this bucket under `prefix`. */
  configure(project: string, prefix: string): void;
  close(): Promise<void>;
}

export async function startS3Server(): Promise<S3Server> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: mkdtempSync(path.join(tmpdir(), 'glmflow-s3-')) });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = 'glmflow-team';
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  const client = new S3Client({ endpoint, region: env.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    env,
    client,
    configure(project, prefix) {
      writeFileSync(path.join(project, 'glmflow.yaml'), `remote:\n  url: s3://${bucket}/${prefix}\n  endpoint: ${endpoint}\n  path_style: true\n`);
    },
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
