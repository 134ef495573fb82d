// Typing over a slow link in the browser client (see relay_browser_predict.rs, which puts
// the agent behind a relay link that holds every chunk 150 ms each way). One line is
// typed with "keys ahead: never", then one with the default, "auto"; each key is timed
// from its keydown to its character in xterm's rows. Prints:
//   step: never: perceived echo p50 <ms> p99 <ms>; <n> of <m> keys within one frame
//   step: auto: ...
// and checks that guessed keys are underlined until their echo, that the screen ends
// with none underlined, and that nothing typed at a `read -s` prompt is ever drawn.
//   VM_URL, VM_TICKET, VM_AGENT as everywhere; the agent runs a shell titled `shell`.
import { runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_AGENT } = process.env;
const LINE = 'echo typed-in-a-browser';
const PACE = 120; // ms between keys: about eight a second
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const rowsText = (page) => page.$$eval('#term .xterm-rows > div', (ds) => ds.map((d) => d.textContent.replace(/\u00a0/g, ' ')));

// Types LINE at PACE; returns each key's time from keydown to being drawn.
async function typeLine(page) {
  const shown = [];
  for (let i = 0; i < LINE.length; i++) {
    const want = `$ ${LINE.slice(0, i + 1)}`;
    await page.evaluate((w) => {
      const e = window.vmTyped;
      e.want = w; e.at = performance.now(); e.took = -1;
    }, want);
    await page.keyboard.press(LINE[i] === ' ' ? 'Space' : LINE[i]);
    await page.waitForFunction(() => window.vmTyped.took >= 0, null, { timeout: T });
    shown.push(await page.evaluate(() => window.vmTyped.took));
    const spent = shown[shown.length - 1];
    if (spent < PACE) await page.waitForTimeout(PACE - spent); // the user's pace
  }
  return shown;
}

function report(what, shown) {
  const frame = shown.filter((ms) => ms < 16.7).length;
  step(`${what}: perceived echo p50 ${pct(shown, 0.5).toFixed(1)} ms p99 ${pct(shown, 0.99).toFixed(1)} ms; ${frame} of ${shown.length} keys within one 60 Hz frame`);
}

async function enterAndWait(page, text) {
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => [...document.querySelectorAll('#term .xterm-rows > div')]
    .some((d) => d.textContent.replace(/\u00a0/g, ' ').trim() === t), text, { timeout: T });
}

await runInBrowser(async (page) => {
  await openLink(page, VM_TICKET);
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
  await page.locator('#sessions li', { hasText: 'shell' }).locator('a', { hasText: 'Open' }).click({ timeout: T });
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await page.waitForFunction(() => [...document.querySelectorAll('#term .xterm-rows > div')]
    .some((d) => d.textContent.trim() === '$'), null, { timeout: T });
  await page.locator('#term').click();
  // Every change to the rows: when the awaited line shows, and whether a guessed cell
  // (underlined) was ever drawn; the password row as it ever was.
  await page.evaluate(() => {
    const e = { want: '', at: 0, took: -1, underlined: 0, passwordRows: [] };
    window.vmTyped = e;
    new MutationObserver(() => {
      const rows = [...document.querySelectorAll('#term .xterm-rows > div')];
      const text = rows.map((d) => d.textContent.replace(/\u00a0/g, ' '));
      // The line being typed is the last prompt's (an earlier line may start the same).
      const line = text.filter((r) => r.startsWith('$')).pop() || '';
      if (e.took < 0 && e.want && line.startsWith(e.want)) e.took = performance.now() - e.at;
      if (document.querySelector('#term .xterm-rows [class*="xterm-underline-"]')) e.underlined++;
      for (const r of text) if (r.startsWith('Password: ')) e.passwordRows.push(r);
    }).observe(document.querySelector('#term'), { subtree: true, childList: true, characterData: true });
  });

  await page.selectOption('#predict', 'never');
  await page.locator('#term').click();
  const never = await typeLine(page);
  report('never', never);
  if (Math.min(...never) < 250) throw new Error(`a key showed before its echo could come back: ${never}`);
  if (await page.evaluate(() => window.vmTyped.underlined)) throw new Error('a key was drawn ahead with "never"');
  await enterAndWait(page, LINE.slice(5));

  await page.selectOption('#predict', 'auto');
  await page.locator('#term').click();
  const auto = await typeLine(page);
  report('auto', auto);
  const atOnce = auto.filter((ms) => ms < 100).length;
  if (atOnce * 2 <= LINE.length) throw new Error(`most keys should show well inside the round trip: ${auto}`);
  if (!(await page.evaluate(() => window.vmTyped.underlined))) throw new Error('guessed keys were never underlined');
  const status = await page.textContent('#status');
  if (!/echo \d+ ms · keys drawn ahead/.test(status)) throw new Error(`the status line does not say so: ${status}`);
  step(`status: ${status}`);
  await enterAndWait(page, LINE.slice(5));
  // Once the echo is in, nothing is left underlined.
  await page.waitForFunction(() => !document.querySelector('#term .xterm-rows [class*="xterm-underline-"]'), null, { timeout: T });

  // A password prompt echoes nothing: nothing typed there is drawn, ever.
  await page.keyboard.type("read -s -p 'Password: ' pw; echo; echo got-${#pw}");
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.vmTyped.passwordRows.length > 0, null, { timeout: T });
  for (const k of 'secret') { await page.keyboard.press(k); await page.waitForTimeout(PACE); }
  await enterAndWait(page, 'got-6');
  const seen = await page.evaluate(() => window.vmTyped.passwordRows);
  const drawn = seen.filter((r) => r.slice('Password: '.length).trim() !== '');
  if (drawn.length) throw new Error(`the password was drawn: ${JSON.stringify(drawn)}`);
  step(`password: ${seen.length} states of the prompt row, none with a typed key`);
}, async (page) => console.log(`terminal:\n${(await rowsText(page)).join('\n')}`));
