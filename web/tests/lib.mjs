// What every browser script shares: Debian's chromium (headless, via playwright-core)
// in a phone-sized window with a fresh profile, one `step:` line per step, `ok` at the
// end, and on failure the page's state and console. A Content-Security-Policy violation
// in the console fails the script. Configuration from the environment:
//   VM_CHROMIUM   the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const T = 30_000; // one UI expectation
export const step = (s) => console.log(`step: ${s}`);

// A fresh browser profile (its own key, so its own identity) and its page; `close()`
// ends it and removes the profile. `options` (playwright's) override the phone-sized
// window: a tablet's `viewport` and `hasTouch`, say.
export async function launch(options = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'vm-chromium-'));
  const ctx = await chromium.launchPersistentContext(dataDir, {
    executablePath: process.env.VM_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 390, height: 700 }, // a phone-sized window
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    ...options,
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const close = async () => { await ctx.close(); rmSync(dataDir, { recursive: true, force: true }); };
  return { page, close };
}

// Runs `steps(page)`; `describe(page)` adds to the failure report; `options` go to
// `launch`.
export async function runInBrowser(steps, describe = async () => {}, options = {}) {
  const { page, close } = await launch(options);
  const logs = [];
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  try {
    await steps(page);
    // The relay serves a Content-Security-Policy: nothing the client does may break it.
    const refused = logs.filter((l) => /Content Security Policy/i.test(l));
    if (refused.length) throw new Error(`the page broke its Content-Security-Policy:\n${refused.join('\n')}`);
    console.log('ok');
  } catch (e) {
    console.log(`FAILED: ${e.message}`);
    try {
      console.log(`url: ${page.url()}`);
      console.log(`status: ${await page.textContent('#status')}`);
      console.log(`error: ${await page.textContent('#error')}`);
      console.log(`view: ${await page.textContent('#view')}`);
      await describe(page);
    } catch {}
    console.log(logs.join('\n'));
    process.exitCode = 1;
  } finally {
    await close();
  }
}

// Opens the pairing link for `ticket` and says yes to it, as `name` when given: a link
// only asks (the page names the machine first).
export async function openLink(page, ticket, name = '') {
  await page.goto(`${process.env.VM_URL}#ticket=${ticket}`);
  await page.locator('#pairform').waitFor({ timeout: T });
  if (name) await page.locator('#pairname').fill(name);
  await page.locator('#pairyes').click({ timeout: T });
}
