// The browser client's load time and keystroke echo, measured in headless Chromium
// against a real relay and agent on loopback (see relay_browser_perf.rs). Prints:
//   step: load: <ms> to ready, <ms> to the machine listed
//   step: echo: bytes p50 <ms> p99 <ms>; drawn p50 <ms> p99 <ms> (n=<count>)
// Echo is timed in the page, from the key's `keydown` to
//   - bytes: the echoed output reaching xterm.js (its `write`), and
//   - drawn: the echoed character in xterm's rows (a MutationObserver: the DOM as the
//     next paint shows it).
//   VM_URL, VM_TICKET, VM_AGENT as everywhere; the agent runs a session titled `echo`.
import { runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_AGENT } = process.env;
const N = Number(process.env.VM_KEYS || 200);
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

await runInBrowser(async (page) => {
  const t0 = Date.now();
  await page.goto(`${VM_URL}#/`);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: T });
  const ready = Date.now() - t0;
  await openLink(page, VM_TICKET);
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
  const t1 = Date.now();
  await page.reload();
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
  step(`load: ${ready} ms to ready (first visit), ${Date.now() - t1} ms to the machine listed (reload, paired)`);

  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click();
  await page.locator('#sessions li', { hasText: 'echo' }).locator('a', { hasText: 'Open' }).click({ timeout: T });
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await page.locator('#term').click();
  await page.evaluate(() => {
    const e = { key: 0, want: '', bytes: [], drawn: [], n: 0, got: false };
    window.vmEcho = e;
    window.addEventListener('keydown', () => { e.key = performance.now(); e.got = false; }, true);
    const write = Terminal.prototype.write;
    Terminal.prototype.write = function (data, cb) {
      if (e.key && !e.got) { e.got = true; e.bytes.push(performance.now() - e.key); }
      return write.call(this, data, cb);
    };
    new MutationObserver(() => {
      if (!e.key || !e.want) return;
      const rows = [...document.querySelectorAll('#term .xterm-rows > div')].map((d) => d.textContent.replace(/\u00a0/g, ' '));
      if (rows.some((r) => r.includes(e.want))) { e.drawn.push(performance.now() - e.key); e.key = 0; e.n++; }
    }).observe(document.querySelector('#term'), { subtree: true, childList: true, characterData: true });
  });
  const letters = 'qwertyuiopasdfghjklzxcvbnm';
  let typed = '';
  for (let i = 0; i < N; i++) {
    if (typed.length === 40) { // a fresh line, so the row stays short
      await page.evaluate(() => { window.vmEcho.want = ''; });
      await page.keyboard.press('Enter');
      typed = '';
      await page.waitForTimeout(0);
    }
    const c = letters[i % letters.length];
    typed += c;
    await page.evaluate((w) => { window.vmEcho.want = w; }, typed);
    const before = await page.evaluate(() => window.vmEcho.n);
    await page.keyboard.press(c);
    await page.waitForFunction((b) => window.vmEcho.n > b, before, { timeout: T });
  }
  const { bytes, drawn } = await page.evaluate(() => window.vmEcho);
  const f = (x) => x.toFixed(1);
  step(`echo: bytes p50 ${f(pct(bytes, 0.5))} ms p99 ${f(pct(bytes, 0.99))} ms; drawn p50 ${f(pct(drawn, 0.5))} ms p99 ${f(pct(drawn, 0.99))} ms (n=${drawn.length})`);
  if (drawn.length !== N) throw new Error(`${drawn.length} of ${N} keys were seen echoed`);
});
