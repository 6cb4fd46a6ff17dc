//! What the end-to-end tests share: the binary, host descriptions, golden files, a run without a
//! terminal, and a run on a pseudo-terminal that is the child's controlling terminal.
#![allow(dead_code)]

pub use crate::golden_file::golden;
pub use crate::pty::{Options, Pty, Stdin};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prodguard"))
}

/// `db1`, the PostgreSQL primary of the GitLab incident, recording to no syslog.
pub const DB1: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
[audit]
syslog = "none"
"#;

/// `db2`, the replica.
pub const DB2: &str = r#"hostname = "db2.example.com"
environment = "production"
role = "db-replica"
fleet = [{ name = "db1.example.com", role = "db-primary" }]
[audit]
syslog = "none"
"#;

/// A site pack that makes a harmless command ask: `exit` (as in `sh -c '…; exit 5'`) needs the
/// host name typed. Lets the tests run what they confirm without deleting anything.
pub const ASKING_PACK: &str = r#"[pack]
name = "e2e"
description = "Makes `exit` ask for the host name, so that tests can confirm a harmless command"

[[rule]]
id = "site.e2e-exit"
severity = "high"
action = "confirm"
confirm = "hostname"
match = { program = ["exit"] }
message = "Test rule: exit on {host} ({role})."
why = "Lets the end-to-end tests confirm a command that harms nothing."
"#;

/// A temporary world for one test: host.toml, a policy directory (empty, or with the packs
/// given) and an audit log, all under one temp dir.
pub struct World {
    pub dir: tempfile::TempDir,
    pub host_file: PathBuf,
    pub policy_dir: PathBuf,
    pub audit_file: PathBuf,
    /// `XDG_RUNTIME_DIR` of the runs: where `prodguard intent` keeps the declaration.
    pub runtime_dir: PathBuf,
}

impl World {
    pub fn new(host_toml: &str) -> World {
        World::with_packs(host_toml, &[])
    }

    pub fn with_packs(host_toml: &str, packs: &[&str]) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let host_file = dir.path().join("host.toml");
        std::fs::write(&host_file, host_toml).expect("write host.toml");
        let policy_dir = dir.path().join("policies.d");
        std::fs::create_dir(&policy_dir).expect("policy dir");
        for (i, pack) in packs.iter().enumerate() {
            std::fs::write(policy_dir.join(format!("{i:02}-e2e.toml")), pack).expect("pack");
        }
        let audit_file = dir.path().join("audit.jsonl");
        let runtime_dir = dir.path().join("run");
        std::fs::create_dir(&runtime_dir).expect("runtime dir");
        World {
            dir,
            host_file,
            policy_dir,
            audit_file,
            runtime_dir,
        }
    }

    /// The options every run takes, so nothing of the machine's own /etc/prodguard is used.
    pub fn global_args(&self) -> Vec<String> {
        vec![
            "--host-file".into(),
            self.host_file.display().to_string(),
            "--policy-dir".into(),
            self.policy_dir.display().to_string(),
            "--audit-file".into(),
            self.audit_file.display().to_string(),
        ]
    }

    /// `prodguard GLOBAL ARGS…` as a command, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(self.global_args()).args(args);
        // Every run of one world is one login session with its own runtime dir, so an intent
        // declared by one test is seen by that test's later runs and by no other test.
        cmd.env_remove("NO_COLOR")
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("PRODGUARD_SESSION", "e2e");
        cmd
    }

    /// Run with no terminal at all: a new session (so /dev/tty cannot be opened), stdin
    /// `/dev/null`.
    pub fn run_detached(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        detach(&mut cmd);
        cmd.output().expect("run prodguard")
    }

    /// The audit records written so far.
    pub fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit_file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit record is JSON"))
            .collect()
    }
}

/// Start `cmd` in a new session with no controlling terminal.
pub fn detach(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `cmd` on a fresh 24×80 terminal holding `stdin` (when it is [`Stdin::Tty`]), as a person's
/// would be; stdout and stderr are pipes.
pub fn spawn(cmd: Command, stdin: Stdin) -> Pty {
    Pty::with(cmd, Options::piped(stdin))
}

/// `cmd` on a fresh terminal of `rows`×`cols` (0×0: what `ssh -tt` makes for a script).
pub fn spawn_sized(cmd: Command, stdin: Stdin, rows: u16, cols: u16) -> Pty {
    Pty::with(cmd, Options::piped(stdin).size(rows, cols))
}
