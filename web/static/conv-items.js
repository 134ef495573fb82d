// Draws one item of a conversation (an `ItemView` from the wasm side: core's
// `client::Item` in a shape meant for drawing, told apart by `kind`) as an element.
// Everything the model, a tool or the agent says goes through `esc`: it is text, never
// markup. A tool's input (`args`) is the provider's own JSON (Claude's and Codex's tool
// arguments, parsed on the wasm side): the field names read from it here are theirs.
import { esc } from './ui.js';

/** @typedef {import('./pkg/vibemesh_web.js').ItemView} ItemView */
/** @typedef {import('./pkg/vibemesh_web.js').Decision} Decision */

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

const oneLine = (s) => { const t = String(s).replace(/\s+/g, ' ').trim(); return t.length > 120 ? `${t.slice(0, 119)}…` : t; };

// The part of a tool's input that says what it does, on one line.
/** @param {any} v the parsed input @param {string} input as sent */
function summary(v, input) {
  if (!v || typeof v !== 'object') return oneLine(input);
  for (const k of ['command', 'cmd', 'file_path', 'path', 'pattern', 'url', 'query', 'description']) {
    if (typeof v[k] === 'string') return oneLine(v[k]);
    if (Array.isArray(v[k])) return oneLine(v[k].join(' '));
  }
  if (Array.isArray(v.changes)) return oneLine(v.changes.map((c) => c.path).join(', '));
  return oneLine(input);
}

// File edits as a diff: Claude's Edit / MultiEdit / Write, Codex's unified diffs.
function diff(v) {
  if (!v || typeof v !== 'object') return null;
  const lines = [];
  const str = (x) => (typeof x === 'string' ? x : '');
  const edit = (path, from, to) => {
    lines.push(['hdr', path]);
    if (from) for (const l of from.split('\n')) lines.push(['del', `-${l}`]);
    for (const l of to.split('\n')) lines.push(['add', `+${l}`]);
  };
  if (typeof v.file_path === 'string' && typeof v.new_string === 'string') edit(v.file_path, str(v.old_string), v.new_string);
  else if (typeof v.file_path === 'string' && Array.isArray(v.edits)) for (const e of v.edits) edit(v.file_path, str(e.old_string), str(e.new_string));
  else if (typeof v.file_path === 'string' && typeof v.content === 'string') edit(v.file_path, '', v.content);
  else if (Array.isArray(v.changes)) {
    for (const c of v.changes) {
      const kind = typeof c.kind === 'string' ? c.kind : (c.kind?.type ?? '');
      lines.push(['hdr', `${kind} ${str(c.path)}`.trim()]);
      for (const l of str(c.diff).split('\n')) {
        lines.push([l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '', l]);
      }
    }
  } else return null;
  return `<pre class="diff">${lines.map(([c, l]) => `<span class="${c}">${esc(l)}</span>`).join('\n')}</pre>`;
}

/** @param {any} v the parsed input, if it is JSON @param {string} input as sent */
function inputDetail(v, input) {
  if (v === undefined) return `<pre>${esc(input)}</pre>`;
  return diff(v) ?? `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
}

function output(text) {
  if (!text) return '<div class="dim">(no output)</div>';
  const cut = text.length > SHOWN_OUTPUT ? `\n… (${text.length - SHOWN_OUTPUT} more characters)` : '';
  return `<pre class="out">${esc(text.slice(0, SHOWN_OUTPUT) + cut)}</pre>`;
}

/** How a settled approval reads. @type {Record<Decision, string>} */
const DECIDED = { Allow: 'Allowed', AllowAlways: 'Always allowed (this tool, this session)', Deny: 'Denied' };
/** The answer buttons: decision, class, label, hint. @type {[Decision, string, string, string][]} */
const ANSWERS = [
  ['Allow', 'primary', 'Allow', ''],
  ['AllowAlways', '', 'Always', 'Allow this tool for the rest of the session'],
  ['Deny', 'danger', 'Deny', ''],
];

/** @param {Extract<ItemView, { kind: 'Approval' }>} v @param {boolean} viewer */
function approval(v, viewer) {
  const why = v.description ? ` <span class="dim">${esc(v.description)}</span>` : '';
  let foot;
  if (v.decision) foot = `<div class="decision ${v.decision === 'Deny' ? 'deny' : 'allow'}">${esc(DECIDED[v.decision] ?? v.decision)}</div>`;
  else if (viewer) foot = '<div class="dim">waiting for an owner to answer</div>';
  else {
    foot = `<div class="actions">${ANSWERS.map(([d, cls, label, hint]) => `
      <button${cls ? ` class="${cls}"` : ''} data-approval="${esc(v.id)}" data-decision="${d}"${
        hint ? ` title="${esc(hint)}"` : ''}>${label}</button>`).join('')}</div>`;
  }
  return `<div class="head">Approve <b>${esc(v.tool)}</b>?${why}</div>${inputDetail(v.args, v.input)}${foot}`;
}

/** @param {Extract<ItemView, { kind: 'TurnEnd' }>} v */
function turnEnd(v) {
  const parts = [`${v.inputTokens} in`, `${v.outputTokens} out`];
  if (v.cachedTokens) parts.push(`${v.cachedTokens} cached`);
  if (v.costUsd != null) parts.push(`$${v.costUsd.toFixed(4)}`);
  const err = v.error ? ` <span class="bad">${esc(v.error)}</span>` : '';
  return `turn ended · ${parts.join(' · ')}${err}`;
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
      d.innerHTML = `<summary><b>${esc(item.name)}</b> <span class="arg">${esc(summary(item.args, item.input))}</span>${
        state === 'running' ? ' <span class="dim">running…</span>' : ''}</summary>
        ${inputDetail(item.args, item.input)}${r ? output(r.output) : ''}`;
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
