// The home page's machines (#/): every paired machine with its state, and its sessions
// as cards. A card shows a session's title, what it waits for, and a live preview: the
// last lines of a terminal's screen, watched (never typed into, never sized) while the
// home page is shown. Everything is updated in place as the agents' events come, so a
// preview is not restarted by every event, and what is typed on the page survives.
import { $, esc, inert } from './ui.js';
import { waitingBadge } from './conversation.js';
import { sessionHref } from './machine.js';

/** @typedef {import('./pkg/vibemesh_web.js').PairedAgent} PairedAgent */
/** @typedef {import('./pkg/vibemesh_web.js').SessionRow} SessionRow */
/** @typedef {import('./pkg/vibemesh_web.js').SessionPreview} SessionPreview */
/** @typedef {import('./app.js').Entry} Entry */
/** A machine as the home page shows it: its state in HTML, and its connection when up.
 * @typedef {{ a: PairedAgent, state: string, e: Entry | null }} Shown */

const LINES = 5; // lines of screen a card shows
const WATCHED = 12; // previews at most per machine: each is a stream its agent serves
const CALM_MS = 200; // a card redraws at most this often, however fast its session prints

/** @type {Map<string, { preview: SessionPreview, pre: HTMLElement, entry: Entry, timer: number }>}
 * `<agent>/<session>` -> its preview */
const watching = new Map();

// Brings `#machines` up to `machines`, in their order.
/** @param {Shown[]} machines */
export function updateHome(machines) {
  const ul = $('#machines');
  if (!ul) return;
  /** @type {Map<string, HTMLElement>} */
  const old = new Map();
  for (const li of /** @type {HTMLElement[]} */ ([...ul.children])) old.set(li.dataset.id || '', li);
  /** @type {ChildNode | null} */
  let next = ul.firstChild;
  for (const m of machines) {
    let li = old.get(m.a.id);
    old.delete(m.a.id);
    if (!li) {
      li = document.createElement('li');
      li.dataset.id = m.a.id;
      li.innerHTML = `<div class="row"><a class="machine grow" href="#/m/${m.a.id}"></a> <span class="state"></span></div><div class="cards"></div>`;
    }
    li.querySelector('a.machine').textContent = inert(m.a.name);
    const state = /** @type {HTMLElement} */ (li.querySelector('.state'));
    if (state.dataset.html !== m.state) { state.innerHTML = m.state; state.dataset.html = m.state; }
    updateCards(/** @type {HTMLElement} */ (li.querySelector('.cards')), m.a, m.e);
    if (li !== next) ul.insertBefore(li, next);
    next = li.nextSibling;
  }
  for (const [id, li] of old) { li.remove(); unwatch((k) => k.startsWith(`${id}/`)); }
}

// The cards of machine `a`: its sessions over connection `e` (none when it is down),
// running ones first, then newest first.
/** @param {HTMLElement} div @param {PairedAgent} a @param {Entry | null} e */
function updateCards(div, a, e) {
  const sessions = e ? [...e.sessions].sort((x, y) => Number(y.running) - Number(x.running)) : [];
  /** @type {Map<string, HTMLAnchorElement>} */
  const old = new Map();
  for (const c of /** @type {HTMLAnchorElement[]} */ ([...div.children])) old.set(c.dataset.id || '', c);
  /** @type {ChildNode | null} */
  let next = div.firstChild;
  let watched = 0;
  for (const s of sessions) {
    let card = old.get(s.id);
    old.delete(s.id);
    if (!card) {
      card = document.createElement('a');
      card.className = 'card';
      card.dataset.id = s.id;
      card.innerHTML = '<div class="head"></div><pre class="peek"></pre><div class="dim foot"></div>';
    }
    card.href = sessionHref(a, s);
    card.classList.toggle('ended', !s.running);
    card.classList.toggle('needs', !!s.waiting);
    const head = `<b>${esc(s.title)}</b>${waitingBadge(s)}`;
    const headEl = /** @type {HTMLElement} */ (card.querySelector('.head'));
    if (headEl.dataset.html !== head) { headEl.innerHTML = head; headEl.dataset.html = head; }
    card.querySelector('.foot').textContent = `${s.cwd} · ${s.status} · ${s.what}`;
    const key = `${a.id}/${s.id}`;
    const pre = /** @type {HTMLElement} */ (card.querySelector('.peek'));
    if (s.running && !s.conversation && e && watched < WATCHED) {
      watched++;
      watch(key, e, s.id, pre);
    } else {
      unwatch((k) => k === key);
      if (s.conversation) pre.textContent = s.waiting ? `waits: ${s.waiting.text}` : (s.running ? 'working…' : '');
    }
    if (card !== next) div.insertBefore(card, next);
    next = card.nextSibling;
  }
  for (const [sid, c] of old) { c.remove(); unwatch((k) => k === `${a.id}/${sid}`); }
}

// Watches session `sid` over `e` into `pre`, unless it is watched over that connection.
/** @param {string} key @param {Entry} e @param {string} sid @param {HTMLElement} pre */
function watch(key, e, sid, pre) {
  const w = watching.get(key);
  if (w && w.entry === e && !w.preview.ended()) { w.pre = pre; return; }
  if (w) unwatch((k) => k === key);
  /** @type {{ preview: SessionPreview, pre: HTMLElement, entry: Entry, timer: number }} */
  const mine = { preview: /** @type {any} */ (null), pre, entry: e, timer: 0 };
  // Drawn after a calm moment, not per output: a flooding session costs a card a few
  // redraws a second.
  const draw = () => {
    mine.timer = 0;
    if (watching.get(key) !== mine) return;
    mine.pre.textContent = mine.preview.lines(LINES).join('\n');
  };
  mine.preview = e.peer.preview(sid, () => { if (!mine.timer) mine.timer = window.setTimeout(draw, CALM_MS); });
  watching.set(key, mine);
}

// Stops the previews whose key `which` picks.
/** @param {(key: string) => boolean} which */
function unwatch(which) {
  for (const [k, w] of watching) {
    if (!which(k)) continue;
    clearTimeout(w.timer);
    w.preview.close();
    w.preview.free();
    watching.delete(k);
  }
}

// The home page is left: every preview stops.
export function leaveHome() { unwatch(() => true); }
