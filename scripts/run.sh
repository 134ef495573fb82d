#!/usr/bin/env bash
# Builds VibeMesh and runs the agent in the foreground. The desktop app comes with a later
# release; until then the agent is the product, headless or not. Pair from another
# machine with `vibemesh pair` here and `vibemesh join <ticket>` there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p vibemesh-agent
exec ./target/release/vibemesh agent "$@"
