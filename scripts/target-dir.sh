# Sourced by the scripts that need cargo's target folder (CARGO_TARGET_DIR, a
# `build.target-dir` in a cargo config, or ./target), as cargo itself resolves it.
# Defines `target_dir`, which prints it.
target_dir() {
  cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
