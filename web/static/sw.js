// @ts-nocheck: a worker's globals (self.clients, FetchEvent) are in TypeScript's
// webworker lib, which cannot be loaded with the page's dom lib; the browser test
// (relay_browser_defects, `install`) checks it runs.
// The VibeMesh service worker: what makes the page installable (with its manifest), and
// where Web Push will arrive. It keeps the page usable when the relay that served it is
// briefly unreachable: content-hashed files under a/ (they never change) are answered
// from its cache once fetched; the page itself always comes from the network while it
// is reachable (so a new version shows at once), from the cache when not.
// `web/bundle.mjs` names the cache after the bundle, so a new build starts a new one.
const CACHE = 'vibemesh-dev';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (ev) => ev.waitUntil((async () => {
  for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
  await self.clients.claim();
})()));

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/a/')) ev.respondWith(cacheFirst(ev.request));
  else if (ev.request.mode === 'navigate') ev.respondWith(networkFirst(ev.request));
});

async function cacheFirst(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (hit) return hit;
  const resp = await fetch(req);
  if (resp.ok) await cache.put(req, resp.clone());
  return resp;
}

async function networkFirst(req) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fetch(req);
    if (resp.ok) await cache.put('/', resp.clone());
    return resp;
  } catch (e) {
    const hit = await cache.match('/');
    if (hit) return hit;
    throw e;
  }
}
