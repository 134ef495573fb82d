// The browser client's home page and tabs, one case each (VM_CASE), against a real relay
// and agent (see relay_browser_home.rs, which sets the sessions up and acts after this
// script's `step:` lines):
//   cards   on a phone: each session is a card with the last lines of its screen, live
//           (the session prints on, the card follows without a reload); an ended one
//           looks ended; nothing is wider than the phone; a card opens its session
//   tabs    on a laptop: the cards sit side by side; each session opened becomes a tab;
//           a tab switches to its session, back and forward follow, tabs survive a
//           reload, and closing the last one leads to its machine
// Environment: VM_URL, VM_TICKET, VM_AGENT (its name), VM_CASE.
import { runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_TICKET, VM_CASE } = process.env;

/** Waits until a row of the terminal shown reads `line` (trimmed). */
const waitRow = (page, line) => page.waitForFunction((l) => {
  const v = document.querySelector('#termview');
  return v && !v.hidden && [...v.querySelectorAll('.xterm-rows > div')]
    .some((d) => d.textContent.replace(/\u00a0/g, ' ').trim() === l);
}, line, { timeout: T });
const attached = (page) => page.waitForFunction(() =>
  document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
const card = (page, title) => page.locator('#machines a.card', { hasText: title });

const cases = {
  async cards(page) {
    await openLink(page, VM_TICKET);
    const build = card(page, 'build');
    await build.locator('pre.peek', { hasText: 'compiling' }).waitFor({ timeout: T });
    step('the card shows the screen');
    // The session prints on once the test says so; the card follows, no reload.
    await build.locator('pre.peek', { hasText: 'tests passed' }).waitFor({ timeout: T });
    const peek = await build.locator('pre.peek').textContent();
    if (!/compiling[\s\S]*tests passed/.test(peek)) throw new Error(`the card's lines are not the screen's last: ${peek}`);
    const foot = await build.locator('.foot').textContent();
    if (!/running/.test(foot)) throw new Error(`the card does not say the session runs: ${foot}`);
    step(`the card followed live: ${JSON.stringify(peek)} (${foot})`);
    await page.locator('#machines a.card.ended', { hasText: 'old' }).waitFor({ timeout: T });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (wide > 0) throw new Error(`the home page is ${wide} px wider than the phone`);
    const box = await build.boundingBox();
    if (!box || box.width > 390) throw new Error(`a card is wider than the phone: ${JSON.stringify(box)}`);
    await build.click();
    await attached(page);
    await waitRow(page, 'tests passed');
    step('the card opened its session');
  },

  async tabs(page) {
    await openLink(page, VM_TICKET);
    const [a, b] = [card(page, 'alpha'), card(page, 'beta')];
    await a.waitFor({ timeout: T });
    await b.waitFor({ timeout: T });
    const [ba, bb] = [await a.boundingBox(), await b.boundingBox()];
    if (!ba || !bb || Math.abs(ba.y - bb.y) > 1 || ba.x === bb.x) {
      throw new Error(`on a laptop the cards are not side by side: ${JSON.stringify([ba, bb])}`);
    }
    await a.click();
    await attached(page);
    await waitRow(page, 'I am alpha');
    await page.locator('#home').click();
    await b.click();
    await attached(page);
    await waitRow(page, 'I am beta');
    const tabs = () => page.$$eval('#tabs .tab', (ts) => ts.map((t) => `${t.classList.contains('current') ? '*' : ''}${t.querySelector('a').textContent.trim()}`));
    const want = async (list, what) => {
      await page.waitForFunction((l) => JSON.stringify([...document.querySelectorAll('#tabs .tab')]
        .map((t) => `${t.classList.contains('current') ? '*' : ''}${t.querySelector('a').textContent.trim()}`)) === l,
      JSON.stringify(list), { timeout: T }).catch(async () => {
        throw new Error(`${what}: the tabs are ${JSON.stringify(await tabs())}, not ${JSON.stringify(list)}`);
      });
    };
    await want(['alpha', '*beta'], 'after opening two sessions');
    step('each session opened is a tab');
    await page.locator('#tabs a', { hasText: 'alpha' }).click();
    await attached(page);
    await waitRow(page, 'I am alpha');
    await want(['*alpha', 'beta'], 'after switching');
    step('a tab switches to its session');
    await page.goBack();
    await waitRow(page, 'I am beta');
    await want(['alpha', '*beta'], 'after going back');
    await page.goForward();
    await waitRow(page, 'I am alpha');
    step('back and forward follow');
    await page.reload();
    await attached(page);
    await want(['*alpha', 'beta'], 'after a reload');
    step('the tabs survived a reload');
    await page.locator('#tabs .tab', { hasText: 'beta' }).locator('button.close').click();
    await want(['*alpha'], 'after closing beta');
    await page.locator('#tabs .tab', { hasText: 'alpha' }).locator('button.close').click();
    await page.locator('#sessions li', { hasText: 'alpha' }).waitFor({ timeout: T });
    if (await page.locator('#tabs').isVisible()) throw new Error('the tab strip stayed on the machine page');
    step('closing the last tab led to its machine');
  },
};

const run = cases[VM_CASE];
if (!run) throw new Error(`no case ${VM_CASE}`);
await runInBrowser(run, async () => {}, VM_CASE === 'tabs' ? { viewport: { width: 1280, height: 760 } } : {});
