// Draws one item of a conversation (an `ItemView` from the wasm side: core's
// `client::Item` in a shape meant for drawing, told apart by `kind`) as an element.
// Everything the model, a tool or the agent says goes through `esc`: it is text, never
// markup. What a tool call says (its summary, its edit as a diff) comes worked out from
// the wasm side (core's `client::view`): nothing here reads a provider's tool arguments.
import { esc } from './ui.js';
import { answerChoices } from './pkg/vibemesh_web.js';

/** @typedef {import('./pkg/vibemesh_web.js').ItemView} ItemView */
/** @typedef {import('./pkg/vibemesh_web.js').DiffLine} DiffLine */
/** @typedef {import('./pkg/vibemesh_web.js').LineKind} LineKind */

const SHOWN_OUTPUT = 20000; // characters of a tool's output drawn; the rest is cut

// Assistant text: ``` fenced blocks as <pre> (an unclosed one, while streaming, runs
// to the end), `inline code` and **bold**; the rest is text with its line breaks.
export function markdown(text) {
  const prose = (t) => esc(t.replace(/^\n|\n$/g, ''))
    .replace(/`([^`\n]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>');
  let html = '';
  let last = 0;
  for (const m of text.matchAll(/```[^\n]*\n?([\s\S]*?)(?:\n?```|$)/g)) {
    html += prose(text.slice(last, m.index));
    html += `<pre><code>${esc(m[1])}</code></pre>`;
    last = m.index + m[0].length;
  }
  return html + prose(text.slice(last));
}

/** A diff line's class by its kind. @type {Record<LineKind, string>} */
const LINE_CLASS = { File: 'hdr', Hunk: 'hdr', Removed: 'del', Added: 'add', Context: '' };

// A tool call's input in full: its edit as a diff when it is a file edit (worked out
// on the wasm side, which knows the providers' tool arguments), else its JSON.
/** @param {{ diff?: DiffLine[] | null, input: string }} v */
function inputDetail(v) {
  if (!v.diff) return `<pre>${esc(v.input)}</pre>`;
  return `<pre class="diff">${v.diff.map((l) => `<span class="${LINE_CLASS[l.kind]}">${esc(l.text)}</span>`).join('\n')}</pre>`;
}

function output(text) {
  if (!text) return '<div class="dim">(no output)</div>';
  const cut = text.length > SHOWN_OUTPUT ? `\n… (${text.length - SHOWN_OUTPUT} more characters)` : '';
  return `<pre class="out">${esc(text.slice(0, SHOWN_OUTPUT) + cut)}</pre>`;
}

/** A button's class by the answer it sends. @type {Record<import('./pkg/vibemesh_web.js').Decision, string>} */
const ANSWER_CLASS = { Allow: 'primary', AllowAlways: '', Deny: 'danger' };

/** @param {Extract<ItemView, { kind: 'Approval' }>} v @param {boolean} viewer */
function approval(v, viewer) {
  const why = v.description ? ` <span class="dim">${esc(v.description)}</span>` : '';
  let foot;
  if (v.decision) foot = `<div class="decision ${v.decision === 'Deny' ? 'deny' : 'allow'}">${esc(v.answer ?? v.decision)}</div>`;
  else if (viewer) foot = '<div class="dim">waiting for an owner to answer</div>';
  else {
    // The answers, their labels and hints are core's (`client::view::CHOICES`).
    foot = `<div class="actions">${answerChoices().choices.map(({ decision, label, hint }) => `
      <button${ANSWER_CLASS[decision] ? ` class="${ANSWER_CLASS[decision]}"` : ''} data-approval="${esc(v.id)}" data-decision="${decision}" title="${esc(hint)}">${esc(label)}</button>`).join('')}</div>`;
  }
  return `<div class="head">Approve <b>${esc(v.tool)}</b>?${why}</div>${inputDetail(v)}${foot}`;
}

/** @param {Extract<ItemView, { kind: 'TurnEnd' }>} v */
function turnEnd(v) {
  const err = v.error ? ` <span class="bad">${esc(v.error)}</span>` : '';
  return `turn ended · ${esc(v.usage)}${err}`;
}

// The element for `item`; `viewer` hides the approval buttons.
/** @param {ItemView} item @param {boolean} viewer @returns {HTMLElement} */
export function drawItem(item, viewer) {
  const el = document.createElement('div');
  el.dataset.kind = item.kind;
  switch (item.kind) {
    case 'User':
      el.className = 'msg user';
      el.textContent = item.text;
      break;
    case 'Queued': // sent by the agent as the next turn when this one ends
      el.className = 'msg user queued';
      el.textContent = item.text;
      el.title = 'queued: sent when this turn ends';
      break;
    case 'Assistant':
      el.className = `msg assistant${item.streaming ? ' streaming' : ''}`;
      el.innerHTML = markdown(item.text) + (item.streaming ? '<span class="caret" aria-hidden="true">▍</span>' : '');
      break;
    case 'Tool': {
      const d = document.createElement('details');
      const r = item.result;
      const state = !r ? 'running' : r.failed ? 'err' : 'done';
      d.className = `tool ${state}`;
      d.innerHTML = `<summary><b>${esc(item.name)}</b> <span class="arg">${esc(item.summary)}</span>${
        state === 'running' ? ' <span class="dim">running…</span>' : ''}</summary>
        ${inputDetail(item)}${r ? output(r.output) : ''}`;
      d.dataset.kind = item.kind;
      return d;
    }
    case 'Approval':
      el.className = `approval${item.decision ? ' settled' : ''}`;
      el.innerHTML = approval(item, viewer);
      break;
    case 'TurnEnd':
      el.className = `turnend${item.error ? ' failed' : ''}`;
      el.innerHTML = turnEnd(item);
      break;
    case 'Error':
      el.className = 'line error';
      el.textContent = item.text;
      break;
    case 'Notice':
      el.className = 'line notice';
      el.textContent = item.text;
      break;
    case 'Unknown': // never hidden
      el.className = 'unknown';
      el.innerHTML = `<div class="dim">unrecognised output from ${esc(item.provider)}</div>
        <pre>${esc(item.raw)}</pre>`;
      break;
    default: { // a kind this page does not know yet (`never` while it knows them all)
      /** @type {any} */
      const other = item;
      el.className = 'unknown';
      el.innerHTML = `<div class="dim">unrecognised output</div><pre>${esc(JSON.stringify(other))}</pre>`;
    }
  }
  return el;
}
