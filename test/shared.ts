// Locates ../shared (the reference material beside the checkout). Tests that need it
// skip with a visible notice on a user's fresh clone, and fail under CI=true, where
// ../shared must be present.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const SHARED_DIR = path.resolve(fileURLToPath(new URL('../../shared', import.meta.url)));

/** Absolute path of `rel` inside ../shared, or undefined after skipping the test (throws under CI). */
export function sharedPath(t: TestContext, rel: string): string | undefined {
  const full = path.join(SHARED_DIR, rel);
  if (existsSync(full)) return full;
  const message = `../shared/${rel} not found: this test needs the shared reference material beside the checkout`;
  if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true, so this is a failure, not a skip)`);
  console.warn(`NOTICE: skipping "${t.name}": ${message}`);
  t.skip(message);
  return undefined;
}
