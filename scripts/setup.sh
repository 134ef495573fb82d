#!/usr/bin/env bash
# Installs what building and testing VibeMesh needs on Debian/Ubuntu, and nothing that
# is already there. Safe to run again. Rust itself comes from rustup (https://rustup.rs).
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
# Network namespaces for the link-drop test (it skips where it may not create them).
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# libFuzzer (the fuzz targets) is C++.
command -v c++ >/dev/null 2>&1 || need_apt+=(g++)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# The packages (scripts/package.sh): dpkg-shlibdeps finds their library dependencies.
command -v dpkg-shlibdeps >/dev/null 2>&1 || need_apt+=(dpkg-dev)
# The container images' test (scripts/container-test.sh): a Docker daemon, and debootstrap
# for a base image where no registry can be reached. An installed Docker is used as it is.
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
# `docker top` runs the host's ps.
command -v ps >/dev/null 2>&1 || need_apt+=(procps)
# The tests drive real shells and coreutils in PTYs.
command -v bash >/dev/null 2>&1 || need_apt+=(bash)
command -v seq >/dev/null 2>&1 || need_apt+=(coreutils)
# The desktop test that Ctrl+V reaches vim (its block selection).
command -v vim >/dev/null 2>&1 || need_apt+=(vim)
# The phone bridge's end-to-end test drives an agent from Python bindings.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# The desktop app: its tests render on the CPU (Mesa's lavapipe/llvmpipe through wgpu),
# the smoke test runs the real binary under Xvfb and screenshots it with ImageMagick's
# `import`. Glyphs egui's fonts lack come from the system's fallback fonts: CJK from
# WenQuanYi Micro Hei, symbols and braille (Claude Code's ⏺ ⎿ ✻, spinners) from Noto
# Sans Symbols/Symbols2 (fonts-noto-core), emoji from Noto Color Emoji; bold and italic
# from DejaVu Sans Mono (fonts-dejavu-core). The X11 libraries are the ones winit loads
# at run time.
for p in xvfb imagemagick mesa-vulkan-drivers libvulkan1 libegl1 libgl1-mesa-dri \
  fonts-wqy-microhei fonts-noto-core fonts-noto-color-emoji fonts-dejavu-core libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
# The browser client: ring's C code needs clang to target wasm32; node/npm fetch xterm.js
# and playwright-core (and binaryen's wasm-opt); the browser test drives Debian's chromium;
# the NAT test builds namespaces with iptables.
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v iptables >/dev/null 2>&1 || need_apt+=(iptables)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need_apt[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is missing; install it with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The AI provider tests drive the real `claude` and `codex` CLIs (against a fake model
# API on 127.0.0.1). Pinned versions, installed into the repository's own .tools/npm
# (gitignored), never globally; the tests find them there.
command -v npm >/dev/null 2>&1 || {
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm
}
CLAUDE_CODE_VERSION=2.1.197
CODEX_VERSION=0.169.0
tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/npm"
have_version() { # package version
  [ -f "$tools/node_modules/$1/package.json" ] &&
    grep -q "\"version\": \"$2\"" "$tools/node_modules/$1/package.json"
}
if ! have_version @anthropic-ai/claude-code "$CLAUDE_CODE_VERSION" ||
  ! have_version @openai/codex "$CODEX_VERSION"; then
  echo "setup: installing claude-code $CLAUDE_CODE_VERSION and codex $CODEX_VERSION into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --no-save --loglevel=error \
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION"
fi

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown

# cargo-deny, for scripts/deny.sh (deny.toml). Pinned, and built from crates.io into the
# repository's own .tools/cargo (gitignored): its prebuilt binaries are GitHub release
# assets, and the PyPI wheel is 0.14.2 (2023), which panics on today's `cargo metadata`.
# An unoptimised build without debug info: about 1.5 min on 2 cores, against 3.5 for its
# release profile (fat LTO, one codegen unit); the checks take seconds either way.
CARGO_DENY_VERSION=0.20.2
cargo_tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/cargo"
if ! "$cargo_tools/bin/cargo-deny" --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
  echo "setup: building cargo-deny $CARGO_DENY_VERSION into $cargo_tools" >&2
  CARGO_PROFILE_DEV_DEBUG=false cargo install --quiet --locked --debug \
    --root "$cargo_tools" --version "$CARGO_DENY_VERSION" cargo-deny
fi

# cargo-deb, for scripts/package.sh (the .deb packages, and the install test). Pinned and
# built like cargo-deny, into .tools/cargo; a debug build takes about 1.5 min on 2 cores.
CARGO_DEB_VERSION=3.8.0
if ! "$cargo_tools/bin/cargo-deb" --version 2>/dev/null | grep -qx "cargo-deb $CARGO_DEB_VERSION"; then
  echo "setup: building cargo-deb $CARGO_DEB_VERSION into $cargo_tools" >&2
  CARGO_PROFILE_DEV_DEBUG=false cargo install --quiet --locked --debug \
    --root "$cargo_tools" --version "$CARGO_DEB_VERSION" cargo-deb
fi

# xterm.js, playwright-core, binaryen and typescript (web/build.sh checks the page's JS
# with tsc), exactly as package-lock.json pins them.
web="$(dirname "$0")/../web"
if [ ! -d "$web/node_modules/@xterm/xterm" ] || [ ! -d "$web/node_modules/playwright-core" ] ||
  [ ! -d "$web/node_modules/binaryen" ] || [ ! -d "$web/node_modules/typescript" ] ||
  [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
