import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Headless Chromium for browser tests, on any machine: CHROMIUM_PATH when set, else a system Chromium
 * at /usr/bin/chromium, else the build shipped inside the npm package @sparticuz/chromium (unpacked
 * once into the temp folder), so `npm ci && npm test` needs nothing installed by hand.
 */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

// As root there is no sandbox; without the background-networking flags Chromium keeps calling home,
// which a closed network refuses many times a second.
const HEADLESS_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function chromiumExecutable(): Promise<string> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  if (existsSync(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.executablePath();
}

/** A browser with its own profile folder (the persistent context is how playwright takes a user-data-dir). */
export async function launchChromium(profileDir: string): Promise<BrowserContext> {
  const executablePath = await chromiumExecutable();
  try {
    return await chromium.launchPersistentContext(profileDir, { executablePath, args: HEADLESS_FLAGS });
  } catch (error) {
    // Seen once in a full parallel run (session 12): the browser died of SIGSEGV while starting, before
    // any page; alone it started every time. A browser that cannot start twice in a row still fails.
    if (!/has been closed|SIGSEGV/.test((error as Error).message)) throw error;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return chromium.launchPersistentContext(profileDir, { executablePath, args: HEADLESS_FLAGS });
  }
}
