// A step of web/build.sh --release, between two wasm-opt runs: chooses the order of the
// module's functions so that gzip compresses it better; what the functions do is not
// touched. gzip finds repeats only within the last 32 KiB, and a Rust module holds many
// near-identical bodies (the same generic code for different types, async state
// machines) that the compiler scatters: placed next to each other, they shrink the
// gzip'd module by about 5 % (brotli, with its larger window, gains about 2 %).
//
// Greedily, each next function is, of the 32 not yet placed that look most alike the one
// just placed (MinHash of their 4-byte runs) and the next by name, the one that deflates
// smallest after the last 32 KiB placed. The order is handed to wasm-opt as names: each
// function is renamed to its rank in the function-name section (which the first run kept
// with -g), and the second run does `--reorder-functions-by-name --strip-debug`.
// Deterministic for a given input (and zlib).
//   node web/wasm-order.mjs IN.wasm OUT.wasm
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';

const CANDIDATES = 32;
const HASHES = 64;
const GRAM = 4;
const WINDOW = 32768;

const [input, output] = process.argv.slice(2);
const wasm = readFileSync(input);

const leb = (b, i) => {
  let r = 0, s = 0, x;
  do { x = b[i++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
  return [r, i];
};
const uleb = (n) => {
  const o = [];
  do { let x = n & 0x7f; n = Math.floor(n / 128); if (n) x |= 0x80; o.push(x); } while (n);
  return o;
};
const utf8 = new TextDecoder();

const sections = [];
for (let i = 8; i < wasm.length;) {
  const id = wasm[i];
  const [size, body] = leb(wasm, i + 1);
  let name = null;
  if (id === 0) { const [n, k] = leb(wasm, body); name = utf8.decode(wasm.subarray(k, k + n)); }
  sections.push({ id, name, start: i, body, end: body + size });
  i = body + size;
}
const section = (id, name = null) => sections.find((s) => s.id === id && s.name === name);

// Function indices count the imported functions first.
let imported = 0;
const imports = section(2);
if (imports) {
  let [n, i] = leb(wasm, imports.body);
  for (let k = 0; k < n; k++) {
    let len;
    [len, i] = leb(wasm, i); i += len; // module
    [len, i] = leb(wasm, i); i += len; // field
    const kind = wasm[i++];
    if (kind === 0) { [, i] = leb(wasm, i); imported++; } // function: type index
    else if (kind === 1) { i++; const flags = wasm[i++]; [, i] = leb(wasm, i); if (flags & 1) [, i] = leb(wasm, i); } // table
    else if (kind === 2) { const flags = wasm[i++]; [, i] = leb(wasm, i); if (flags & 1) [, i] = leb(wasm, i); } // memory
    else if (kind === 3) { i += 2; } // global: value type, mutability
    else if (kind === 4) { i++; [, i] = leb(wasm, i); } // tag
    else throw new Error(`unknown import kind ${kind}`);
  }
}

const bodies = [];
{
  const code = section(10);
  let [n, i] = leb(wasm, code.body);
  for (let k = 0; k < n; k++) { let size; [size, i] = leb(wasm, i); bodies.push(wasm.subarray(i, i + size)); i += size; }
}
const N = bodies.length;

const names = new Map();
const nameSection = section(0, 'name');
if (!nameSection) throw new Error(`${input} has no name section (wasm-opt -g keeps it)`);
{
  let [n, i] = leb(wasm, nameSection.body);
  i += n;
  while (i < nameSection.end) {
    const sub = wasm[i];
    let size;
    [size, i] = leb(wasm, i + 1);
    const end = i + size;
    if (sub === 1) {
      let count, idx, len;
      [count, i] = leb(wasm, i);
      for (let k = 0; k < count; k++) {
        [idx, i] = leb(wasm, i); [len, i] = leb(wasm, i);
        names.set(idx, utf8.decode(wasm.subarray(i, i + len))); i += len;
      }
    }
    i = end;
  }
}

// The fallback order: by crate (the first one named that is not core, alloc or std),
// then by name.
const byName = [...Array(N).keys()];
{
  const key = byName.map((k) => {
    const name = (names.get(imported + k) ?? '').replace(/::h[0-9a-f]{16}$/, '');
    const crate = [...name.matchAll(/\b([a-z_][a-z0-9_]*)::/g)].map((m) => m[1])
      .find((c) => !['core', 'alloc', 'std'].includes(c)) ?? '~';
    return `${crate} ${name.replace(/^[<&*]+/, '')}`;
  });
  byName.sort((a, b) => (key[a] < key[b] ? -1 : key[a] > key[b] ? 1 : a - b));
}

// MinHash signatures of each body's GRAM-byte runs.
const sig = new Uint32Array(N * HASHES).fill(0xffffffff);
const seeds = Array.from({ length: HASHES }, (_, h) => Math.imul(h + 1, 0x9e3779b1) >>> 0);
for (let k = 0; k < N; k++) {
  const d = bodies[k];
  for (let i = 0; i + GRAM <= d.length; i++) {
    let x = 0x811c9dc5;
    for (let j = 0; j < GRAM; j++) x = Math.imul(x ^ d[i + j], 16777619);
    for (let h = 0; h < HASHES; h++) {
      let y = Math.imul(x ^ seeds[h], 0x85ebca6b);
      y ^= y >>> 13; y = Math.imul(y, 0xc2b2ae35); y ^= y >>> 16; y >>>= 0;
      if (y < sig[k * HASHES + h]) sig[k * HASHES + h] = y;
    }
  }
}

const deflated = (d, dictionary) =>
  deflateRawSync(d, dictionary ? { level: 9, dictionary } : { level: 9 }).length;
const alone = bodies.map((d) => deflated(d));
const placed = new Uint8Array(N);
const order = [byName[0]];
placed[byName[0]] = 1;
let window = Buffer.from(bodies[byName[0]]);
let nextByName = 0;
const alike = new Int32Array(N);
while (order.length < N) {
  while (placed[byName[nextByName]]) nextByName++;
  const last = order[order.length - 1];
  const candidates = [];
  for (let k = 0; k < N; k++) {
    if (placed[k]) continue;
    let s = 0;
    for (let h = 0; h < HASHES; h++) if (sig[k * HASHES + h] === sig[last * HASHES + h]) s++;
    alike[k] = s;
    if (s > 0) candidates.push(k);
  }
  candidates.sort((a, b) => alike[b] - alike[a] || a - b);
  candidates.length = Math.min(candidates.length, CANDIDATES);
  if (!candidates.includes(byName[nextByName])) candidates.push(byName[nextByName]);
  let best = -1, saved = -Infinity;
  for (const k of candidates) {
    const s = alone[k] - deflated(bodies[k], window);
    if (s > saved) { saved = s; best = k; }
  }
  placed[best] = 1;
  order.push(best);
  window = Buffer.concat([window, bodies[best]]);
  if (window.length > WINDOW) window = window.subarray(window.length - WINDOW);
}

// A function-name section naming each function by its rank; the other name subsections
// (locals, types, ...) go: nothing after this step reads them.
const enc = new TextEncoder();
const entries = order.map((k, rank) => [imported + k, String(rank).padStart(7, '0')])
  .sort((a, b) => a[0] - b[0]);
const sub = [...uleb(entries.length)];
for (const [idx, name] of entries) sub.push(...uleb(idx), ...uleb(name.length), ...enc.encode(name));
const body = [...uleb(4), ...enc.encode('name'), 1, ...uleb(sub.length), ...sub];
const renamed = Buffer.concat([
  wasm.subarray(0, nameSection.start),
  Uint8Array.from([0, ...uleb(body.length), ...body]),
  wasm.subarray(nameSection.end),
]);
writeFileSync(output, renamed);
