// Small helpers every view of the browser client uses.

// Any element of the page (the page's own markup: it is there).
/** @type {(s: string) => any} */
export const $ = (s) => document.querySelector(s);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Everything an agent or a model says is text, never markup.
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// A name or title on one line, control characters and bidi overrides shown as escapes
// (core's `text::inert`, in the wasm module): it cannot reorder or break its line.
import { inert } from './pkg/vibemesh_web.js';

export { inert };

export function showError(msg) { const e = $('#error'); e.textContent = msg; e.hidden = !msg; }
export function status(msg) { $('#status').textContent = msg || ''; }

// Folder completion from the machine's own file system into `list` (a <datalist>); an
// answer for older text than what the field holds now is dropped.
/**
 * @param {HTMLInputElement} input @param {HTMLElement} list
 * @param {import('./pkg/vibemesh_web.js').Peer} peer
 */
export function completeFolders(input, list, peer) {
  input.addEventListener('input', async () => {
    const text = input.value;
    if (!text) return;
    let found;
    try { found = await peer.completeFolder(text); } catch { return; }
    if (input.value !== text) return;
    list.innerHTML = found.map((p) => `<option value="${esc(p)}">`).join('');
  });
}

// What to tell the user when an agent refuses this browser for good (`Revoked`,
// `NotPaired`: its error code), with what to do about it; `null` for any other code.
/** @param {string} code @param {string} name the agent's name, as stored */
export function refusal(code, name) {
  const what = 'To use it again, run `vibemesh pair` on that machine and open its link here.';
  if (code === 'Revoked') return `${inert(name)} revoked this browser's access. ${what}`;
  if (code === 'NotPaired') return `${inert(name)} does not know this browser (not paired, or its pairing was removed). ${what}`;
  return null;
}
