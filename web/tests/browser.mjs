// Drives Debian's chromium (headless, via playwright-core) through the web client
// against a real relay and agent: pair by ticket link, open a shell, type, reload, and
// an expired ticket. Configuration comes from the environment (see relay_browser.rs):
//   VM_URL            the relay's base URL (serves the page)
//   VM_TICKET         a fresh ticket;  VM_EXPIRED  an expired one;  VM_AGENT  its name
//   VM_CHROMIUM       the browser (default /usr/bin/chromium)
// Prints one line per step; exits non-zero with the page's state on failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { VM_URL, VM_TICKET, VM_EXPIRED, VM_AGENT } = process.env;
const T = 30_000;
const dataDir = mkdtempSync(join(tmpdir(), 'vm-chromium-'));
const ctx = await chromium.launchPersistentContext(dataDir, {
  executablePath: process.env.VM_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 390, height: 700 }, // a phone-sized window
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] || await ctx.newPage();
const logs = [];
page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
const step = (s) => console.log(`step: ${s}`);

// The terminal's text, one string per row (xterm's DOM renderer).
const rows = () => page.$$eval('.xterm-rows > div', (ds) => ds.map((d) => d.textContent.replace(/\u00a0/g, ' ').trimEnd()));
const waitRow = (line) => page.waitForFunction((l) => [...document.querySelectorAll('.xterm-rows > div')]
  .some((d) => d.textContent.replace(/\u00a0/g, ' ').trim() === l), line, { timeout: T });

try {
  await page.goto(`${VM_URL}#ticket=${VM_TICKET}`);
  await page.locator('#machines a', { hasText: VM_AGENT }).waitFor({ timeout: T });
  if (page.url().includes('ticket=')) throw new Error('the ticket stayed in the address bar');
  step('paired');

  await page.locator('#machines a', { hasText: VM_AGENT }).click();
  // Folder completion comes from the agent's file system (VM_FOLDER's parent holds a
  // folder whose name starts with VM_FOLDER's last part).
  await page.locator('#new [name=cwd]').fill(process.env.VM_FOLDER);
  await page.waitForFunction((want) => [...document.querySelectorAll('#folders option')]
    .some((o) => o.value === want), process.env.VM_FOLDER_WANT, { timeout: T });
  step(`folder completion offers ${process.env.VM_FOLDER_WANT}`);
  await page.locator('#new [name=cwd]').fill(process.env.VM_FOLDER_WANT);
  await page.locator('#new button').click();
  await page.waitForFunction(() => /attached/.test(document.querySelector('#status').textContent), null, { timeout: T });
  step(`shell open (${await page.textContent('#status')})`);

  await page.locator('#term').click();
  await page.keyboard.type('echo hi');
  await page.keyboard.press('Enter');
  await waitRow('hi');
  step('typed echo hi, saw hi');
  await page.keyboard.type('pwd');
  await page.keyboard.press('Enter');
  await waitRow(process.env.VM_FOLDER_WANT.replace(/\/$/, ''));
  step('the shell runs in the completed folder');

  // The extra-keys bar: Ctrl then c interrupts a running command.
  await page.keyboard.type('sleep 1000');
  await page.keyboard.press('Enter');
  await page.locator('#ctrl').click();
  await page.keyboard.type('c');
  await page.keyboard.type('echo after$((1+1))');
  await page.keyboard.press('Enter');
  await waitRow('after2');
  step('ctrl-c from the extra-keys bar');

  const sessionUrl = page.url();
  await page.reload();
  await page.waitForFunction(() => /attached/.test(document.querySelector('#status').textContent), null, { timeout: T });
  await waitRow('hi');
  if (page.url() !== sessionUrl) throw new Error(`reload moved to ${page.url()}`);
  step('reloaded: still paired, same session, screen restored');

  await page.goto(`${VM_URL}#/`);
  await page.locator('#machines li', { hasText: '1 running' }).waitFor({ timeout: T });
  step('machines page lists the running session');

  await page.goto(`${VM_URL}#ticket=${VM_EXPIRED}`);
  await page.locator('#error', { hasText: 'expired' }).waitFor({ timeout: T });
  step(`expired ticket: ${await page.textContent('#error')}`);
  console.log('ok');
} catch (e) {
  console.log(`FAILED: ${e.message}`);
  try {
    console.log(`url: ${page.url()}`);
    console.log(`status: ${await page.textContent('#status')}`);
    console.log(`error: ${await page.textContent('#error')}`);
    console.log(`view: ${await page.textContent('#view')}`);
    console.log(`terminal:\n${(await rows()).join('\n')}`);
  } catch {}
  console.log(logs.join('\n'));
  process.exitCode = 1;
} finally {
  await ctx.close();
  rmSync(dataDir, { recursive: true, force: true });
}
