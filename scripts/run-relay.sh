#!/usr/bin/env bash
# Builds the relay and the browser client (release, wasm-opt when installed) and runs the
# relay in the foreground, serving the client. Extra arguments go to vibemesh-relay, e.g.
#   bash scripts/run-relay.sh --listen 0.0.0.0:443 --quic 0.0.0.0:7842 --cert c.pem --key k.pem
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash web/build.sh --release
cargo build --release --locked -p vibemesh-relay
exec "${CARGO_TARGET_DIR:-target}/release/vibemesh-relay" --web-dir web/dist "$@"
