//! The bindings, proven from foreign languages: UniFFI generates Swift (checked to be
//! produced; Swift cannot run here) and Python from the built library, and a Python
//! script drives a real `vibemesh agent` on 127.0.0.1 through them, as the phone app
//! would.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use vibemesh_tests::{TestAgent, vibemesh_bin};

/// `target/<profile>`, from this test executable's place (`target/<profile>/deps/<exe>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The cdylib the bindings are generated from: the one the test build made next to this
/// test in `deps/` (the copy at the top of the target dir is refreshed only by a build of
/// the library itself, so it may be older). Built here when missing (another layout).
fn cdylib() -> PathBuf {
    let name = format!(
        "{}vibemesh_ios{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let fresh = target_dir().join("deps").join(&name);
    if fresh.exists() {
        return fresh;
    }
    let lib = target_dir().join(&name);
    if !lib.exists() {
        cargo(&["build", "-p", "vibemesh-ios", "--lib"]);
    }
    assert!(lib.exists(), "{} was not built", lib.display());
    lib
}

/// The agent binary; `cargo test --workspace` builds it, `cargo test -p vibemesh-ios`
/// may not, so it is built here when missing.
fn agent_bin() -> PathBuf {
    if std::env::var_os("VIBEMESH_BIN").is_none() && !target_dir().join("vibemesh").exists() {
        cargo(&["build", "-p", "vibemesh-agent", "--bin", "vibemesh"]);
    }
    vibemesh_bin()
}

fn cargo(args: &[&str]) {
    let profile_dir = target_dir();
    let target = profile_dir.parent().expect("target root");
    let status = Command::new(env!("CARGO"))
        .args(args)
        .arg("--target-dir")
        .arg(target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo");
    assert!(status.success(), "cargo {args:?} failed");
}

/// Runs this crate's own `uniffi-bindgen` in library mode.
fn generate(language: &str, out: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_uniffi-bindgen"))
        .args(["generate", "--library"])
        .arg(cdylib())
        .args(["--language", language, "--out-dir"])
        .arg(out)
        .output()
        .expect("run uniffi-bindgen");
    assert!(
        output.status.success(),
        "uniffi-bindgen --language {language} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn swift_bindings_are_generated() {
    let out = tempfile::tempdir().expect("tempdir");
    generate("swift", out.path());
    let swift = std::fs::read_to_string(out.path().join("vibemesh_ios.swift")).expect("swift");
    let header = std::fs::read_to_string(out.path().join("vibemesh_iosFFI.h")).expect("header");
    let modulemap =
        std::fs::read_to_string(out.path().join("vibemesh_iosFFI.modulemap")).expect("modulemap");
    for needle in [
        "class Mesh",
        "static func `open`(folder: String, deviceName: String, relay: String, bind: String?)",
        "func pair(ticket: String) async throws",
        "class SessionHandle",
        "protocol ScreenListener",
        "protocol SessionsListener",
        "enum MeshError",
        "case TicketExpired(",
        "struct Session",
    ] {
        assert!(swift.contains(needle), "the Swift bindings lack {needle:?}");
    }
    assert!(
        header.contains("uniffi_vibemesh_ios_fn_"),
        "header has no functions"
    );
    assert!(modulemap.contains("vibemesh_iosFFI"), "{modulemap}");
}

#[test]
fn python_drives_a_real_agent() {
    let bin = agent_bin();
    let bindings = tempfile::tempdir().expect("tempdir");
    generate("python", bindings.path());
    let lib = cdylib();
    std::fs::copy(&lib, bindings.path().join(lib.file_name().expect("name"))).expect("copy lib");

    let agent = TestAgent::start("build-box");
    let ticket = agent.ticket(&[]);
    let expired = agent.expired_ticket();
    let work = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/phone.py");
    let out = Command::new("python3")
        .arg(&script)
        .env("VM_BINDINGS", bindings.path())
        .env("VM_TICKET", &ticket)
        .env("VM_EXPIRED_TICKET", &expired)
        .env("VM_WORK", work.path())
        .env("VIBEMESH_BIN", &bin)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python3 (install Debian's python3)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "phone.py failed ({}):\n{stdout}\n--- stderr ---\n{stderr}\n--- agent log ---\n{}",
        out.status,
        agent.log()
    );
    println!("{stdout}");
}
