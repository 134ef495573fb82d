// The structured AI session view (#/c/<agent>/<id>): the conversation as core's reducer
// builds it (in wasm, `Conv.next()` hands over what changed), the composer, approval
// answers; re-attaching after a lost connection, with the last entry number so nothing
// is drawn twice, is core's reconnecting conversation in wasm. Also the "new
// conversation" form and the session-list badge.
import { $, esc, inert, sleep, status, showError, completeFolders } from './ui.js';
import { drawItem } from './conv-items.js';

/** @typedef {import('./pkg/vibemesh_web.js').Conv} Conv */
/** @typedef {import('./pkg/vibemesh_web.js').ConvUpdate} ConvUpdate */
/** @typedef {import('./pkg/vibemesh_web.js').AgentView} AgentView */
/** @typedef {import('./pkg/vibemesh_web.js').SessionRow} SessionRow */
/** @typedef {import('./pkg/vibemesh_web.js').Decision} Decision */
/** @typedef {import('./app.js').Entry} Entry */
/** @typedef {import('./pkg/vibemesh_web.js').PairedAgent} PairedAgent */

let gen = 0; // bumped when the view is left: older loops stop
/** @type {Conv | null} the wasm Conv shown now */
let conv = null;
let busy = false;
let viewer = false;
/** @type {HTMLElement[]} one element per item, by index */
let nodes = [];

// ---- in the session list -----------------------------------------------------------
/** @param {SessionRow} s */
export function waitingBadge(s) {
  const w = s.waiting;
  if (!w) return '';
  return ` <span class="badge${w.urgent ? ' urgent' : ''}">${esc(w.text)}</span>`;
}

// The form to start one, with the agent's ready providers; `''` for a viewer.
/** @param {AgentView} info */
export function conversationForm(info) {
  if (info.viewer) return '';
  const ready = info.ai.filter((p) => !p.unavailable).map((p) => p.name);
  const why = info.ai.filter((p) => p.unavailable).map((p) => `${p.name}: ${p.unavailable}`);
  if (!ready.length) return `<p class="dim">No AI conversations here${why.length ? ` (${esc(why.join(', '))})` : ''}.</p>`;
  return `<form class="new conv" id="newconv">
      <select name="provider" aria-label="provider">${ready.map((p) => `<option>${esc(p)}</option>`).join('')}</select>
      <input name="cwd" list="folders" placeholder="folder (default: home)" autocomplete="off" autocapitalize="off" spellcheck="false">
      <textarea name="prompt" rows="2" placeholder="What should it do?"></textarea>
      <button class="primary">Start conversation</button>
    </form>`;
}

/** @param {PairedAgent} a @param {Entry} e */
export function wireConversationForm(a, e) {
  const form = $('#newconv');
  if (!form) return;
  completeFolders(form.querySelector('[name=cwd]'), $('#folders'), e.peer);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      const s = await e.peer.startConversation(String(f.get('provider')), String(f.get('cwd') || ''), '',
        String(f.get('prompt') || ''));
      location.hash = `#/c/${a.id}/${s.id}`;
    } catch (err) { showError(`Could not start the conversation: ${err.message}`); }
  };
}

// ---- the view ----------------------------------------------------------------------
const box = () => $('#conv');
function line(text, cls = '') { const s = $('#convstate'); s.textContent = text; s.className = cls; }

function setBusy(b) {
  busy = b;
  $('#convview').dataset.busy = String(b);
  $('#interrupt').hidden = !b || viewer;
  // Sending stays open while a turn runs: the agent queues the message for the next one.
}

// Draws what changed; follows the end unless the reader scrolled up.
/** @param {ConvUpdate} u */
function apply(u) {
  const el = box();
  const follow = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  for (const { index: i, item } of u.changed) {
    const n = drawItem(item, viewer);
    const old = nodes[i];
    if (old) {
      // Keep an unfolded tool unfolded.
      if (old instanceof HTMLDetailsElement && n instanceof HTMLDetailsElement && old.open) n.open = true;
      old.replaceWith(n);
    } else el.append(n);
    nodes[i] = n;
  }
  for (const n of nodes.splice(u.len)) n.remove();
  setBusy(u.busy);
  const cost = u.costUsd ? ` · $${u.costUsd.toFixed(4)}` : '';
  const tokens = u.tokens;
  const queued = u.queued ? ` · ${u.queued} queued` : '';
  line(u.notices.length ? u.notices.join(' · ') : `${busy ? `working…${queued}` : 'your turn'} · ${tokens} tokens${cost}`,
    u.notices.length ? 'notice' : '');
  if (follow) el.scrollTop = el.scrollHeight;
}

// Errors no reconnect can fix (the session is gone, this browser is not allowed).
const isFinal = (err) => err.final === true;

/**
 * Opens the conversation, retrying until the first attach; from then on the wasm Conv
 * (core's reconnecting conversation) re-attaches by itself after a lost connection.
 * @param {PairedAgent} a @param {string} sid
 * @param {{ getPeer: (a: PairedAgent) => Promise<Entry>, dropPeer: (id: string) => void }} app
 */
export async function openConversation(a, sid, { getPeer, dropPeer }) {
  const g = ++gen;
  $('#crumb').textContent = `${inert(a.name)} › ${sid}`;
  $('#view').hidden = true;
  $('#convview').hidden = false;
  box().replaceChildren();
  nodes = [];
  conv = null;
  let c = null;
  let path = '';
  let delay = 250;
  while (!c) {
    try {
      const e = await getPeer(a);
      if (g !== gen) return;
      viewer = e.info.viewer;
      $('#composer').hidden = viewer;
      c = await e.peer.openConversation(sid, false);
      if (g !== gen) { c.close().catch(() => {}); return; }
      path = e.peer.path();
    } catch (err) {
      if (g !== gen) return;
      if (isFinal(err)) { showError(err.message); line(''); return; }
      line(`connection lost · reconnecting in ${(delay / 1000).toFixed(1)} s: ${err.message}`, 'bad');
      dropPeer(a.id);
      await sleep(delay);
      if (g !== gen) return;
      delay = Math.min(delay * 2, 10000);
    }
  }
  conv = c;
  showError('');
  let attaches = 0;
  /** @type {import('./pkg/vibemesh_web.js').Closed | undefined} */
  let closed;
  for (;;) {
    const u = await c.next();
    if (g !== gen) return;
    if (u === undefined) break;
    apply(u);
    if (u.attaches !== attaches) {
      attaches = u.attaches;
      $('#crumb').textContent = `${inert(a.name)} › ${c.info().title}`;
      $('#convview').dataset.attaches = String(attaches);
      if (!u.notices.length) line(attaches > 1 ? 'reconnected' : 'attached');
      status(`${viewer ? 'watching' : 'attached'} · ${path}`);
    }
    if (u.reconnecting) {
      line(`connection lost · reconnecting… (${u.reconnecting})`, 'bad');
      status('reconnecting…');
    }
    if (u.closed) closed = u.closed;
  }
  if (closed) { line(`closed: ${closed.message}`, 'bad'); setBusy(false); status(''); }
}

export function leaveConversation() {
  gen++;
  if (conv) { conv.close().catch(() => {}); conv = null; }
  $('#convview').hidden = true;
  $('#view').hidden = false;
  status('');
}

// ---- the composer ------------------------------------------------------------------
async function send(ev) {
  ev.preventDefault();
  const ta = $('#composer [name=text]');
  const text = ta.value.trim();
  if (!text || !conv) return;
  try {
    await conv.prompt(text);
    ta.value = '';
    ta.style.height = '';
  } catch (err) { line(`not sent: ${err.message}`, 'bad'); }
}

export function wireComposer() {
  const ta = $('#composer [name=text]');
  $('#composer').onsubmit = send;
  ta.addEventListener('keydown', (ev) => {
    // Enter sends, Shift+Enter is a new line (and so is Enter while composing CJK).
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $('#composer').requestSubmit(); }
  });
  ta.addEventListener('input', () => { ta.style.height = ''; ta.style.height = `${Math.min(ta.scrollHeight, innerHeight * 0.4)}px`; });
  $('#interrupt').onclick = () => { conv?.interrupt().catch((err) => line(err.message, 'bad')); };
  // Approval buttons: one listener for every card, drawn or redrawn.
  box().addEventListener('click', async (ev) => {
    const b = ev.target.closest('[data-decision]');
    if (!b || !conv) return;
    for (const x of b.parentElement.querySelectorAll('button')) x.disabled = true;
    // The buttons carry a `Decision` (conv-items.js draws them from a checked list).
    const decision = /** @type {Decision} */ (b.dataset.decision);
    try { await conv.answer(b.dataset.approval, decision); } catch (err) {
      for (const x of b.parentElement.querySelectorAll('button')) x.disabled = false;
      line(`answer not sent: ${err.message}`, 'bad');
    }
  });
}
