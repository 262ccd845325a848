/**
 * Real Chromium for the browser tests and the browser benchmark: Debian's /usr/bin/chromium driven by
 * puppeteer-core (no browser download). Tests skip, saying why, only when no chromium is installed.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer-core';

export const CHROMIUM = process.env.VITOPT_CHROMIUM ?? '/usr/bin/chromium';

/** null when Chromium can be driven, else the reason to skip. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt install chromium, or set VITOPT_CHROMIUM)`;
}

export async function launchChromium(): Promise<Browser> {
  const puppeteer = (await import('puppeteer-core')).default;
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: CI runs as root; --enable-unsafe-webgpu: the SwiftShader software adapter on GPU-less machines.
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-dev-shm-usage'],
    protocolTimeout: 600_000,
  });
}

/** The page at `url`, its console collected, with `window.vitopt.ready` settled (value or error message). */
export async function openApp(browser: Browser, url: string): Promise<{ page: Page; console: string[]; ready: unknown; error: string | null }> {
  const page = await browser.newPage();
  const console: string[] = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${(e as Error).message}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as unknown as { vitopt?: unknown }).vitopt !== undefined, { timeout: 60_000 });
  const r = await page.evaluate(async () => {
    try {
      return { ready: await (window as unknown as { vitopt: { ready: Promise<unknown> } }).vitopt.ready, error: null };
    } catch (e) {
      return { ready: null, error: (e as Error).message };
    }
  });
  return { page, console, ...r };
}
