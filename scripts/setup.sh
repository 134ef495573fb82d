#!/usr/bin/env bash
# Installs what building and testing VibeMesh needs on Debian/Ubuntu, and nothing that
# is already there. Safe to run again. Rust itself comes from rustup (https://rustup.rs).
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# The tests drive real shells and coreutils in PTYs.
command -v bash >/dev/null 2>&1 || need_apt+=(bash)
command -v seq >/dev/null 2>&1 || need_apt+=(coreutils)
# The phone bridge's end-to-end test drives an agent from Python bindings.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)

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
