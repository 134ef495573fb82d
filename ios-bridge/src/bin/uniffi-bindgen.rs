//! The UniFFI binding generator, built from the same `uniffi` version as the library so
//! the bindings always match: `cargo run -p vibemesh-ios --bin uniffi-bindgen -- generate
//! --library target/debug/libvibemesh_ios.so --language swift --out-dir out`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
