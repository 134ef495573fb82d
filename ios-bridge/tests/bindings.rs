//! The bindings, proven from foreign languages: UniFFI generates Swift (checked to be
//! produced; Swift cannot run here) and Python from the built library, and a Python
//! script drives a real `vibemesh agent` on 127.0.0.1 through them, as the phone app
//! would.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use vibemesh_tests::{
    TestAgent,
    ai::{UserHome, ai_env},
    vibemesh_bin,
};

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
        "class ConversationHandle",
        "protocol ConversationListener",
        "enum ConvItem",
        "func answer(approvalId: String, decision: ApprovalDecision) async throws",
        "func listFolder(machine: String, path: String) async throws",
        "func gitStatus(machine: String, path: String) async throws",
    ] {
        assert!(swift.contains(needle), "the Swift bindings lack {needle:?}");
    }
    assert!(
        header.contains("uniffi_vibemesh_ios_fn_"),
        "header has no functions"
    );
    assert!(modulemap.contains("vibemesh_iosFFI"), "{modulemap}");
}

/// Generated Python bindings and the library they load, in a temporary folder.
fn python_bindings() -> tempfile::TempDir {
    let bindings = tempfile::tempdir().expect("tempdir");
    generate("python", bindings.path());
    let lib = cdylib();
    std::fs::copy(&lib, bindings.path().join(lib.file_name().expect("name"))).expect("copy lib");
    bindings
}

/// Runs `tests/<script>` with the bindings and `env`; fails with its output and the
/// agent's log unless every check passed.
fn run_python(script: &str, bindings: &Path, env: &[(&str, &str)], agent: &TestAgent) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let out = Command::new("python3")
        .arg(&script)
        .env("VM_BINDINGS", bindings)
        .envs(env.iter().copied())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python3 (install Debian's python3)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "{} failed ({}):\n{stdout}\n--- stderr ---\n{stderr}\n--- agent log ---\n{}",
        script.display(),
        out.status,
        agent.log()
    );
    println!("{stdout}");
}

/// The line that lets the agent's files and git reach `dir` (a temporary folder, outside
/// the default root, the home folder).
fn roots(dir: &Path) -> String {
    format!("roots = [\"{}\"]", dir.display())
}

#[test]
fn python_drives_a_real_agent() {
    let bin = agent_bin();
    let bindings = python_bindings();
    let work = tempfile::tempdir().expect("tempdir");
    let agent = TestAgent::start_with("build-box", &roots(work.path()));
    let ticket = agent.ticket(&[]);
    let expired = agent.expired_ticket();
    let env = [
        ("VM_TICKET", ticket.as_str()),
        ("VM_EXPIRED_TICKET", expired.as_str()),
        ("VM_WORK", work.path().to_str().expect("utf-8 path")),
        ("VIBEMESH_BIN", bin.to_str().expect("utf-8 path")),
    ];
    run_python("phone.py", bindings.path(), &env, &agent);
}

/// A structured Claude session from the phone, with the real `claude` CLI against the
/// fake model API (like tests/tests/ai_claude.rs, it needs the CLIs `scripts/setup.sh`
/// installs and says so when they are missing).
#[test]
fn python_drives_a_structured_ai_session() {
    let bin = agent_bin();
    let bindings = python_bindings();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let fake = rt.block_on(vibemesh_tests::FakeModel::start());
    let user_home = UserHome::new();
    let env = ai_env(&fake.url(), user_home.path(), true);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let work = tempfile::Builder::new()
        .prefix("vm-work-")
        .tempdir()
        .expect("tempdir");
    let agent = TestAgent::start_env("ai", &roots(work.path()), &env);
    let ticket = agent.ticket(&[]);
    let env = [
        ("VM_TICKET", ticket.as_str()),
        ("VM_WORK", work.path().to_str().expect("utf-8 path")),
        ("VIBEMESH_BIN", bin.to_str().expect("utf-8 path")),
    ];
    run_python("phone_ai.py", bindings.path(), &env, &agent);
    drop(agent);
    drop(rt);
}
