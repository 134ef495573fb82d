#!/usr/bin/env bash
# Checks the dependency tree against deny.toml with cargo-deny (built into .tools/cargo by
# scripts/setup.sh): licences, duplicate major versions and sources always, RustSec
# advisories whenever the advisory database is at hand.
#
# Licences, duplicates and sources need no network beyond crates.io: cargo-deny reads
# Cargo.lock through `cargo metadata` and the crates' own files from cargo's cache (it
# works under --offline / CARGO_NET_OFFLINE=true once the crates are downloaded).
#
# Advisories need RustSec's database, which cargo-deny clones with git from GitHub, and
# `cargo deny check advisories` exits 1 alike for an advisory found and for a database it
# could not fetch. So the fetch runs on its own first (`cargo deny fetch db`), and:
#   - fetched: advisories are checked against it; an advisory fails the run;
#   - not fetched (no network, GitHub unreachable, CARGO_NET_OFFLINE=true), but a local
#     copy whose newest commit is under 90 days old (cargo-deny's own limit) exists:
#     checked against that copy, with a note that says how old it is;
#   - neither: one line says advisories were SKIPPED and why. The network alone never
#     fails the run, and a skip is never silent.
set -euo pipefail
cd "$(dirname "$0")/.."
deny_bin=.tools/cargo/bin/cargo-deny
[ -x "$deny_bin" ] || {
  echo "deny: $deny_bin is missing; run scripts/setup.sh" >&2
  exit 1
}
deny=("$deny_bin" --manifest-path Cargo.toml --locked)

"${deny[@]}" check bans licenses sources
# fuzz/ is its own workspace with its own lock and is never shipped: only where its crates
# come from is checked (they are built and run here). Not --locked, as in scripts/fuzz.sh.
"$deny_bin" --manifest-path fuzz/Cargo.toml --config deny.toml check sources

if [ "${CARGO_NET_OFFLINE:-}" = true ]; then
  why="CARGO_NET_OFFLINE=true"
elif out=$(GIT_TERMINAL_PROMPT=0 timeout 300 "${deny[@]}" fetch db 2>&1); then
  why=""
elif [ $? -eq 124 ]; then
  why="the fetch took over 5 minutes"
else
  # git's own reason, e.g. "fatal: unable to access '...': Could not resolve host: github.com".
  why=$(printf '%s\n' "$out" | grep -m1 '^fatal:' || printf '%s\n' "$out" | grep -m1 . || true)
  why=${why:-"cargo deny fetch db failed"}
fi
# The clone cargo-deny 0.20 keeps of the default database (the suffix hashes its URL),
# dated by its newest commit rather than by cargo-deny's own measure, the mtime of
# .git/FETCH_HEAD: every failed `git fetch` rewrites that file, so by it any old copy
# looks fresh once a fetch has failed.
db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
when=""
[ -d "$db/crates" ] && when=$(git -C "$db" log -1 --format=%ct 2>/dev/null || true)
day=$(date -d "@${when:-0}" +%F 2>/dev/null || true)

if [ -z "$why" ]; then
  "${deny[@]}" --offline check advisories
elif [ -z "$when" ]; then
  echo "deny: advisories SKIPPED: the RustSec database could not be fetched ($why)" \
    "and there is no local copy" >&2
elif [ $(($(date +%s) - when)) -ge $((90 * 86400)) ]; then
  echo "deny: advisories SKIPPED: the RustSec database could not be fetched ($why)" \
    "and the local copy is from $day, over 90 days old" >&2
else
  echo "deny: advisory database not fetched ($why);" \
    "checking against the local copy from $day" >&2
  "${deny[@]}" --offline check advisories
fi
