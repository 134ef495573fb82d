// Small helpers every view of the browser client uses.

// Any element of the page (the page's own markup: it is there).
/** @type {(s: string) => any} */
export const $ = (s) => document.querySelector(s);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Everything an agent or a model says is text, never markup.
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// A name or title on one line, control characters and bidi overrides shown as escapes
// (core's `text::inert`, in the wasm module): it cannot reorder or break its line.
export { inert } from './pkg/vibemesh_web.js';

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
