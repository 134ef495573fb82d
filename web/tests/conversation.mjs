// A structured Claude session in the web client, against a real relay and an agent whose
// `claude` talks to the fake model API (see relay_browser_conversation.rs):
//   VM_URL  the relay's base URL;  VM_TICKET  a fresh ticket;  VM_AGENT  the agent's name
//   VM_VIEWER_TICKET  a ticket for the viewer role, used by a second browser
//   VM_WORK the folder the conversation works in;  VM_SHOT  a screenshot to take at the end
// After the line `step: restart the agent` the test restarts the agent; the page must
// re-attach by itself. Waits on the page's own state, never on time.
import { launch, runInBrowser, openLink, step, T } from './lib.mjs';

const { VM_URL, VM_TICKET, VM_VIEWER_TICKET, VM_AGENT, VM_WORK } = process.env;
const AI = 90_000; // the CLI starts slowly on a busy machine
const count = (page, sel) => page.locator(sel).count();

// Every kind of thing a turn draws, counted: a re-attach must not add to them.
async function tally(page) {
  const kinds = ['.msg.user', '.msg.assistant', 'details.tool', '.approval', '.turnend'];
  return Object.fromEntries(await Promise.all(kinds.map(async (k) => [k, await count(page, `#conv ${k}`)])));
}
const turnsEnded = (page, n) => page.waitForFunction((n) => document.querySelectorAll('#conv .turnend').length === n
  && document.querySelector('#convview').dataset.busy === 'false', n, { timeout: AI });

await runInBrowser(async (page) => {
  await openLink(page, VM_TICKET);
  await page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
  step('paired');

  const form = page.locator('#newconv');
  await form.locator('[name=provider]').selectOption('claude', { timeout: T });
  await form.locator('[name=cwd]').fill(VM_WORK);
  // Model and user text is text, never markup: the fake echoes the prompt.
  await form.locator('[name=prompt]').fill('say <b>hello</b>');
  await form.locator('button').click();
  await page.waitForURL(/#\/c\/[0-9a-f]{64}\/[0-9a-f]+$/, { timeout: T });
  const convUrl = page.url();
  await page.locator('#conv .msg.user', { hasText: 'say <b>hello</b>' }).waitFor({ timeout: AI });
  await page.locator('#conv .msg.assistant', { hasText: 'Hello from the fake model. You said: say <b>hello</b>' })
    .waitFor({ timeout: AI });
  await turnsEnded(page, 1);
  if (await count(page, '#conv .msg b')) throw new Error('a message was drawn as HTML');
  step(`started with a prompt, answered (as text): ${await page.locator('#conv .turnend').textContent()}`);

  const box = page.locator('#composer [name=text]');
  // An answer being written has a caret; Interrupt stops it and the turn ends failed.
  await box.fill('[[hang]]');
  await box.press('Enter');
  await page.locator('#conv .msg.assistant.streaming .caret').waitFor({ timeout: AI });
  await page.locator('#interrupt').click();
  await turnsEnded(page, 2);
  await page.locator('#conv .turnend.failed').waitFor({ timeout: T });
  if (await count(page, '#conv .caret')) throw new Error('a caret after the turn ended');
  if (await page.locator('#interrupt').isVisible()) throw new Error('Interrupt shown while idle');
  step('a streaming answer showed the caret; Interrupt ended the turn');

  // (A resumed claude session answers the last tool result, whatever is typed: the hang
  // comes before any tool runs.)
  await box.fill('make a file [[run touch created.txt && echo made-$((40+2))]]');
  await box.press('Enter');
  const allow = page.locator('#conv .approval button[data-decision=Allow]');
  await allow.waitFor({ timeout: AI });
  const card = await page.locator('#conv .approval').textContent();
  if (!card.includes('Bash') || !card.includes('touch created.txt')) throw new Error(`approval card: ${card}`);
  if (!(await page.locator('#interrupt').isVisible())) throw new Error('no Interrupt button while busy');
  step('Enter sent the prompt; approval card with Allow / Always / Deny');

  // A second browser, paired as a viewer, sees the conversation and no controls.
  const v = await launch();
  try {
    await openLink(v.page, VM_VIEWER_TICKET);
    // The home page's card says the conversation needs someone, before any is opened.
    await v.page.locator('#machines a.card.needs .badge', { hasText: 'approve Bash' }).waitFor({ timeout: T });
    await v.page.locator('#machines a.machine', { hasText: VM_AGENT }).click({ timeout: T });
    await v.page.locator('#sessions .badge', { hasText: 'approve Bash' }).waitFor({ timeout: T });
    if (await v.page.locator('#newconv').count()) throw new Error('a viewer sees the new-conversation form');
    await v.page.goto(convUrl);
    await v.page.locator('#conv .approval', { hasText: 'waiting for an owner' }).waitFor({ timeout: T });
    if (!(await v.page.locator('#composer').isHidden())) throw new Error('a viewer sees the composer');
    if (await v.page.locator('#conv [data-decision]').count()) throw new Error('a viewer sees approval buttons');
  } finally { await v.close(); }
  step('a viewer sees the approval card without buttons, and no composer');

  // The session list says it waits; coming back replays the conversation.
  await page.goto(`${VM_URL}#/m/${convUrl.split('/c/')[1].split('/')[0]}`);
  await page.locator('#sessions .badge', { hasText: 'approve Bash' }).waitFor({ timeout: T });
  step('the session list shows the approval badge');
  if (process.env.VM_SHOT) await page.screenshot({ path: process.env.VM_SHOT.replace(/(\.png)?$/, '-machine.png') });
  await page.goto(convUrl);
  await allow.click({ timeout: T });
  await page.locator('#conv .approval .decision', { hasText: 'Allowed' }).waitFor({ timeout: T });
  await page.waitForFunction(() => /made-42/.test(document.querySelector('#conv details.tool.done pre.out')?.textContent),
    null, { timeout: AI });
  await turnsEnded(page, 3);
  await page.locator('#conv .msg.assistant', { hasText: 'The tool ran.' }).waitFor({ timeout: T });
  // The row's title is the command, summed up on the wasm side (core's item view).
  const arg = await page.locator('#conv details.tool summary .arg').first().textContent();
  if (arg !== 'touch created.txt && echo made-$((40+2))') throw new Error(`tool row: ${arg}`);
  step('allowed: the card shows it, the tool row names the command and has its output, the turn ended');

  const before = await tally(page);
  step('restart the agent');
  await page.waitForFunction(() => document.querySelector('#convview').dataset.attaches === '2', null, { timeout: AI });
  const after = await tally(page);
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    throw new Error(`re-attach changed what was drawn: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
  }
  step(`re-attached after the restart, nothing drawn twice: ${JSON.stringify(after)}`);

  await box.fill('and now?');
  await box.press('Enter');
  await page.locator('#conv .msg.user', { hasText: 'and now?' }).waitFor({ timeout: T });
  await turnsEnded(page, 4);
  const last = await tally(page);
  if (last['.msg.user'] !== 4 || last['.approval'] !== 1 || last['details.tool'] !== 1) {
    throw new Error(`after four turns: ${JSON.stringify(last)}`);
  }
  step(`a fourth turn on the resumed session: ${JSON.stringify(last)}`);
  // To look at the phone layout: VM_SHOT=/tmp/conv.png cargo test --test relay_browser_conversation
  if (process.env.VM_SHOT) {
    await page.locator('#conv details.tool').first().locator('summary').click();
    await page.screenshot({ path: process.env.VM_SHOT, fullPage: true });
  }
}, async (page) => console.log(`conversation:\n${await page.locator('#conv').innerText()}\nstate: ${
  await page.textContent('#convstate')}`));
