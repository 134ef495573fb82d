#!/usr/bin/env bash
# Builds the browser client into web/dist: the wasm module and its JS glue (wasm-bindgen
# at the exact version of the crate, via vibemesh-web-bindgen), the page, and xterm.js;
# then checks the page's JS against the TypeScript declarations generated from the Rust
# types (tsc, web/tsconfig.json), so a renamed field fails here, not in the browser;
# last, lays it out for caching and compresses it (web/bundle.mjs).
#   bash web/build.sh            # dev profile (fast to build; what the tests serve)
#   bash web/build.sh --release  # shipped: size-optimised, then wasm-opt (binaryen from npm)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=dev
dir=debug
if [ "${1:-}" = "--release" ]; then
  profile=web-release
  dir=web-release
fi
target="${CARGO_TARGET_DIR:-$PWD/target}"
out=web/dist

[ -d web/node_modules/@xterm/xterm ] && [ -d web/node_modules/typescript ] ||
  (cd web && npm ci --no-audit --no-fund)

cargo build --locked -p vibemesh-web --target wasm32-unknown-unknown --profile "$profile"
rm -rf "$out.tmp"
mkdir -p "$out.tmp/pkg" "$out.tmp/vendor"
cargo run --locked -q -p vibemesh-web-bindgen -- \
  "$target/wasm32-unknown-unknown/$dir/vibemesh_web.wasm" "$out.tmp/pkg"
if [ "$profile" = web-release ]; then
  # binaryen from npm (package-lock pins it): Debian 12's wasm-opt 108 breaks
  # wasm-bindgen's externref table. The features are the ones rustc enables by default.
  wasm_opt() {
    node web/node_modules/binaryen/bin/wasm-opt --enable-bulk-memory --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types \
      --enable-multivalue "$@"
  }
  wasm="$out.tmp/pkg/vibemesh_web_bg.wasm"
  # -Oz until a round no longer shrinks it. --low-memory-unused lets `load(p + c)`, c
  # under 1 KiB, become `load offset=c (p)`: the two differ only when p + c wraps past
  # 4 GiB into the first KiB, which no valid Rust pointer does. -g keeps the function
  # names for the next step.
  wasm_opt -Oz --converge --low-memory-unused -g "$wasm" -o "$out.tmp/opt.wasm"
  # The functions in the order that gzip compresses best (web/wasm-order.mjs: about
  # 5 % off the gzip'd module), which it hands over as names; this run only reorders
  # and drops the names (the levels make the writer shrink the code as -Oz's did).
  node web/wasm-order.mjs "$out.tmp/opt.wasm" "$out.tmp/ordered.wasm"
  wasm_opt --optimize-level=2 --shrink-level=2 --reorder-functions-by-name --strip-debug \
    "$out.tmp/ordered.wasm" -o "$wasm"
  rm "$out.tmp/opt.wasm" "$out.tmp/ordered.wasm"
fi
cp web/static/* "$out.tmp/"
cp web/node_modules/@xterm/xterm/lib/xterm.js web/node_modules/@xterm/xterm/css/xterm.css \
  web/node_modules/@xterm/addon-fit/lib/addon-fit.js \
  web/node_modules/@xterm/addon-web-links/lib/addon-web-links.js "$out.tmp/vendor/"
rm -rf "$out"
mv "$out.tmp" "$out"
# Against dist/pkg's declarations; a page that does not type-check is not a build.
node web/node_modules/typescript/bin/tsc -p web/tsconfig.json || {
  rm -rf "$out"
  echo "web/static/*.js do not match the wasm side's types (above)" >&2
  exit 1
}
# Content-hashed names under dist/a/ (cached for good), the page naming them, and the
# brotli and gzip twins the relay serves (web/bundle.mjs).
node web/bundle.mjs "$out"
echo "web client built in $out ($profile)" >&2
