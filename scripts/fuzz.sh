#!/usr/bin/env bash
# Fuzzes every decoder a peer can reach (fuzz/fuzz_targets): builds the targets with
# libFuzzer's coverage instrumentation on the stable toolchain (the flags cargo-fuzz
# uses, minus the sanitizer, which needs nightly and buys little for safe Rust), then
# runs each one for a bounded time. A crash stops the script with libFuzzer's report and
# the input in fuzz/artifacts/<target>/; turn it into a regression test in core.
#
#   scripts/fuzz.sh                 # every target for 10 s (what scripts/test.sh runs)
#   scripts/fuzz.sh 60 attach       # one target for a minute
#   RUNS=10000000 scripts/fuzz.sh   # a fixed number of inputs per target instead
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(stream_open control attach pair local files conversation holder ticket)
fi
host=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/fuzz/target}
# --target keeps the instrumentation off build scripts and proc macros. Not --locked:
# fuzz/Cargo.lock is its own, and a dependency added to vibemesh-core must not break
# this step; cargo keeps the versions the lock has and only adds what is missing.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing" \
    cargo build --release --manifest-path fuzz/Cargo.toml --target "$host" --bins
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    limit=(-max_total_time="$secs")
    if [ -n "${RUNS:-}" ]; then limit=(-runs="$RUNS"); fi
    echo "fuzz: $t ${limit[*]}"
    "$CARGO_TARGET_DIR/$host/release/$t" "${limit[@]}" -max_len=65536 -rss_limit_mb=1024 \
        -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 "fuzz/corpus/$t" 2>&1 |
        grep -E '^(stat::number_of_executed_units|==|SUMMARY|Done)|panicked|Crash|ERROR' || true
    if ls "fuzz/artifacts/$t/"* >/dev/null 2>&1; then
        echo "fuzz: $t found a crash: fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
