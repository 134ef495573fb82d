#!/usr/bin/env bash
# Builds the Linux release artifacts into target/dist, for this machine's architecture or --target's:
#   vibemesh_<version>-1_<arch>.deb          agent + CLI + holder, systemd user unit,
#                                           man pages, bash/zsh/fish completions
#   vibemesh-desktop_<version>-1_<arch>.deb  the desktop app, its .desktop file and icon
#   vibemesh-relay_<version>-1_<arch>.deb    the relay, the web client, a system unit
#   vibemesh-<version>-<arch>-linux.tar.gz   vibemesh + vibemesh-holder, the same extras
#   vibemesh-desktop-<version>-<arch>-linux.tar.gz
#                                           the desktop app with the above, for ~/.local
# The .debs are cargo-deb's (metadata in each crate's Cargo.toml); the tarballs are the
# .debs' contents under usr/, so they can never differ.
#
#   bash scripts/package.sh                    release build, then package (about 20 min
#                                              cold on 2 cores)
#   bash scripts/package.sh --profile dev --no-build --out DIR
#                                              package what `cargo test` built (the
#                                              install test in scripts/test.sh)
#   bash scripts/package.sh --target aarch64-unknown-linux-gnu
#                                              cross-built for 64-bit ARM (Debian's
#                                              gcc-aarch64-linux-gnu links it)
# macOS (the CLI tarball, the .app in a .dmg, the launchd agent) is built on a Mac:
# docs/PACKAGING.md has the commands.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
build=1
out=target/dist
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    *) echo "package: unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done

deb="$PWD/.tools/cargo/bin/cargo-deb"
[ -x "$deb" ] || bash scripts/setup.sh
# shellcheck source=scripts/target-dir.sh
. scripts/target-dir.sh
target_dir="$(target_dir)"
case "$profile" in dev | debug) profile_dir=debug ;; *) profile_dir="$profile" ;; esac
host_bin_dir="$target_dir/$profile_dir"
bin_dir="$host_bin_dir"
target_args=()
arch="$(uname -m)"
if [ -n "$target" ]; then
  bin_dir="$target_dir/$target/$profile_dir"
  target_args=(--target "$target")
  arch="${target%%-*}"
  if [ "$target" = aarch64-unknown-linux-gnu ]; then
    command -v aarch64-linux-gnu-gcc >/dev/null ||
      { echo "package: install gcc-aarch64-linux-gnu to cross-build for $target" >&2; exit 1; }
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc}"
    export CC_aarch64_unknown_linux_gnu="${CC_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-gcc}"
  fi
fi
if [ "$build" = 1 ]; then
  cargo build --locked --profile "$profile" "${target_args[@]}" \
    -p vibemesh-agent -p vibemesh-desktop -p vibemesh-relay --bins
  # The man pages and completions come from running the CLI: a host build of it.
  [ -z "$target" ] || cargo build --locked --profile "$profile" -p vibemesh-agent --bin vibemesh
  [ "$profile" = release ] && web_flag=--release || web_flag=
  bash web/build.sh $web_flag
fi
for b in vibemesh vibemesh-holder vibemesh-desktop vibemesh-relay; do
  [ -x "$bin_dir/$b" ] || { echo "package: $bin_dir/$b is missing (build it, or drop --no-build)" >&2; exit 1; }
done
[ -f web/dist/index.html ] || { echo "package: web/dist is missing (bash web/build.sh)" >&2; exit 1; }

# What the packages carry besides binaries, generated from the built CLI itself into
# <target>/<profile>/pkg (cargo-deb's `target/release/pkg`).
pkg="$bin_dir/pkg"
rm -rf "$pkg"
mkdir -p "$pkg/man" "$pkg/completions"
cli="$host_bin_dir/vibemesh"
"$cli" man "$pkg/man" >/dev/null
"$cli" completions bash >"$pkg/completions/vibemesh.bash"
"$cli" completions zsh >"$pkg/completions/_vibemesh"
"$cli" completions fish >"$pkg/completions/vibemesh.fish"
# The units in contrib/ are for a build in ~/.cargo/bin and /usr/local; packages put the
# programs in /usr/bin and the web client in /usr/share/vibemesh/web.
sed 's|%h/\.cargo/bin/vibemesh|/usr/bin/vibemesh|g' contrib/systemd/vibemesh-agent.service \
  >"$pkg/vibemesh-agent.service"
sed 's|/usr/local/|/usr/|g' contrib/systemd/vibemesh-relay.service >"$pkg/vibemesh-relay.service"
rm -rf "$pkg/web" && cp -r web/dist "$pkg/web"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out"/vibemesh*_*.deb "$out"/vibemesh*_*.ddeb "$out"/vibemesh*-linux.tar.gz
# A release build keeps line tables ([profile.release] debug), for backtraces with line
# numbers: they go into -dbgsym packages (Debian's way), and the packages are stripped.
dbgsym=()
[ "$profile" != release ] || dbgsym=(--dbgsym --compress-debug-symbols=zlib)
errors="$(mktemp)"
for p in vibemesh-agent vibemesh-desktop vibemesh-relay; do
  # --no-build: built above (or by the caller); --fast: gzip-level compression, since
  # an xz pass over three binaries is minutes on 2 cores and saves little on a download.
  # It prints the package's path on stdout.
  if ! "$deb" --quiet --no-build --locked --fast --profile "$profile" "${target_args[@]}" "${dbgsym[@]}" \
    -p "$p" --output "$out/" 2>"$errors"; then
    cat "$errors" >&2
    exit 1
  fi
  # cargo-deb warns that the dev profile is not for releases (the install test's case).
  grep -v 'dev profile is not supported' "$errors" >&2 || true
done
rm -f "$errors"
agent_deb="$(ls "$out"/vibemesh_*.deb)"
desktop_deb="$(ls "$out"/vibemesh-desktop_*.deb)"

version="$(dpkg-deb -f "$agent_deb" Version)"
dpkg-deb -f "$desktop_deb" Depends | grep -q "vibemesh (= $version)" || {
  echo "package: vibemesh-desktop must depend on vibemesh (= $version): update desktop/Cargo.toml" >&2
  exit 1
}
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# tarball NAME DEB...: the packages' /usr, as NAME/{bin,lib,share}, in NAME.tar.gz.
tarball() {
  local name="$1"
  shift
  rm -rf "$stage/root"
  for d in "$@"; do dpkg-deb -x "$d" "$stage/root"; done
  mkdir -p "$stage/$name"
  mv "$stage/root/usr/"* "$stage/$name/"
  # Unpacked into ~/.local, the user unit belongs where systemd looks for it there, and
  # runs the programs from ~/.local/bin.
  local unit="$stage/$name/lib/systemd/user/vibemesh-agent.service"
  mkdir -p "$stage/$name/share/systemd/user"
  sed 's|/usr/bin/vibemesh|%h/.local/bin/vibemesh|g' "$unit" >"$stage/$name/share/systemd/user/vibemesh-agent.service"
  rm -r "$stage/$name/lib"
  tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
}
tarball "vibemesh-${version%-*}-$arch-linux" "$agent_deb"
# The desktop app for distributions without dpkg (in place of an AppImage, whose
# runtime and tools come from GitHub only): unpack into ~/.local. It carries the agent
# package's files too, since its embedded agent runs sessions in vibemesh-holder.
tarball "vibemesh-desktop-${version%-*}-$arch-linux" "$agent_deb" "$desktop_deb"
ls -l "$out"
