// The web client shows names and titles from an agent inert: a session whose title holds
// an OSC 0 sequence and a bidi override ("Trojan Source") is listed, and named in the
// crumb and its tab once opened, with both as visible escapes, never as the raw characters (which
// would reorder the rest of the line). Its card's preview on the home page shows what its
// screen holds (the same bidi override) escaped too. See relay_browser_escapes.rs.
//   VM_URL  the relay's base URL;  VM_TICKET  a fresh ticket;  VM_AGENT  its name
import { runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_AGENT } = process.env;
// What the test titled the session (evil\x1b]0;pwned\x07 \u202egpj.exe), as shown.
const SHOWN = 'evil\\e]0;pwned\\x07 \\u{202e}gpj.exe';
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

function inert(what, text) {
  if (RAW.test(text)) throw new Error(`${what} shows a raw control character: ${JSON.stringify(text)}`);
  if (!text.includes(SHOWN)) throw new Error(`${what} does not show ${SHOWN}: ${JSON.stringify(text)}`);
}

await runInBrowser(async (page) => {
  await openLink(page, VM_TICKET);
  const card = page.locator('#machines a.card', { hasText: 'pwned' });
  await card.locator('pre.peek', { hasText: 'gpj.exe' }).waitFor({ timeout: T });
  inert('the home page\'s card', await card.locator('.head').textContent());
  const peek = await card.locator('pre.peek').textContent();
  if (RAW.test(peek) || !peek.includes('evil \\u{202e}gpj.exe')) throw new Error(`the card's preview is not inert: ${JSON.stringify(peek)}`);
  step(`the card: ${await card.textContent()}`);
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
  const item = page.locator('#sessions li', { hasText: 'pwned' });
  await item.waitFor({ timeout: T });
  inert('the session list', await item.textContent());
  step(`listed: ${await item.textContent()}`);

  await item.locator('button', { hasText: 'Open' }).click();
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await page.locator('#crumb', { hasText: 'pwned' }).waitFor({ timeout: T });
  inert('the crumb', await page.textContent('#crumb'));
  await page.locator('#tabs a', { hasText: 'pwned' }).waitFor({ timeout: T });
  inert('the tab', await page.textContent('#tabs a'));
  step(`opened: ${await page.textContent('#crumb')}`);
});
