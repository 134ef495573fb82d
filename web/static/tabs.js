// The sessions this page opened, as tabs above the terminal or conversation shown: one
// tap switches between them (each is its own route, so back and forward work too), and
// × closes a tab (the session keeps running). Kept for the browser tab's life
// (sessionStorage), so a reload keeps them.
import { $, esc, inert } from './ui.js';

/** @typedef {import('./pkg/vibemesh_web.js').PairedAgent} PairedAgent */
/** @typedef {import('./pkg/vibemesh_web.js').SessionRow} SessionRow */
/** One tab: the route it opens (`t/<agent>/<id>` or `c/<agent>/<id>`), what it shows
 * (`title` as the session list gives it, already inert; `machine` as stored, not).
 * @typedef {{ route: string, agent: string, sid: string, title: string, machine: string, ended: boolean }} Tab */

const KEY = 'vibemesh.tabs';
const MAX = 12; // the oldest tab goes when a 13th opens

/** @returns {Tab[]} */
function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || []; } catch { return []; }
}
/** @type {Tab[]} */
let tabs = load();
const save = () => sessionStorage.setItem(KEY, JSON.stringify(tabs));

// Session `sid` of machine `a` is shown (as `kind`: `t` or `c`): its tab exists and is
// the current one.
/** @param {PairedAgent} a @param {string} kind @param {string} sid */
export function showTab(a, kind, sid) {
  const route = `${kind}/${a.id}/${sid}`;
  if (!tabs.some((t) => t.route === route)) {
    tabs.push({ route, agent: a.id, sid, title: sid, machine: a.name, ended: false });
    tabs = tabs.slice(-MAX);
  }
  save();
  draw(route);
}

// Machine `agent`'s sessions are now `sessions`: tabs take their titles, and say which
// ended or are gone.
/** @param {string} agent @param {SessionRow[]} sessions */
export function retitle(agent, sessions) {
  if (!sessions.length && !tabs.some((t) => t.agent === agent)) return;
  for (const t of tabs) {
    if (t.agent !== agent) continue;
    const s = sessions.find((x) => x.id === t.sid);
    if (s) { t.title = s.title; t.ended = !s.running; }
  }
  save();
  draw(current);
}

/** @type {string | null} */
let current = null;

// Draws the strip, `route` marked current; none when no session is shown.
/** @param {string | null} route */
function draw(route) {
  current = route;
  const nav = $('#tabs');
  nav.hidden = !route;
  if (!route) return;
  const many = new Set(tabs.map((t) => t.agent)).size > 1;
  nav.innerHTML = tabs.map((t) => `<span class="tab${t.route === route ? ' current' : ''}${t.ended ? ' ended' : ''}">
    <a href="#/${t.route}"${t.route === route ? ' aria-current="page"' : ''}>${esc(t.title)}${
      many ? ` <span class="dim">${esc(inert(t.machine))}</span>` : ''}</a><button class="close" data-route="${esc(t.route)}" aria-label="close tab">×</button></span>`).join('');
  for (const b of /** @type {HTMLButtonElement[]} */ ([...nav.querySelectorAll('button.close')])) {
    b.onclick = () => close(b.dataset.route || '');
  }
  nav.querySelector('.current')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
}

// Closes a tab; closing the current one shows its neighbour, or its machine when none.
/** @param {string} route */
function close(route) {
  const i = tabs.findIndex((t) => t.route === route);
  if (i < 0) return;
  const [gone] = tabs.splice(i, 1);
  save();
  if (route !== current) { draw(current); return; }
  const next = tabs[Math.min(i, tabs.length - 1)];
  location.hash = next ? `#/${next.route}` : `#/m/${gone.agent}`;
}

// No session is shown: no strip.
export function hideTabs() { draw(null); }
