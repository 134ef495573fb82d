// The terminal view (#/t/<agent>/<id>): xterm.js, the extra-keys bar, and one wasm Term
// that stays attached by itself. Reconnecting is core's `client::reattach` running in
// wasm (its backoff, its rules for what is final, its numbered keys): this module only
// shows what it reports. `#termview[data-state]` says where it stands (`attaching`,
// `attached`, `reconnecting`, `exited`, `closed`) and `data-attaches` counts attaches.
import { $, inert, status, showError, refusal } from './ui.js';

/** @typedef {import('./pkg/vibemesh_web.js').Term} Term */
/** @typedef {import('./pkg/vibemesh_web.js').TermEvent} TermEvent */
/** @typedef {import('./pkg/vibemesh_web.js').PairedAgent} PairedAgent */
/** @typedef {import('./app.js').Entry} Entry */

// One xterm per opened session, disposed when the view is left: an instance reused
// across sessions (hidden with display:none in between) could come back after a full
// scrollback with a NaN viewport and draw nothing ever again.
/** @type {{ xterm: any, fit: any } | null} the terminal shown now */
let shown = null;
/** @type {Term | null} the wasm Term shown now */
let attached = null;
let gen = 0; // bumped when the view is left: an open still connecting stops
let ctrl = false;
// The size of the last terminal shown: what a new session starts with.
let lastSize = { cols: 80, rows: 24 };
// Set while the page applies a size another device chose, so it is not sent back.
let fromAgent = false;

function newXterm() {
  const xterm = new Terminal({ scrollback: 5000, cursorBlink: true, fontSize: 14, allowProposedApi: true });
  const fit = new FitAddon.FitAddon();
  xterm.loadAddon(fit);
  xterm.loadAddon(new WebLinksAddon.WebLinksAddon());
  xterm.open($('#term'));
  xterm.onData(send);
  xterm.onResize(({ cols, rows }) => {
    lastSize = { cols, rows };
    if (!fromAgent) draw(attached?.resize(cols, rows));
  });
  return { xterm, fit };
}

// The size a new session should start with: the terminal's, fitted to the window.
export function termSize() {
  if (shown) shown.fit.fit();
  return { ...lastSize };
}

function send(data) {
  if (!attached) return;
  if (ctrl && data.length === 1) {
    const c = data.toUpperCase().charCodeAt(0);
    if (c >= 64 && c < 96) data = String.fromCharCode(c - 64);
    setCtrl(false);
  }
  // What comes back is the keys drawn ahead of their echo (on a slow link).
  draw(attached.input(new TextEncoder().encode(data)));
  echoStatus();
}

/** @param {Uint8Array | undefined} bytes what the wasm Term says to write now */
function draw(bytes) {
  if (shown && bytes?.length) shown.xterm.write(bytes);
}

// The status line's path, and the echo's round trip once timed.
let pathShown = '';
function echoStatus() {
  if (!attached || $('#termview').dataset.state !== 'attached') return;
  const ms = attached.echoMs();
  const echo = ms ? ` · echo ${Math.round(ms)} ms${attached.predicting() ? ' · keys drawn ahead' : ''}` : '';
  status(`attached · ${pathShown}${echo}`);
}

// Drawing keys ahead of their echo: auto (over a 30 ms round trip), always or never,
// remembered by this browser.
const PREDICT_KEY = 'vibemesh.predict';
const predictSelect = /** @type {HTMLSelectElement} */ ($('#predict'));
predictSelect.value = localStorage.getItem(PREDICT_KEY) || 'auto';
predictSelect.addEventListener('change', () => {
  localStorage.setItem(PREDICT_KEY, predictSelect.value);
  if (attached) draw(attached.setPredict(predictSelect.value));
  echoStatus();
  shown?.xterm.focus();
});
function setCtrl(on) { ctrl = on; $('#ctrl').setAttribute('aria-pressed', String(on)); }

// The window's size wins again when it changes (the last device to resize sets it).
new ResizeObserver(() => { if (shown && !$('#termview').hidden) shown.fit.fit(); }).observe($('#term'));

const KEYS = { esc: '\x1b', tab: '\t', up: '\x1b[A', down: '\x1b[B', right: '\x1b[C', left: '\x1b[D' };
for (const b of /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('#keys button'))) {
  // Keep the focus (and the soft keyboard) in the terminal.
  b.addEventListener('pointerdown', (ev) => ev.preventDefault());
  b.addEventListener('click', () => {
    const k = b.dataset.key;
    if (k === 'ctrl') setCtrl(!ctrl);
    else if (k !== 'kbd') send(KEYS[k]);
    shown?.xterm.focus();
  });
}

function state(name, text, cls = '') {
  $('#termview').dataset.state = name;
  const s = $('#termstate');
  s.textContent = text;
  s.className = cls;
  s.hidden = !text;
}

// Opens session `sid` on agent `a`, over the page's connection to it when there is one.
/**
 * @param {PairedAgent} a @param {string} sid
 * @param {{
 *   getPeer: (a: PairedAgent) => Promise<Entry>,
 *   node: () => import('./pkg/vibemesh_web.js').Node,
 *   refused: (id: string, code: string, message: string) => void,
 * }} app
 */
export async function openTerminal(a, sid, { getPeer, node, refused }) {
  const g = ++gen;
  $('#view').hidden = true;
  $('#termview').hidden = false;
  disposeXterm();
  shown = newXterm();
  const { xterm } = shown;
  shown.fit.fit();
  xterm.focus();
  back(a, false);
  state('attaching', 'connecting…');
  $('#termview').dataset.attaches = '0';
  let attaches = 0;
  let path = 'relay';
  /** @type {Term | null} */
  let t = null;
  let lost = ''; // the reconnecting line
  let notSent = 0; // bytes refused since the last attach
  let unconfirmed = 0; // bytes whose fate is unknown since the last attach
  const notes = () => [
    ...(notSent ? [`${notSent} bytes typed while offline were not sent`] : []),
    ...(unconfirmed ? [`${unconfirmed} bytes typed just before the drop may not have arrived (not sent again)`] : []),
  ];
  /** @param {TermEvent} ev */
  const onEvent = (ev) => {
    if (t !== attached) return; // a view left since
    switch (ev.kind) {
      case 'attached': {
        $('#crumb').textContent = `${inert(a.name)} › ${ev.title}`;
        $('#termview').dataset.attaches = String(++attaches);
        const told = notes(); // what was lost stays said until the next drop
        notSent = 0;
        unconfirmed = 0;
        state('attached', [...(ev.reconnected ? ['reconnected'] : []), ...told].join(' · '), told.length ? 'bad' : '');
        showError('');
        pathShown = path;
        echoStatus();
        break;
      }
      case 'snapshot': xterm.reset(); xterm.write(ev.data); break;
      case 'output': xterm.write(ev.data); break;
      case 'notice': status(ev.message); break;
      case 'reconnecting':
        lost = `connection lost · reconnecting… (try ${ev.attempt}, next in ${(ev.delayMs / 1000).toFixed(1)} s: ${ev.error})`;
        state('reconnecting', [lost, ...notes()].join(' · '), 'bad');
        status('reconnecting…');
        break;
      case 'notSent':
      case 'unconfirmed': {
        if (ev.kind === 'notSent') notSent += ev.bytes; else unconfirmed += ev.bytes;
        // Kept with the reconnecting line, so the next try does not hide it.
        const v = $('#termview').dataset.state;
        state(v, [...(v === 'reconnecting' ? [lost] : []), ...notes()].join(' · '), 'bad');
        break;
      }
      case 'resized':
        // Another device resized the session: draw it at its size (scrolling sideways
        // when it is wider than this window) rather than rewrapping its lines.
        fromAgent = true;
        try { xterm.resize(ev.cols, ev.rows); } finally { fromAgent = false; }
        break;
      case 'exited':
        xterm.write(`\r\n\x1b[2m[${ev.message}]\x1b[0m\r\n`);
        state('exited', `exited: ${ev.message}`);
        status('exited');
        back(a, true);
        break;
      case 'closed': {
        const why = refusal(ev.code, a.name) || `closed: ${ev.message}`;
        if (refusal(ev.code, a.name)) refused(a.id, ev.code, ev.message);
        state('closed', why, 'bad');
        status('');
        showError(why);
        back(a, true);
        break;
      }
      default: // detached, end
    }
  };
  const { cols, rows } = termSize();
  const e = await getPeer(a).catch(() => null);
  if (g !== gen) return; // left while connecting
  if (e) path = e.peer.path();
  t = e ? e.peer.attach(sid, cols, rows, 5000, onEvent) : node().attach(a.id, a.relay || '', sid, cols, rows, 5000, onEvent);
  attached = t;
  draw(t.setPredict(predictSelect.value));
}

// The link back to the machine's sessions, shown once the session is over.
/** @param {PairedAgent} a @param {boolean} on */
function back(a, on) {
  const b = $('#termback');
  b.href = `#/m/${a.id}`;
  b.textContent = `Back to ${inert(a.name)}`;
  b.hidden = !on;
}

function disposeXterm() {
  if (shown) { shown.xterm.dispose(); shown = null; }
}

export function leaveTerminal() {
  gen++;
  if (attached) { attached.detach(); attached = null; }
  disposeXterm();
  $('#termback').hidden = true;
  state('', '');
  $('#termview').dataset.attaches = '0';
  $('#termview').hidden = true;
  $('#view').hidden = false;
  status('');
}
