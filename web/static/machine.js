// One machine's page (#/m/<agent>): the forms to start a session or a conversation, and
// its sessions. The forms are drawn once per visit; the list is updated in place, row by
// row, as the agent's events come, so what is being typed (and the focus) survives every
// session event from any device.
import { $, esc, showError, completeFolders } from './ui.js';
import { conversationForm, wireConversationForm, waitingBadge } from './conversation.js';
import { termSize } from './terminal.js';

/** @typedef {import('./pkg/vibemesh_web.js').PairedAgent} PairedAgent */
/** @typedef {import('./pkg/vibemesh_web.js').SessionRow} SessionRow */
/** @typedef {import('./app.js').Entry} Entry */

// Its title and folder come inert from the wasm side.
/** @param {SessionRow} s */
function sessionLabel(s) {
  return `<span class="grow">${esc(s.title)}${waitingBadge(s)} <span class="dim">${esc(s.cwd)} · ${esc(s.status)} · ${esc(s.what)}</span></span>`;
}
// A structured AI session opens as a conversation, anything else as a terminal.
/** @type {(a: PairedAgent, s: SessionRow) => string} */
export const sessionHref = (a, s) => `#/${s.conversation ? 'c' : 't'}/${a.id}/${s.id}`;

/** @type {Entry | null} the connection the page shown uses */
let shownEntry = null;

// Whether the page shown is machine `id`'s over connection `e` (so only its list needs
// updating).
/** @param {string} id @param {Entry} e */
export const showing = (id, e) => $('#sessions')?.dataset.agent === id && shownEntry === e;

// Draws the whole page for agent `a` over its connection `e`.
/** @param {PairedAgent} a @param {Entry} e */
export function drawMachine(a, e) {
  shownEntry = e;
  $('#view').innerHTML = `
    <form class="new" id="new">
      <input name="cwd" list="folders" placeholder="folder (default: home)" autocomplete="off" autocapitalize="off" spellcheck="false">
      <datalist id="folders"></datalist>
      <select name="provider">${e.info.providers.map((p) => `<option>${esc(p)}</option>`).join('')}</select>
      <button class="primary">New session</button>
    </form>
    ${conversationForm(e.info)}
    <ul class="list" id="sessions"></ul>`;
  $('#sessions').dataset.agent = a.id;
  completeFolders($('#new [name=cwd]'), $('#folders'), e.peer);
  wireConversationForm(a, e);
  $('#new').onsubmit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const { cols, rows } = termSize();
    try {
      const s = await e.peer.createSession(String(f.get('cwd') || ''), String(f.get('provider')), cols, rows);
      location.hash = `#/t/${a.id}/${s.id}`;
    } catch (err) { showError(`Could not start the session: ${err.message}`); }
  };
  updateSessions(a, e);
}

// Brings the list up to `e.sessions` (newest first), touching only rows that changed.
/** @param {PairedAgent} a @param {Entry} e */
export function updateSessions(a, e) {
  const ul = $('#sessions');
  if (!ul) return;
  ul.querySelector('.none')?.remove();
  /** @type {Map<string, HTMLElement>} */
  const old = new Map();
  for (const li of /** @type {HTMLElement[]} */ ([...ul.children])) old.set(li.dataset.id || '', li);
  /** @type {ChildNode | null} */
  let next = ul.firstChild;
  for (const s of e.sessions) {
    let li = old.get(s.id);
    old.delete(s.id);
    if (!li) li = newRow(s.id, e);
    const label = sessionLabel(s);
    if (li.dataset.label !== label) {
      li.firstElementChild.outerHTML = label;
      li.dataset.label = label;
    }
    li.querySelector('a').href = sessionHref(a, s);
    const kill = /** @type {HTMLButtonElement} */ (li.querySelector('.kill'));
    kill.dataset.what = s.exited ? 'Remove' : 'Kill';
    if (!kill.dataset.armed) kill.textContent = kill.dataset.what;
    if (li !== next) ul.insertBefore(li, next);
    next = li.nextSibling;
  }
  for (const li of old.values()) li.remove();
  if (!e.sessions.length) ul.innerHTML = '<li class="dim none">No sessions.</li>';
}

// A row for session `id`; its Kill (or Remove) asks once more before it acts.
/** @param {string} id @param {Entry} e @returns {HTMLElement} */
function newRow(id, e) {
  const li = document.createElement('li');
  li.dataset.id = id;
  li.innerHTML = '<span class="grow"></span><a><button>Open</button></a><button class="kill"></button>';
  const kill = /** @type {HTMLButtonElement} */ (li.querySelector('.kill'));
  let timer = 0;
  const disarm = () => {
    clearTimeout(timer);
    delete kill.dataset.armed;
    kill.classList.remove('danger');
    kill.textContent = kill.dataset.what || 'Kill';
  };
  kill.onclick = async () => {
    if (!kill.dataset.armed) {
      kill.dataset.armed = '1';
      kill.classList.add('danger');
      kill.textContent = `${kill.dataset.what}? Yes`;
      timer = window.setTimeout(disarm, 4000);
      return;
    }
    disarm();
    try { await e.peer.killSession(id); } catch (err) { showError(err.message); }
  };
  return li;
}
