// The VibeMesh browser client. The page is a real iroh peer (vibemesh-core compiled to
// wasm): it has its own key, kept in localStorage, pairs by ticket like any client, and
// reaches agents through the relay that served it, end to end encrypted.
//
// Routes (the fragment, never sent to the server):
//   #ticket=VM2...    ask to pair with the ticket's machine, then show the machines
//   #/                machines and their sessions as cards (home.js)
//   #/m/<agent>       one machine: new sessions, its session list (machine.js)
//   #/t/<agent>/<id>  one terminal      #/c/<agent>/<id>  one AI conversation
import init, { Node, newSecretKey, parseTicket } from './pkg/vibemesh_web.js';
import { $, esc, inert, sleep, showError, status, refusal } from './ui.js';
import { openConversation, leaveConversation, wireComposer } from './conversation.js';
import { openTerminal, leaveTerminal } from './terminal.js';
import { drawMachine, updateSessions, showing } from './machine.js';
import { updateHome, leaveHome } from './home.js';
import { showTab, retitle, hideTabs } from './tabs.js';

// What the wasm side hands over (its TypeScript declarations, generated from the Rust
// types; `tsc` checks this file against them).
/** @typedef {import('./pkg/vibemesh_web.js').PairedAgent} PairedAgent */
/** @typedef {import('./pkg/vibemesh_web.js').Peer} Peer */
/** @typedef {import('./pkg/vibemesh_web.js').AgentView} AgentView */
/** @typedef {import('./pkg/vibemesh_web.js').SessionRow} SessionRow */
/** One connected agent: its connection, who it is, its sessions (newest first).
 * @typedef {{ peer: Peer, info: AgentView, sessions: SessionRow[], dead: boolean }} Entry */

const KEY = 'vibemesh.key';
const NAME = 'vibemesh.name'; // what this browser is called where it pairs
const AGENTS = 'vibemesh.agents';

/** @type {Node} */
let node;
/** @type {Map<string, Promise<Entry>>} agent id -> its connection */
const peers = new Map();
/** Why each agent that is not connected could not be reached or was lost: `final` when
 * trying again is pointless (it revoked this browser, or never knew it).
 * @type {Map<string, { name: string, message: string, final: boolean }>} */
const failures = new Map();

// ---- storage ----------------------------------------------------------------------
/** @returns {PairedAgent[]} */
function agents() {
  try { return JSON.parse(localStorage.getItem(AGENTS)) || []; } catch { return []; }
}
/** @param {PairedAgent} a */
function saveAgent(a) {
  localStorage.setItem(AGENTS, JSON.stringify([...agents().filter((x) => x.id !== a.id), a]));
}
function agentById(id) { return agents().find((a) => a.id === id); }

// ---- connections ------------------------------------------------------------------
/** @param {PairedAgent} a @returns {Promise<Entry>} */
function getPeer(a) {
  let p = peers.get(a.id);
  if (!p) {
    p = (async () => {
      const peer = await node.connect(a.id, a.relay || '');
      /** @type {Entry} */
      const entry = { peer, info: await peer.info(), sessions: await peer.listSessions(), dead: false };
      retitle(a.id, entry.sessions);
      pumpEvents(a, entry);
      return entry;
    })();
    peers.set(a.id, p);
    p.then(() => failures.delete(a.id), (e) => {
      peers.delete(a.id);
      failures.set(a.id, { name: e?.name || 'Error', message: e?.message || String(e), final: e?.final === true });
    });
  }
  return p;
}

// An agent refused this browser for good (seen by a terminal): said in the list, not
// retried.
/** @param {string} id @param {string} code @param {string} message */
function refused(id, code, message) {
  failures.set(id, { name: code, message, final: true });
  dropPeer(id);
}

function dropPeer(id) {
  const p = peers.get(id);
  peers.delete(id);
  if (p) p.then((e) => { e.dead = true; e.peer.close(); }, () => {});
}

// The agent's pushed events keep the session lists live (the wasm side applies them);
// the loop ends with the connection.
/** @param {PairedAgent} a @param {Entry} entry */
async function pumpEvents(a, entry) {
  for (;;) {
    let list;
    try { list = await entry.peer.nextSessions(); } catch { list = undefined; }
    if (list === undefined) break;
    entry.sessions = list;
    retitle(a.id, list);
    refresh(a.id);
  }
  // Not closed by the page: the agent went away (or refused us; redialling says which).
  if (!entry.dead && !failures.has(a.id)) failures.set(a.id, { name: 'ConnectionError', message: 'connection lost', final: false });
  entry.dead = true;
  if ((await peers.get(a.id)?.catch(() => null)) === entry) peers.delete(a.id);
  refresh(a.id);
}

// ---- pairing ----------------------------------------------------------------------
// The name the user chose for this browser (when pairing, or on the home page), else one
// from its OS.
function deviceName() {
  const chosen = (localStorage.getItem(NAME) || '').trim();
  if (chosen) return chosen;
  const ua = navigator.userAgent;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS'
    : /Mac/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'web';
  return `browser on ${os}`;
}

let pairing = 0; // bumped by Cancel: the pairing under way is no longer waited for

async function pairWith(ticket) {
  try { parseTicket(ticket); } catch (e) { showError(`This ticket cannot be used: ${e.message}`); return; }
  const mine = ++pairing;
  status('pairing…');
  $('#cancelpair').hidden = false;
  try {
    const a = await node.pair(ticket, deviceName());
    // Saved even when cancelled meanwhile: the machine has paired with this browser.
    saveAgent(a);
    if (mine === pairing) status(`paired with ${inert(a.name)}`);
    refresh(a.id);
  } catch (e) {
    if (mine !== pairing) return;
    status('');
    showError(`Pairing failed: ${e.message}`);
  } finally {
    if (mine === pairing) $('#cancelpair').hidden = true;
  }
}

// Stops waiting for a pairing (an offline machine takes its whole timeout to fail).
function cancelPairing() {
  pairing++;
  $('#cancelpair').hidden = true;
  status('pairing cancelled');
}

// ---- views ------------------------------------------------------------------------
let view = { name: 'machines' };

async function renderMachines() {
  const list = agents();
  $('#crumb').textContent = '';
  // The page's frame is drawn once per visit; refreshes redraw only the list, so the
  // name being typed below it survives.
  if (!$('#homepage')) {
    $('#view').innerHTML = `<ul class="list" id="machines"></ul><div id="homepage">
      <p id="nomachines">No machines yet. On a machine running the agent, run
      <code>vibemesh pair</code> and open its link (or scan its QR code) here.</p>
      <form class="new" id="naming"><label for="devname" class="dim">This browser pairs as</label>
        <input id="devname" name="name" maxlength="64" autocomplete="off" spellcheck="false"></form>
      <p class="dim">This browser's id: ${esc(node.id())}</p></div>`;
    const input = /** @type {HTMLInputElement} */ ($('#devname'));
    input.value = deviceName();
    input.onchange = () => { localStorage.setItem(NAME, input.value.trim()); input.value = deviceName(); };
    $('#naming').onsubmit = (ev) => { ev.preventDefault(); input.blur(); };
  }
  $('#nomachines').hidden = list.length > 0;
  const shown = await Promise.all(list.map(async (a) => {
    const p = peers.get(a.id);
    let state = '<span class="dim">connecting…</span>';
    /** @type {Entry | null} */
    let entry = null;
    const f = failures.get(a.id);
    if (f && f.final) {
      state = `<span class="off">${f.name === 'Revoked' ? 'access revoked' : f.name === 'NotPaired' ? 'not paired' : 'refused'}</span> <span class="dim">${esc(refusal(f.name, a.name) || f.message)}</span>`;
    } else if (f) state = `<span class="off">offline</span> <span class="dim">trying again…</span>`;
    if (p) {
      const e = await Promise.race([p.catch(() => null), sleep(0).then(() => 'wait')]);
      if (e && e !== 'wait' && !e.dead) {
        entry = e;
        const running = e.sessions.filter((s) => s.running).length;
        const waiting = e.sessions.filter((s) => s.waiting).length;
        state = `<span class="on">online</span> <span class="dim">${running} running · ${e.peer.path()}</span>${
          waiting ? ` <span class="badge">${waiting} waiting</span>` : ''}`;
      } else if (e === null) state = '<span class="off">offline</span>';
    }
    return { a, state, e: entry };
  }));
  if (view.name !== 'machines' || !$('#machines')) return; // left meanwhile
  updateHome(shown);
  for (const a of list) if (!peers.has(a.id) && !failures.get(a.id)?.final) dialLater(a);
}

// Machines that are offline are dialled again with backoff, not in a loop.
const retry = new Map(); // agent id -> {delay, timer}
function dialLater(a) {
  const r = retry.get(a.id) || { delay: 0, timer: null };
  if (r.timer) return;
  retry.set(a.id, r);
  r.timer = setTimeout(() => {
    getPeer(a).then(() => { retry.delete(a.id); refresh(a.id); }, () => {
      r.timer = null;
      r.delay = Math.min(Math.max(r.delay * 2, 1000), 30000);
      refresh(a.id);
    });
  }, r.delay);
}

async function renderMachine(id) {
  const a = agentById(id);
  if (!a) { location.hash = '#/'; return; }
  $('#crumb').textContent = inert(a.name);
  let e;
  try { e = await getPeer(a); } catch (err) {
    $('#view').innerHTML = `<p class="off">${esc(inert(a.name))} is not reachable: ${esc(refusal(err.name, a.name) || err.message)}</p>
      <button id="retry">Retry</button>`;
    $('#retry').onclick = () => route();
    return;
  }
  if (view.name !== 'machine' || view.id !== id) return; // left while connecting
  drawMachine(a, e);
}

// ---- routing ----------------------------------------------------------------------
// Leaves the terminal or conversation shown, if any.
function leaveView() {
  if (view.name === 'machines') leaveHome();
  else if (view.name === 'term') leaveTerminal();
  else if (view.name === 'conv') leaveConversation();
}

function route() {
  const h = location.hash;
  let m;
  if ((m = h.match(/^#\/([tc])\/([0-9a-f]{64})\/([0-9a-f]+)$/))) {
    const name = m[1] === 't' ? 'term' : 'conv';
    if (view.name === name && view.id === m[2] && view.sid === m[3]) return;
    leaveView();
    view = { name, id: m[2], sid: m[3] };
    const a = agentById(m[2]);
    if (a) {
      showTab(a, m[1], m[3]);
      peers.get(a.id)?.then((e) => retitle(a.id, e.sessions), () => {});
    }
    if (!a) location.hash = '#/';
    else if (name === 'term') { $('#crumb').textContent = `${inert(a.name)} › ${m[3]}`; openTerminal(a, m[3], { getPeer, node: () => node, refused }); }
    else openConversation(a, m[3], { getPeer, dropPeer });
    return;
  }
  leaveView();
  hideTabs();
  if ((m = h.match(/^#\/m\/([0-9a-f]{64})$/))) { view = { name: 'machine', id: m[1] }; renderMachine(m[1]); }
  else { view = { name: 'machines' }; renderMachines(); }
}

async function refresh(id) {
  if (view.name === 'machines') renderMachines();
  else if (view.name === 'machine' && view.id === id) {
    // The same connection: only its list changes (the forms keep what is typed).
    const e = await peers.get(id)?.catch(() => null);
    if (view.name !== 'machine' || view.id !== id) return;
    const a = agentById(id);
    if (a && e && !e.dead && showing(id, e)) updateSessions(a, e);
    else renderMachine(id);
  }
}

async function main() {
  try {
    await init({ module_or_path: new URL('./pkg/vibemesh_web_bg.wasm', import.meta.url) });
    let key = localStorage.getItem(KEY);
    if (!key) { key = newSecretKey(); localStorage.setItem(KEY, key); }
    node = await Node.start(key, `${location.origin}/`);
  } catch (e) {
    showError(`VibeMesh cannot start here: ${e.message}`);
    return;
  }
  // Listening first: whatever the first link holds, the next one is still heard.
  window.addEventListener('hashchange', async () => {
    showError('');
    await takeTicket();
    route();
  });
  wireComposer();
  $('#cancelpair').onclick = cancelPairing;
  // Installable, and where Web Push will arrive; the page works without it.
  navigator.serviceWorker?.register('sw.js').catch(() => {});
  await takeTicket();
  document.body.dataset.ready = '1';
  route();
}

// A ticket link, whether it opened the page or was pasted into an open one.
async function takeTicket() {
  const m = location.hash.match(/^#ticket=(.+)$/);
  if (!m) return;
  // Forget the ticket's URL at once: it is single-use and must not be re-sent on reload.
  history.replaceState(null, '', `${location.pathname}#/`);
  let ticket;
  try { ticket = decodeURIComponent(m[1]); } catch {
    showError('This pairing link is damaged (a broken %-escape): copy the whole link again, or run `vibemesh pair` for a new one.');
    return;
  }
  askToPair(ticket);
}

// A link never pairs by itself: the page names the machine and asks, with the name this
// browser will pair under (a link from someone else would otherwise add their machine
// to this list, to be typed into as if it were one's own).
/** @param {string} ticket */
function askToPair(ticket) {
  let t;
  try { t = parseTicket(ticket); } catch (e) { showError(`This ticket cannot be used: ${e.message}`); return; }
  const form = /** @type {HTMLFormElement} */ ($('#pairform'));
  const known = agentById(t.id);
  $('#pairwhat').textContent = known
    ? `This link pairs again with ${inert(known.name)}, already in your list`
    : `This link pairs this browser with a machine running the agent`;
  $('#pairid').textContent = t.id;
  let via = 'this relay';
  try { if (t.relay) via = new URL(t.relay).host; } catch { via = inert(t.relay); }
  $('#pairrelay').textContent = `through ${via}`;
  const name = /** @type {HTMLInputElement} */ ($('#pairname'));
  name.value = deviceName();
  form.hidden = false;
  name.focus();
  form.onsubmit = (ev) => {
    ev.preventDefault();
    form.hidden = true;
    if (name.value.trim()) localStorage.setItem(NAME, name.value.trim());
    const home = /** @type {HTMLInputElement | null} */ ($('#devname'));
    if (home) home.value = deviceName();
    // Not awaited: the page shows itself meanwhile (with Cancel), and the list gains
    // the machine when it answers.
    pairWith(ticket);
  };
  $('#pairno').onclick = () => { form.hidden = true; status('not paired'); };
}

main();
