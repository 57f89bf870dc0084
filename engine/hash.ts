import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';

// 4 MiB reads keep the hash within a few percent of a bare read loop on 1 GiB files.
const CHUNK = 4 << 20;
let buffer: Buffer | undefined;

/** sha256 of a file's bytes, hex. Synchronous: the engine hashes on its own thread between stages. */
export function hashFile(file: string): string {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(n === CHUNK ? buffer : buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** A folder's hash: over its files' relative paths and content hashes, so renaming a file inside changes it too. */
export function hashTree(files: Readonly<Record<string, { readonly hash: string }>>): string {
  return hashString('glmflow tree\n' + Object.keys(files).sort().map((rel) => `${files[rel]!.hash} ${rel}\n`).join(''));
}

export function hashString(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every depth, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export const short = (hash: string): string => hash.slice(0, 10);
