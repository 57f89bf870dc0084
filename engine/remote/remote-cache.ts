// A cache shared through an S3 bucket (AWS or any S3-compatible store).
// Layout under the prefix:
//   objects/<sha256>            an output file's bytes (a folder output's files one
//                               by one), immutable, named by their hash
//   entries/<stage>/<key>.json  a cache entry: key details and outputs with their hashes
// An entry is written only after all its objects, so a reader that finds an
// entry finds its objects (unless `gc --remote` took them since: reported as
// missing, and the stage runs); two machines pushing the same key write the same
// objects, and either's entry is a valid one. Nothing is trusted on the way in:
// an entry must hash to its key, and every object to the hash that names it.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CacheEntry, FileRecord } from '../db.ts';
import { GlmflowError } from '../errors.ts';
import { keyOf } from '../key.ts';
import type { RemoteConfig } from '../project-config.ts';
import type { ObjectStore } from '../store.ts';
import { RemoteDamage } from './damage.ts';

export interface RemoteAddress {
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
}

export function parseRemoteUrl(url: string): RemoteAddress {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new GlmflowError(`remote "${url}" is not an s3://bucket/prefix address`);
  const prefix = match[2]!.replace(/\/+$/, '');
  return { bucket: match[1]!, prefix: prefix ? `${prefix}/` : '' };
}

export class RemoteCache {
  readonly url: string;
  readonly #address: RemoteAddress;
  readonly #client: S3Client;
  /** Objects found damaged on download: the next push writes them again instead of trusting HEAD. */
  readonly #damaged = new Set<string>();

  constructor(readonly config: RemoteConfig) {
    this.url = config.url;
    this.#address = parseRemoteUrl(config.url);
    this.#client = makeClient(config);
  }

  objectKey(hash: string): string {
    return `${this.#address.prefix}objects/${hash}`;
  }

  entryKey(stage: string, key: string): string {
    return `${this.#address.prefix}entries/${stage}/${key}.json`;
  }

  /** The remote entry for this key, checked against it; undefined when the remote has none. */
  async entry(stage: string, key: string): Promise<CacheEntry | undefined> {
    const text = await this.#getText(this.entryKey(stage, key));
    if (text === undefined) return undefined;
    let entry: CacheEntry;
    try {
      entry = JSON.parse(text) as CacheEntry;
    } catch {
      throw new RemoteDamage(`remote entry ${this.entryKey(stage, key)} is not JSON`);
    }
    if (entry.key !== key || entry.stage !== stage || keyOf(entry.details) !== key) throw new RemoteDamage(`remote entry ${this.entryKey(stage, key)} does not match its key`);
    return entry;
  }

  /** Uploads the outputs the remote lacks, then the entry. Returns the bytes uploaded. */
  async push(entry: CacheEntry, store: ObjectStore): Promise<{ objects: number; bytes: number }> {
    let objects = 0;
    let bytes = 0;
    for (const [record, file] of storedFiles(entry, store)) {
      if (!this.#damaged.has(record.hash) && (await this.#size(this.objectKey(record.hash))) === record.size) continue;
      await this.#put(this.objectKey(record.hash), createReadStream(file), record.size);
      this.#damaged.delete(record.hash);
      objects++;
      bytes += record.size;
    }
    const body = JSON.stringify({ key: entry.key, stage: entry.stage, details: entry.details, outputs: entry.outputs, createdAt: entry.createdAt, durationMs: entry.durationMs });
    await this.#put(this.entryKey(entry.stage, entry.key), body, Buffer.byteLength(body));
    return { objects, bytes };
  }

  /**
   * Downloads the entry's outputs the local store lacks, each file verified by size and sha256
   * (and a folder by its listing's hash) before it enters the store. A mismatch throws RemoteDamage
   * and leaves the store without that output.
   */
  async download(entry: CacheEntry, store: ObjectStore): Promise<{ objects: number; bytes: number }> {
    let objects = 0;
    let bytes = 0;
    mkdirSync(store.paths.tmp, { recursive: true });
    for (const record of new Map(Object.values(entry.outputs).map((r) => [r.hash, r])).values()) {
      if (store.has(record)) continue;
      const temp = path.join(store.paths.tmp, `remote-${randomBytes(6).toString('hex')}`);
      try {
        for (const [rel, file] of record.files ? Object.entries(record.files) : [['', record] as const]) {
          await this.#fetchVerified(file, path.join(temp, rel));
          objects++;
          bytes += file.size;
        }
        const stored = store.put(temp, Boolean(record.files));
        if (stored.hash !== record.hash) throw new RemoteDamage(`remote entry ${this.entryKey(entry.stage, entry.key)} lists a folder whose files hash to ${stored.hash.slice(0, 10)}, not ${record.hash.slice(0, 10)}`);
      } finally {
        rmSync(temp, { recursive: true, force: true });
      }
    }
    return { objects, bytes };
  }

  async #fetchVerified(record: FileRecord, target: string): Promise<void> {
    const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#address.bucket, Key: this.objectKey(record.hash) })).catch((error: unknown) => {
      throw isMissing(error) ? new RemoteDamage(`remote object ${this.objectKey(record.hash)} is missing`) : explain(error, this.url);
    });
    mkdirSync(path.dirname(target), { recursive: true });
    const hash = createHash('sha256');
    let size = 0;
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(response.Body as NodeJS.ReadableStream, tee, createWriteStream(target));
    const actual = hash.digest('hex');
    if (actual !== record.hash || size !== record.size) {
      this.#damaged.add(record.hash);
      throw new RemoteDamage(`remote object ${this.objectKey(record.hash)} is damaged (${size} bytes hashing to ${actual.slice(0, 10)}, expected ${record.size} bytes hashing to ${record.hash.slice(0, 10)})`);
    }
  }

  /** Whether the remote holds an entry for this key (not checked: `pull` does that). */
  async hasEntry(stage: string, key: string): Promise<boolean> {
    return (await this.#size(this.entryKey(stage, key))) !== undefined;
  }

  /**
   * Deletes entries last written before `cutoff` (ms since the epoch), then objects no remaining
   * entry lists that are as old. Young objects are never deleted, so a push in progress keeps what
   * it uploaded before its entry lands; an object deleted under a push that found it already there
   * reads as missing later, which a pull reports and the next push writes again.
   */
  async collect(cutoff: number): Promise<{ entries: number; objects: number; bytes: number }> {
    const entries = await this.#list(`${this.#address.prefix}entries/`);
    let removedEntries = 0;
    const referenced = new Set<string>();
    for (const object of entries) {
      if (object.modified < cutoff) {
        await this.#client.send(new DeleteObjectCommand({ Bucket: this.#address.bucket, Key: object.key }));
        removedEntries++;
        continue;
      }
      const text = await this.#getText(object.key);
      if (text === undefined) continue;
      for (const record of Object.values((JSON.parse(text) as CacheEntry).outputs)) {
        referenced.add(record.hash);
        for (const file of Object.values(record.files ?? {})) referenced.add(file.hash);
      }
    }
    let objects = 0;
    let bytes = 0;
    const objectsPrefix = `${this.#address.prefix}objects/`;
    for (const object of await this.#list(objectsPrefix)) {
      if (referenced.has(object.key.slice(objectsPrefix.length)) || object.modified >= cutoff) continue;
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#address.bucket, Key: object.key }));
      objects++;
      bytes += object.size;
    }
    return { entries: removedEntries, objects, bytes };
  }

  async #list(prefix: string): Promise<{ key: string; modified: number; size: number }[]> {
    const found: { key: string; modified: number; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#address.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) found.push({ key: object.Key!, modified: object.LastModified?.getTime() ?? 0, size: object.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  /** Closes the client's kept-alive connections, so the process can exit. */
  close(): void {
    this.#client.destroy();
  }

  async #put(key: string, body: string | Readable, length: number): Promise<void> {
    try {
      await this.#client.send(new PutObjectCommand({ Bucket: this.#address.bucket, Key: key, Body: body, ContentLength: length }));
    } catch (error) {
      throw explain(error, this.url);
    }
  }

  async #size(key: string): Promise<number | undefined> {
    try {
      return (await this.#client.send(new HeadObjectCommand({ Bucket: this.#address.bucket, Key: key }))).ContentLength;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw explain(error, this.url);
    }
  }

  async #getText(key: string): Promise<string | undefined> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#address.bucket, Key: key }));
      return await response.Body!.transformToString('utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw explain(error, this.url);
    }
  }
}

/** Every file of the entry's outputs (a folder's one by one, as remote objects are files), with where the store holds it. */
function storedFiles(entry: CacheEntry, store: ObjectStore): Map<FileRecord, string> {
  const files = new Map<string, [FileRecord, string]>();
  for (const record of Object.values(entry.outputs)) {
    const at = store.objectPath(record.hash);
    if (!record.files) files.set(record.hash, [record, at]);
    else for (const [rel, file] of Object.entries(record.files)) files.set(file.hash, [file, path.join(at, rel)]);
  }
  return new Map(files.values());
}

function makeClient(config: RemoteConfig): S3Client {
  // The SDK warns on every start under Node 20, which glmflow supports; the warning says nothing about this project.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // Credentials and (without `region`) the region come the SDK's usual ways: environment, profiles, instance roles.
  return new S3Client({
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.region ? { region: config.region } : {}),
    forcePathStyle: config.path_style,
    // Checksums only where S3 requires them: several S3-compatible stores reject the newer trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

function explain(error: unknown, url: string): GlmflowError {
  const e = error as { name?: string; message?: string };
  return new GlmflowError(`remote cache ${url}: ${e.name ?? 'error'}: ${e.message ?? String(error)}`, 'check the bucket, the endpoint and region in glmflow.yaml, and the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)');
}
