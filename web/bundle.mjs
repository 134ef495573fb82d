// The last step of web/build.sh: lays web/dist out for caching and compresses it.
//   - Everything but the page itself (and, when present, its manifest and service
//     worker, whose addresses must stay put) moves under a/<hash>/, the hash of its
//     content: such names never change, so the relay lets browsers keep them for a year.
//     The wasm module (the bulk) gets its own name, a/<its hash>.wasm, so a change to
//     the page's JS alone does not make browsers fetch it again.
//   - index.html then names those paths; the relay revalidates it by ETag on each load.
//   - Each file of a compressible type gets a brotli (.br) and a gzip (.gz) twin; the
//     relay sends the smallest the browser accepts.
//   node web/bundle.mjs web/dist
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dist = process.argv[2];
const STAY = new Set(['index.html', 'manifest.webmanifest', 'sw.js', 'icon.svg']);
const WASM = 'pkg/vibemesh_web_bg.wasm';
const hash = (...bufs) => {
  const h = createHash('sha256');
  for (const b of bufs) h.update(b);
  return h.digest('hex').slice(0, 16);
};
const walk = (d) => readdirSync(d).flatMap((n) => {
  const p = join(d, n);
  return statSync(p).isDirectory() ? walk(p) : [relative(dist, p)];
});

const files = walk(dist).sort();
const wasm = readFileSync(join(dist, WASM));
const wasmName = `${hash(wasm)}.wasm`;
// app.js finds the module next to itself; from a/<hash>/ it is one level up.
const app = readFileSync(join(dist, 'app.js'), 'utf8');
const wasmRef = "'./pkg/vibemesh_web_bg.wasm'";
if (!app.includes(wasmRef)) throw new Error(`app.js does not load ${wasmRef}`);
writeFileSync(join(dist, 'app.js'), app.replace(wasmRef, `'../${wasmName}'`));

const bundled = files.filter((f) => !STAY.has(f) && f !== WASM);
const tag = hash(...bundled.flatMap((f) => [f, readFileSync(join(dist, f))]));
for (const f of bundled) {
  const to = join(dist, 'a', tag, f);
  mkdirSync(dirname(to), { recursive: true });
  renameSync(join(dist, f), to);
}
renameSync(join(dist, WASM), join(dist, 'a', wasmName));
rmSync(join(dist, 'pkg'), { recursive: true, force: true });
rmSync(join(dist, 'vendor'), { recursive: true, force: true });

// The page names the bundle's paths (relative ones only: not data: or #).
const index = readFileSync(join(dist, 'index.html'), 'utf8')
  .replace(/(href|src)="(?![a-z]+:|#|\/)([^"]+)"/g, (m, attr, path) =>
    (STAY.has(path) ? m : `${attr}="a/${tag}/${path}"`));
writeFileSync(join(dist, 'index.html'), index);
// The service worker's cache is named after the bundle: a new build starts afresh.
try {
  const sw = readFileSync(join(dist, 'sw.js'), 'utf8');
  writeFileSync(join(dist, 'sw.js'), sw.replace("'vibemesh-dev'", `'vibemesh-${tag}'`));
} catch (e) { if (e.code !== 'ENOENT') throw e; }

const COMPRESS = /\.(html|js|css|wasm|json|webmanifest|svg)$/;
let sizes = '';
for (const f of walk(dist).filter((f) => COMPRESS.test(f))) {
  const body = readFileSync(join(dist, f));
  const br = brotliCompressSync(body, { params: {
    [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
  const gz = gzipSync(body, { level: 9 });
  writeFileSync(join(dist, `${f}.br`), br);
  writeFileSync(join(dist, `${f}.gz`), gz);
  if (f.endsWith('.wasm')) sizes = `wasm ${body.length} B, gzip ${gz.length} B, brotli ${br.length} B`;
}
console.error(`bundled web/dist under a/${tag}/ (${sizes})`);
