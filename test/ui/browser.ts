// Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by
// playwright-core (no downloaded browser). Where it is not installed the test
// skips with a visible notice, except under CI=true, where .ci/run installs it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser with a fresh profile, or undefined after skipping the test (throws under CI). */
export async function launchChromium(t: TestContext): Promise<BrowserContext | undefined> {
  if (!existsSync(CHROMIUM)) {
    const message = `${CHROMIUM} not found: this test needs Debian's chromium (apt-get install -y chromium)`;
    if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true, so this is a failure, not a skip)`);
    console.warn(`NOTICE: skipping "${t.name}": ${message}`);
    t.skip(message);
    return undefined;
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'glmflow-chromium-'));
  t.after(() => rmSync(profile, { recursive: true, force: true }));
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 } });
}
