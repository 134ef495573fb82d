#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, then every test in the
# workspace (unit tests, the CLI tests and the cross-crate tests that start real agents,
# relays and headless Chromium against the web client, which is built first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
# cargo-deny against deny.toml: licences, duplicate major versions and sources, always;
# RustSec advisories when their database (cloned from GitHub) can be fetched or a local
# copy under 90 days old exists, else one line says they were SKIPPED. A violation fails
# the run; an unreachable GitHub alone never does (scripts/deny.sh).
echo "== cargo deny" >&2
bash scripts/deny.sh
echo "== web client (wasm, dev profile)" >&2
bash web/build.sh
echo "== cargo test" >&2
cargo test --workspace --locked
echo "== packages: the .debs of this build, unpacked into an empty root and run from there" >&2
bash scripts/install-test.sh
echo "== containers: the agent and relay images, built from those .debs and run" >&2
bash scripts/container-test.sh
echo "== fuzz: every decoder a peer reaches, ${FUZZ_SECONDS:-10} s each" >&2
cargo fmt --manifest-path fuzz/Cargo.toml --check
bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
