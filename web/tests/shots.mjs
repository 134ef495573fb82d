// The README's screenshots of the browser client: a laptop window and a phone, each on
// the home page, the machine page and in a terminal, against a real relay and agent (see
// relay_browser_perf.rs, `readme_screenshots`, run by hand with --ignored).
//   VM_URL, VM_TICKET, VM_AGENT as everywhere;  VM_SHOTS  the folder to write them to
import { launch, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_AGENT, VM_SHOTS } = process.env;
const { page, close } = await launch({ viewport: { width: 1280, height: 760 } });
try {
  await openLink(page, VM_TICKET);
  await page.locator('#machines a.card', { hasText: 'build' }).locator('pre.peek', { hasText: 'tests passed' }).waitFor({ timeout: T });
  await page.locator('#machines a.card', { hasText: 'logs' }).locator('pre.peek', { hasText: 'GET' }).waitFor({ timeout: T });
  await page.screenshot({ path: `${VM_SHOTS}/web-laptop-home.png` });
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click();
  await page.locator('#sessions li', { hasText: 'build' }).waitFor({ timeout: T });
  await page.screenshot({ path: `${VM_SHOTS}/web-laptop-machine.png` });
  await page.locator('#sessions li', { hasText: 'build' }).locator('a', { hasText: 'Open' }).click();
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await page.locator('.xterm-rows', { hasText: 'tests passed' }).waitFor({ timeout: T });
  await page.locator('#home').click();
  await page.locator('#machines a.card', { hasText: 'logs' }).click();
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await page.locator('#tabs a', { hasText: 'build' }).click();
  await page.locator('.xterm-rows', { hasText: 'tests passed' }).waitFor({ timeout: T });
  await page.screenshot({ path: `${VM_SHOTS}/web-laptop-terminal.png` });
  await page.setViewportSize({ width: 390, height: 760 });
  await page.locator('#home').click();
  await page.locator('#machines a.card', { hasText: 'build' }).locator('pre.peek', { hasText: 'tests passed' }).waitFor({ timeout: T });
  await page.screenshot({ path: `${VM_SHOTS}/web-phone-home.png` });
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click();
  await page.locator('#sessions li', { hasText: 'build' }).waitFor({ timeout: T });
  await page.screenshot({ path: `${VM_SHOTS}/web-phone-machine.png` });
  await page.locator('#sessions li', { hasText: 'build' }).locator('a', { hasText: 'Open' }).click();
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await page.locator('.xterm-rows', { hasText: 'tests passed' }).waitFor({ timeout: T });
  await page.screenshot({ path: `${VM_SHOTS}/web-phone-terminal.png` });
  step('screenshots written');
  console.log('ok');
} catch (e) {
  console.log(`FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  await close();
}
