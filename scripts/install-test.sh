#!/usr/bin/env bash
# The install test: packages what the test build made (scripts/package.sh --profile dev),
# unpacks every .deb into an empty root with `dpkg -x` (no root rights, nothing touches
# the machine), and runs tests/tests/install.rs and the desktop's Xvfb smoke test against the
# installed files. The release
# packages differ only in the optimisation of the same binaries; building them here
# would add a second full build to the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="$(mktemp -d)"
root="$(mktemp -d)"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dist" "$root"' EXIT
bash scripts/package.sh --profile dev --no-build --out "$dist" >/dev/null
for deb in "$dist"/*.deb; do
  # Installing runs nothing of ours as root: no maintainer scripts (SECURITY.md).
  scripts="$(dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -vx -e './' -e './control' -e './md5sums' || true)"
  [ -z "$scripts" ] || { echo "install test: $deb has maintainer scripts: $scripts" >&2; exit 1; }
  dpkg-deb -x "$deb" "$root"
done
# The tarballs are the .debs' files; the desktop one carries the holder its agent needs.
tar -tzf "$dist"/vibemesh-desktop-*-linux.tar.gz >"$dist/desktop.list"
for f in bin/vibemesh bin/vibemesh-holder bin/vibemesh-desktop share/applications/vibemesh.desktop; do
  grep -qx "vibemesh-desktop-[^/]*/$f" "$dist/desktop.list" ||
    { echo "install test: the desktop tarball lacks $f" >&2; exit 1; }
done
VIBEMESH_INSTALL_ROOT="$root" VIBEMESH_BIN="$root/usr/bin/vibemesh" \
  cargo test --workspace --locked --test install -- --ignored
# The installed desktop app draws its window and its embedded agent comes up.
VIBEMESH_DESKTOP_BIN="$root/usr/bin/vibemesh-desktop" \
  cargo test --workspace --locked --test xvfb_smoke
