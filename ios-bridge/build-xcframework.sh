#!/usr/bin/env bash
# Builds VibeMeshFFI.xcframework and the Swift bindings for the iOS app.
#
# Needs a Mac with Xcode (xcodebuild, the iOS SDKs) and rustup; it cannot run on Linux.
# Usage: bash ios-bridge/build-xcframework.sh [--debug]
# Output: ios-bridge/build/VibeMeshFFI.xcframework (the static library plus the C
# header and module map for each platform) and ios-bridge/build/swift/vibemesh_ios.swift,
# the Swift API to add to the app target (or to a Swift package next to the framework).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
cargo_flag=--release
if [[ "${1:-}" == "--debug" ]]; then
    profile=debug
    cargo_flag=
fi

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
out=ios-bridge/build
lib=libvibemesh_ios.a

command -v xcodebuild >/dev/null || { echo "xcodebuild not found: this needs a Mac with Xcode" >&2; exit 1; }
rustup target add "${targets[@]}"

# 1. The static library for each target (the crate also builds a cdylib; only the .a is
#    used here). iroh's TLS uses ring, which the workspace already selects (tls-ring).
for t in "${targets[@]}"; do
    cargo build -p vibemesh-ios --lib --target "$t" $cargo_flag
done

# 2. The Swift bindings, from the library's own metadata, with the same uniffi version.
#    Library mode reads the definitions out of the built library, so they cannot drift.
rm -rf "$out"
mkdir -p "$out/swift" "$out/headers"
cargo run -p vibemesh-ios --bin uniffi-bindgen -- generate \
    --library "target/aarch64-apple-ios/$profile/$lib" \
    --language swift --out-dir "$out/swift"
cp "$out/swift/vibemesh_iosFFI.h" "$out/headers/"
# xcodebuild wants the module map named module.modulemap inside the headers folder.
cp "$out/swift/vibemesh_iosFFI.modulemap" "$out/headers/module.modulemap"

# 3. One fat simulator library (Apple silicon and Intel simulators share a platform).
mkdir -p "$out/ios-simulator"
lipo -create \
    "target/aarch64-apple-ios-sim/$profile/$lib" \
    "target/x86_64-apple-ios/$profile/$lib" \
    -output "$out/ios-simulator/$lib"

# 4. The XCFramework: device and simulator slices, each with the header and module map.
xcodebuild -create-xcframework \
    -library "target/aarch64-apple-ios/$profile/$lib" -headers "$out/headers" \
    -library "$out/ios-simulator/$lib" -headers "$out/headers" \
    -output "$out/VibeMeshFFI.xcframework"

echo "built $out/VibeMeshFFI.xcframework and $out/swift/vibemesh_ios.swift" >&2
