// The browser client's defects of issue 18, one case each (VM_CASE), each as a user
// meets it. See relay_browser_defects.rs, which sets the scene (sessions, a revocation,
// a stopped agent) and acts after this script's `step:` lines:
//   blank     30 sessions open in a row after a 10,000-line flood, and each one draws
//   badlink   a ticket link with a broken %-escape is explained, and the page lives on
//   revoke    a revoked browser is told so, with what to do, and stops retrying
//   resized   another device's resize of the session is drawn at its size
//   offline   a stopped agent shows as offline, and its terminal says it is gone soon
//   form      the machine page keeps what is typed while sessions come and go
//   tablet    a touch screen 1024 px wide (a tablet) has the extra-keys bar
//   kill      Kill asks once more; an ended session offers the way back to its machine
//   cancel    pairing with a machine that is offline can be cancelled
//   name      a link asks before it pairs, naming the machine; the name chosen for this
//             browser in that step is the one it pairs under
//   install   Chromium finds the page installable (manifest, icon, service worker)
//   reload    a reload when nothing changed transfers under 50 KB (Chromium's network
//             log: the bytes of every HTTP response, headers included), the assets
//             compressed on the first load
// Environment: VM_URL, VM_TICKET, VM_AGENT (its name), and per case what the test says.
import { runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_AGENT, VM_CASE } = process.env;

const rowsText = (page) => page.$$eval('.xterm-rows > div',
  (ds) => ds.map((d) => d.textContent.replace(/\u00a0/g, ' ').trimEnd()));
/** Waits until a row of the terminal shown reads `line` (trimmed). */
const waitRow = (page, line, timeout = T) => page.waitForFunction((l) => {
  const v = document.querySelector('#termview');
  return v && !v.hidden && [...v.querySelectorAll('.xterm-rows > div')]
    .some((d) => d.offsetParent !== null && d.textContent.replace(/\u00a0/g, ' ').trim() === l);
}, line, { timeout });
const termState = (page, want, timeout = T) => page.waitForFunction((w) =>
  document.querySelector('#termview').dataset.state === w, want, { timeout });

async function pair(page) {
  await openLink(page, VM_TICKET);
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
  step('paired');
}

/** Opens the machine, then the session titled `title`, and waits until it is attached. */
async function openSession(page, title) {
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
  await page.locator('#sessions li', { hasText: title }).locator('a', { hasText: 'Open' }).click({ timeout: T });
  await termState(page, 'attached');
}

// Every HTTP response's bytes on the wire (headers and body as received, compressed)
// while `act` runs, from Chromium's network log (CDP `Network.loadingFinished`); the relay's
// websocket (iroh's traffic) is not an HTTP response and is not counted.
async function transferred(page, act) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  /** @type {Map<string, string>} */
  const urls = new Map();
  const got = [];
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, `${e.response.status} ${e.response.headers['content-encoding'] || '-'} ${e.response.url}`));
  cdp.on('Network.loadingFinished', (e) => got.push([urls.get(e.requestId) || e.requestId, e.encodedDataLength]));
  await act();
  await cdp.detach();
  return { bytes: got.reduce((n, [, b]) => n + b, 0), got };
}

const cases = {
  async blank(page) {
    await pair(page);
    await openSession(page, 'flood');
    await waitRow(page, '10000');
    await page.reload();
    await termState(page, 'attached');
    await waitRow(page, '10000');
    step('the flood is on screen, after a reload too');
    const n = Number(process.env.VM_COUNT);
    for (let i = 1; i <= n; i++) {
      const name = `win-${String(i).padStart(2, '0')}`;
      await page.goBack(); // to the machine's page
      await page.locator('#sessions li', { hasText: name }).locator('a', { hasText: 'Open' }).click({ timeout: T });
      await termState(page, 'attached');
      try { await waitRow(page, `ready ${name}`, 10_000); } catch {
        throw new Error(`session ${i} (${name}) drew nothing: ${JSON.stringify((await rowsText(page)).filter(Boolean))}`);
      }
    }
    step(`${n} sessions opened in a row, each drew its screen`);
  },

  async badlink(page) {
    await page.goto(`${VM_URL}#ticket=VM1%E0%A4%A`);
    await page.locator('#error', { hasText: /link/i }).waitFor({ timeout: T });
    step(`a broken link: ${await page.textContent('#error')}`);
    await openLink(page, VM_TICKET); // the same page: a hashchange
    await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
    step('the page still pairs from the next link');
  },

  async revoke(page) {
    await pair(page);
    await openSession(page, 'kept');
    step('revoke');
    await termState(page, 'closed');
    const said = await page.textContent('#termstate');
    if (!/revoked|not paired/i.test(said) || !/pair/i.test(said.replace(/revoked|not paired/gi, ''))) {
      throw new Error(`the terminal does not say what happened and what to do: ${said}`);
    }
    step(`the terminal: ${said}`);
    await page.goto(`${VM_URL}#/`);
    const li = page.locator('#machines li', { hasText: VM_AGENT });
    await li.filter({ hasText: /revoked|not paired/i }).waitFor({ timeout: T });
    const row = await li.textContent();
    if (/connecting/.test(row)) throw new Error(`the list still says connecting: ${row}`);
    step(`the list: ${row}`);
  },

  async resized(page) {
    await pair(page);
    await openSession(page, 'wide');
    step('resize');
    // What another device (150 columns) prints: 120 characters on one line.
    await waitRow(page, '0123456789'.repeat(12), T);
    step('the wide line is drawn on one row, at the session\'s size');
  },

  async offline(page) {
    await pair(page);
    await openSession(page, 'left');
    const t0 = Date.now();
    step('stop');
    await page.waitForFunction(() => document.querySelector('#termview').dataset.state !== 'attached', null, { timeout: T });
    const took = Date.now() - t0;
    step(`the terminal said "${await page.textContent('#termstate')}" after ${took} ms`);
    if (took > 5000) throw new Error(`the terminal claimed "attached" for ${took} ms after the agent stopped`);
    await page.goto(`${VM_URL}#/`);
    const li = page.locator('#machines li', { hasText: VM_AGENT });
    await li.filter({ hasText: 'offline' }).waitFor({ timeout: T });
    step(`the list: ${await li.textContent()}`);
  },

  async reload(page) {
    const t0 = Date.now();
    const first = await transferred(page, async () => {
      await page.goto(`${VM_URL}#/`);
      await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: T });
    });
    step(`first load: ${first.bytes} bytes in ${Date.now() - t0} ms, ready`);
    for (const [what, n] of first.got) step(`  ${n} ${what}`);
    const wasm = first.got.find(([u]) => /\.wasm$/.test(u));
    if (!wasm || !/ (br|gzip) /.test(wasm[0])) throw new Error(`the wasm came uncompressed: ${wasm}`);
    await pair(page);
    const again = await transferred(page, async () => {
      await page.reload();
      await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
    });
    step(`reload: ${again.bytes} bytes`);
    for (const [what, n] of again.got) step(`  ${n} ${what}`);
    if (again.bytes >= 50_000) throw new Error(`a reload with nothing changed transferred ${again.bytes} bytes`);
  },

  async kill(page) {
    await pair(page);
    await page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
    const li = page.locator('#sessions li', { hasText: 'victim' });
    await li.locator('button', { hasText: 'Kill' }).click({ timeout: T });
    await li.locator('button', { hasText: 'Yes' }).waitFor({ timeout: 5000 });
    if (!/running/.test(await li.textContent())) throw new Error(`one click killed it: ${await li.textContent()}`);
    step(`Kill asks: ${await li.locator('button.kill').textContent()}`);
    await li.locator('button', { hasText: 'Yes' }).click();
    await li.waitFor({ state: 'detached', timeout: T });
    step('confirmed: the session is gone from the list');
    // A session that ends while it is open offers the way back.
    await page.locator('#sessions li', { hasText: 'short' }).locator('a', { hasText: 'Open' }).click({ timeout: T });
    await termState(page, 'attached');
    await page.locator('#term').click();
    await page.keyboard.type('now');
    await page.keyboard.press('Enter');
    await termState(page, 'exited');
    await page.locator('#termback', { hasText: 'Back to' }).click({ timeout: 5000 });
    await page.locator('#sessions li', { hasText: 'short' }).waitFor({ timeout: T });
    step('the ended session led back to its machine');
  },

  async cancel(page) {
    await openLink(page, VM_TICKET);
    await page.locator('#status', { hasText: 'pairing' }).waitFor({ timeout: T });
    await page.locator('#cancelpair').click({ timeout: 5000 });
    await page.locator('#status', { hasText: 'cancelled' }).waitFor({ timeout: 5000 });
    if (await page.locator('#cancelpair').isVisible()) throw new Error('Cancel is still offered');
    await page.locator('#devname').fill('after cancel', { timeout: 5000 });
    step('pairing an offline machine was cancelled at once; the page is usable');
  },

  async name(page) {
    // A link only asks: it names the machine, and nothing pairs until the user says so.
    await page.goto(`${VM_URL}#ticket=${VM_TICKET}`);
    await page.locator('#pairform').waitFor({ timeout: T });
    const id = await page.textContent('#pairid');
    if (id !== process.env.VM_AGENT_ID) throw new Error(`the pairing step names ${id}, not the machine's id`);
    await page.locator('#pairname').fill('den laptop');
    await page.locator('#pairno').click();
    await page.locator('#nomachines').waitFor({ timeout: T });
    if (await page.locator('#pairform').isVisible()) throw new Error('the pairing step stayed after Not now');
    step('a link asked first; declining paired nothing');
    // The same link again: the name is chosen in the pairing step.
    await openLink(page, VM_TICKET, 'kitchen tablet');
    await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
    const home = await page.inputValue('#devname');
    if (home !== 'kitchen tablet') throw new Error(`the home page names this browser ${home}`);
    step('paired');
  },

  async install(page) {
    await page.goto(`${VM_URL}#/`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: T });
    await page.evaluate(() => navigator.serviceWorker.ready);
    const cdp = await page.context().newCDPSession(page);
    const { installabilityErrors: errs } = await cdp.send('Page.getInstallabilityErrors');
    if (errs.length) throw new Error(`not installable: ${JSON.stringify(errs)}`);
    const { url, errors } = await cdp.send('Page.getAppManifest');
    if (errors.length) throw new Error(`the manifest has errors: ${JSON.stringify(errors)}`);
    step(`installable (manifest ${url}, service worker active)`);
    await pair(page);
    await page.reload();
    await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
    step('the page still loads and reaches the agent under its service worker');
  },

  async tablet(page) {
    await pair(page);
    await openSession(page, 'keys');
    if (!await page.locator('#keys').isVisible()) throw new Error('no extra-keys bar on a 1024 px touch screen');
    // Ctrl from the bar, then c: the running `sleep` is interrupted.
    await page.locator('#term').click();
    await page.keyboard.type('sleep 1000');
    await page.keyboard.press('Enter');
    await page.locator('#ctrl').tap();
    await page.keyboard.type('c');
    await page.keyboard.type('echo tapped$((3+4))');
    await page.keyboard.press('Enter');
    await waitRow(page, 'tapped7');
    step('the extra-keys bar shows on a tablet, and its Ctrl works by touch');
  },

  async form(page) {
    await pair(page);
    await page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
    const cwd = page.locator('#new [name=cwd]');
    await cwd.fill('half-typed');
    await cwd.focus();
    step('create');
    await page.locator('#sessions li', { hasText: 'newcomer' }).waitFor({ timeout: T });
    const kept = await page.evaluate(() => {
      const f = document.querySelector('#new [name=cwd]');
      return { value: f.value, focused: document.activeElement === f };
    });
    if (kept.value !== 'half-typed' || !kept.focused) throw new Error(`the form was wiped: ${JSON.stringify(kept)}`);
    step('a session came in; the folder field kept its text and the focus');
  },
};

// A tablet: wide, with a touch screen.
const options = VM_CASE === 'tablet' ? { viewport: { width: 1024, height: 768 }, hasTouch: true } : {};
await runInBrowser((page) => cases[VM_CASE](page),
  async (page) => console.log(`terminal:\n${(await rowsText(page)).join('\n')}\ntermstate: ${await page.textContent('#termstate')}`),
  options);
