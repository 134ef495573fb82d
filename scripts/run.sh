#!/usr/bin/env bash
# Builds VibeMesh and runs the product: the desktop app where there is a display (it uses
# this machine's running agent, or starts one inside itself), else the agent headless in
# the foreground. Pair from another machine with `vibemesh pair` here and
# `vibemesh join <ticket>` there (or "Add machine" in the app).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}" ] || [ "$(uname -s)" = Darwin ]; then
  cargo build --release --locked -p vibemesh-agent -p vibemesh-desktop
  exec ./target/release/vibemesh-desktop "$@"
fi
cargo build --release --locked -p vibemesh-agent
exec ./target/release/vibemesh agent "$@"
