// Draws one item of a conversation (core's `client::Item`, as JSON: `{"User": text}`,
// `{"Assistant": {text, streaming}}`, ...) as an element. Everything the model, a tool
// or the agent says goes through `esc`: it is text, never markup.
import { esc } from './ui.js';

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

const parse = (s) => { try { return JSON.parse(s); } catch { return undefined; } };
const oneLine = (s) => { const t = String(s).replace(/\s+/g, ' ').trim(); return t.length > 120 ? `${t.slice(0, 119)}…` : t; };

// The part of a tool's input that says what it does, on one line.
function summary(input) {
  const v = parse(input);
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

function inputDetail(input) {
  const v = parse(input);
  if (v === undefined) return `<pre>${esc(input)}</pre>`;
  return diff(v) ?? `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
}

function output(text) {
  if (!text) return '<div class="dim">(no output)</div>';
  const cut = text.length > SHOWN_OUTPUT ? `\n… (${text.length - SHOWN_OUTPUT} more characters)` : '';
  return `<pre class="out">${esc(text.slice(0, SHOWN_OUTPUT) + cut)}</pre>`;
}

const DECIDED = { Allow: 'Allowed', AllowAlways: 'Always allowed (this tool, this session)', Deny: 'Denied' };

function approval(v, viewer) {
  const why = v.description ? ` <span class="dim">${esc(v.description)}</span>` : '';
  let foot;
  if (v.decision) foot = `<div class="decision ${v.decision === 'Deny' ? 'deny' : 'allow'}">${esc(DECIDED[v.decision] ?? v.decision)}</div>`;
  else if (viewer) foot = '<div class="dim">waiting for an owner to answer</div>';
  else {
    foot = `<div class="actions">
      <button class="primary" data-approval="${esc(v.id)}" data-decision="Allow">Allow</button>
      <button data-approval="${esc(v.id)}" data-decision="AllowAlways" title="Allow this tool for the rest of the session">Always</button>
      <button class="danger" data-approval="${esc(v.id)}" data-decision="Deny">Deny</button></div>`;
  }
  return `<div class="head">Approve <b>${esc(v.tool)}</b>?${why}</div>${inputDetail(v.input)}${foot}`;
}

function turnEnd(v) {
  const u = v.usage || {};
  const parts = [`${u.input_tokens ?? 0} in`, `${u.output_tokens ?? 0} out`];
  if (u.cache_read_tokens) parts.push(`${u.cache_read_tokens} cached`);
  if (v.cost_usd != null) parts.push(`$${v.cost_usd.toFixed(4)}`);
  const err = v.error ? ` <span class="bad">${esc(v.error)}</span>` : '';
  return `turn ended · ${parts.join(' · ')}${err}`;
}

// The element for `item`; `viewer` hides the approval buttons.
export function drawItem(item, viewer) {
  const el = document.createElement('div');
  const [kind, v] = typeof item === 'string' ? [item, null] : Object.entries(item)[0];
  el.dataset.kind = kind;
  switch (kind) {
    case 'User':
      el.className = 'msg user';
      el.textContent = v;
      break;
    case 'Queued': // sent by the agent as the next turn when this one ends
      el.className = 'msg user queued';
      el.textContent = v;
      el.title = 'queued: sent when this turn ends';
      break;
    case 'Assistant':
      el.className = `msg assistant${v.streaming ? ' streaming' : ''}`;
      el.innerHTML = markdown(v.text) + (v.streaming ? '<span class="caret" aria-hidden="true">▍</span>' : '');
      break;
    case 'Tool': {
      const d = document.createElement('details');
      const state = !v.result ? 'running' : v.result[1] ? 'err' : 'done';
      d.className = `tool ${state}`;
      d.innerHTML = `<summary><b>${esc(v.name)}</b> <span class="arg">${esc(summary(v.input))}</span>${
        state === 'running' ? ' <span class="dim">running…</span>' : ''}</summary>
        ${inputDetail(v.input)}${v.result ? output(v.result[0]) : ''}`;
      d.dataset.kind = kind;
      return d;
    }
    case 'Approval':
      el.className = `approval${v.decision ? ' settled' : ''}`;
      el.innerHTML = approval(v, viewer);
      break;
    case 'TurnEnd':
      el.className = `turnend${v.error ? ' failed' : ''}`;
      el.innerHTML = turnEnd(v);
      break;
    case 'Error':
      el.className = 'line error';
      el.textContent = v;
      break;
    case 'Notice':
      el.className = 'line notice';
      el.textContent = v;
      break;
    default: // Unknown, and anything a newer agent sends: never hidden.
      el.className = 'unknown';
      el.innerHTML = `<div class="dim">unrecognised output${v?.provider ? ` from ${esc(String(v.provider).toLowerCase())}` : ''}</div>
        <pre>${esc(v?.raw ?? JSON.stringify(item))}</pre>`;
  }
  return el;
}
