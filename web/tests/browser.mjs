// Drives Debian's chromium (headless, via playwright-core) through the web client
// against a real relay and agent: pair by ticket link, open a shell, type, reload, and
// an expired ticket, and the terminal re-attaching by itself after the agent restarts.
// Configuration comes from the environment (see relay_browser.rs):
//   VM_URL            the relay's base URL (serves the page)
//   VM_TICKET         a fresh ticket;  VM_EXPIRED  an expired one;  VM_AGENT  its name
//   VM_FOLDER, VM_FOLDER_WANT  a folder prefix, and the folder it completes to
// After `step: stop the agent` the test stops the agent; after `step: start the agent` it
// starts it again on the same home (its sessions live on): the terminal must re-attach.
// (and lib.mjs's). Prints one line per step; exits non-zero with the page's state on failure.
import { runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_EXPIRED, VM_AGENT } = process.env;
// The test stops the agent after the first line and starts it again after the second.
const STOP = 'stop the agent';
const START = 'start the agent';
const BACK = 90_000; // a dial under way when the agent returns may take its full timeout

// The terminal's text, one string per row (xterm's DOM renderer).
const rows = (page) => page.$$eval('.xterm-rows > div', (ds) => ds.map((d) => d.textContent.replace(/\u00a0/g, ' ').trimEnd()));
const waitRow = (page, line) => page.waitForFunction((l) => [...document.querySelectorAll('.xterm-rows > div')]
  .some((d) => d.textContent.replace(/\u00a0/g, ' ').trim() === l), line, { timeout: T });

await runInBrowser(async (page) => {
  await openLink(page, VM_TICKET);
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).waitFor({ timeout: T });
  if (page.url().includes('ticket=')) throw new Error('the ticket stayed in the address bar');
  step('paired');

  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click();
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
  await waitRow(page, 'hi');
  step('typed echo hi, saw hi');
  await page.keyboard.type('pwd');
  await page.keyboard.press('Enter');
  await waitRow(page, process.env.VM_FOLDER_WANT.replace(/\/$/, ''));
  step('the shell runs in the completed folder');

  // The extra-keys bar: Ctrl then c interrupts a running command.
  await page.keyboard.type('sleep 1000');
  await page.keyboard.press('Enter');
  await page.locator('#ctrl').click();
  await page.keyboard.type('c');
  await page.keyboard.type('echo after$((1+1))');
  await page.keyboard.press('Enter');
  await waitRow(page, 'after2');
  step('ctrl-c from the extra-keys bar');

  const sessionUrl = page.url();
  await page.reload();
  await page.waitForFunction(() => /attached/.test(document.querySelector('#status').textContent), null, { timeout: T });
  await waitRow(page, 'hi');
  if (page.url() !== sessionUrl) throw new Error(`reload moved to ${page.url()}`);
  step('reloaded: still paired, same session, screen restored');

  await page.goto(`${VM_URL}#/`);
  await page.locator('#machines li', { hasText: '1 running' }).waitFor({ timeout: T });
  step('machines page lists the running session');

  await openLink(page, VM_EXPIRED);
  await page.locator('#error', { hasText: 'expired' }).waitFor({ timeout: T });
  step(`expired ticket: ${await page.textContent('#error')}`);

  // (Last: a restarted agent has forgotten its pending tickets, the expired one too.)
  await page.goto(sessionUrl);
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'attached', null, { timeout: T });
  await waitRow(page, 'after2');
  await page.locator('#term').click();
  step('the terminal again');
  // The agent goes away and comes back: the page says it is reconnecting, refuses keys
  // typed meanwhile (and says so), then re-attaches by itself with the same screen.
  await page.evaluate(() => {
    // Every state the view passes through, however briefly.
    const v = document.querySelector('#termview');
    window.vmStates = [];
    new MutationObserver(() => window.vmStates.push(v.dataset.state))
      .observe(v, { attributes: true, attributeFilter: ['data-state'] });
  });
  step(STOP);
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'reconnecting', null, { timeout: T });
  step(`reconnecting: ${await page.textContent('#termstate')}`);
  await page.keyboard.type('echo lost');
  await page.locator('#termstate', { hasText: 'not sent' }).waitFor({ timeout: T });
  step(`typed while offline: ${await page.textContent('#termstate')}`);
  step(START);
  await page.waitForFunction(() => document.querySelector('#termview').dataset.attaches === '2'
    && document.querySelector('#termview').dataset.state === 'attached', null, { timeout: BACK });
  await waitRow(page, 'after2');
  const states = await page.evaluate(() => window.vmStates);
  if (!states.includes('reconnecting')) throw new Error(`states: ${states}`);
  const told = await page.textContent('#termstate');
  if (!/reconnected/.test(told) || !/9 bytes .*not sent/.test(told)) throw new Error(`after re-attaching: ${told}`);
  step(`re-attached by itself, screen restored (states: ${states.join(' ')})`);
  await page.keyboard.type('echo back$((2+3))');
  await page.keyboard.press('Enter');
  await waitRow(page, 'back5');
  if ((await rows(page)).some((r) => /echo lost/.test(r))) throw new Error('keys typed offline were sent late');
  step('typing works again; keys typed offline never arrived');

  // A session that does not exist is final: said so, never retried.
  await page.goto(sessionUrl.replace(/[0-9a-f]+$/, 'abc123'));
  await page.waitForFunction(() => document.querySelector('#termview').dataset.state === 'closed', null, { timeout: T });
  const gone = await page.evaluate(() => window.vmStates.slice(window.vmStates.lastIndexOf('attaching')));
  if (gone.includes('reconnecting')) throw new Error(`retried a missing session: ${gone}`);
  step(`a missing session: ${await page.textContent('#termstate')} (states: ${gone.join(' ')})`);
}, async (page) => console.log(`terminal:\n${(await rows(page)).join('\n')}`));
