//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub use crate::golden_file::golden;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prodguard"))
}

/// Where test inputs live.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// An empty policy directory, so that the host's /etc/prodguard never leaks into a test.
pub fn empty_policy_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A host.toml for a production database primary, in a temp dir that lives as long as the value.
pub struct Host {
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
}

pub fn host(toml: &str) -> Host {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("host.toml");
    std::fs::write(&file, toml).expect("write host.toml");
    Host { dir, file }
}

pub const PRODUCTION_DB1: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
"#;

/// The same host, recording to syslog nowhere (tests name their own audit file).
pub const PRODUCTION_DB1_NO_SYSLOG: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
[audit]
syslog = "none"
"#;

/// Run prodguard with `args` and no stdin, with a clean policy directory unless one is given.
pub fn run(args: &[&str]) -> Output {
    let policies = empty_policy_dir();
    let mut cmd = Command::new(bin());
    if !args.contains(&"--policy-dir") {
        cmd.arg("--policy-dir").arg(policies.path());
    }
    // Never write to the machine's own audit log from a test.
    if !args.contains(&"--audit-file") {
        cmd.arg("--audit-file")
            .arg(policies.path().join("audit.jsonl"));
    }
    cmd.args(args).stdin(Stdio::null()).env_remove("NO_COLOR");
    cmd.output().expect("run prodguard")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
