//! The same command, host and policy give the same decision through every entry point.
//!
//! Each case (a plain rule, an unmet precondition, a declared intent for another host, a
//! break-glass session, a rule that needs a second person's approval) is run through `check`,
//! `prodguard -- …`, the login shell's `-c`, the bash integration's Return key, `prodguard sql`,
//! `prodguard request` and `explain --json`, and what each did is compared with the case's row.
//! All of them read one install (a copy of the binary with its paths file), as a login would.
//!
//! Without a terminal (everything but the bash hook runs under `setsid`) what needs a human is
//! refused; the hook has its terminal, and the human there gives up (Ctrl-C) at any question.

#[path = "support/daemon.rs"]
mod daemon;
#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const HOST: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
shell = "/bin/bash"
[audit]
syslog = "none"
socket = "@DIR@/service/audit.sock"
[approvers]
spool = "@DIR@/spool"
"#;

const SITE: &str = r#"
[pack]
name = "spine"
description = "Rules of the entry-point comparison test"

[[rule]]
id = "spine.drop-database"
severity = "critical"
action = "confirm"
confirm = "target"
match = { program = ["psql"], sql = ["drop-database"] }
message = "Drop of database {target}."

[[rule.require]]
kind = "backup"
path = "@DIR@/backups/{target}-*.dump"
max_age = "24h"

[[rule]]
id = "spine.drop-schema"
severity = "critical"
action = "approve"
match = { program = ["psql"], sql = ["drop-schema"] }
message = "Drop of schema {target}."
"#;

/// One row of the table.
struct Case {
    name: &'static str,
    /// The statement; on the command line it is `psql -c STATEMENT`.
    sql: &'static str,
    /// What the settled verdict asks for.
    action: &'static str,
    /// Whether the command runs.
    runs: bool,
    /// The audit outcome where no one can be asked.
    outcome: &'static str,
    /// Whether a human is asked when there is a terminal (the hook).
    asks: bool,
    /// Whether `prodguard request` files a request for it (approval, or a confirmation nobody
    /// is there to type, unless break-glass waives it).
    files: bool,
    intent: Option<&'static str>,
    break_glass: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "plain rule",
        sql: "DROP TABLE spine_plain",
        action: "confirm",
        runs: false,
        outcome: "denied",
        asks: true,
        files: true,
        intent: None,
        break_glass: None,
    },
    Case {
        name: "unmet precondition",
        sql: "DROP DATABASE spine_pre",
        action: "approve",
        runs: false,
        outcome: "denied",
        asks: true,
        files: true,
        intent: None,
        break_glass: None,
    },
    Case {
        name: "intent for another host",
        sql: "DROP TABLE spine_intent",
        action: "deny",
        runs: false,
        outcome: "denied",
        asks: false,
        files: false,
        intent: Some("db2.example.com"),
        break_glass: None,
    },
    Case {
        name: "break-glass",
        sql: "DROP TABLE spine_glass",
        action: "confirm",
        runs: true,
        outcome: "break-glass",
        asks: false,
        files: false,
        intent: None,
        break_glass: Some("INC-7 restore of the primary"),
    },
    Case {
        name: "approval rule",
        sql: "DROP SCHEMA spine_appr",
        action: "approve",
        runs: false,
        outcome: "denied",
        asks: true,
        files: true,
        intent: None,
        break_glass: None,
    },
];

/// A private install: the binary, its paths file, host, policy, audit log, runtime dir, and
/// the audit service holding the approval spool.
struct Install {
    dir: tempfile::TempDir,
    bin: PathBuf,
    session: String,
    service: daemon::Daemon,
    /// The break-glass grant this test process holds, once a case needs it.
    grant: std::cell::OnceCell<String>,
}

impl Install {
    fn new() -> Install {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let fill = |t: &str| t.replace("@DIR@", &root.display().to_string());
        for d in ["bin", "policies", "backups", "run"] {
            std::fs::create_dir(root.join(d)).expect("mkdir");
        }
        std::fs::write(root.join("host.toml"), fill(HOST)).expect("host.toml");
        std::fs::write(root.join("policies/spine.toml"), fill(SITE)).expect("site pack");
        let bin = root.join("bin/prodguard");
        std::fs::copy(env!("CARGO_BIN_EXE_prodguard"), &bin).expect("copy the binary");
        std::fs::write(
            root.join("bin/prodguard-paths.toml"),
            format!(
                "host_file = \"{0}/host.toml\"\npolicy_dir = \"{0}/policies\"\naudit_file = \"{0}/audit.jsonl\"\n",
                root.display()
            ),
        )
        .expect("paths file");
        use std::os::unix::fs::PermissionsExt;
        for (p, m) in [("run", 0o700), ("bin/prodguard-paths.toml", 0o644)] {
            std::fs::set_permissions(root.join(p), std::fs::Permissions::from_mode(m))
                .expect("chmod");
        }
        let service = daemon::Daemon::start(
            &bin,
            &root.join("host.toml"),
            &root.join("service/audit.sock"),
            &root.join("service/state"),
        );
        Install {
            session: format!("spine-{}", std::process::id()),
            service,
            grant: std::cell::OnceCell::new(),
            dir,
            bin,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The environment of every run: this install's session, nothing inherited that matters.
    fn env(&self, cmd: &mut Command, case: &Case) {
        cmd.env("PRODGUARD_SESSION", &self.session)
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("HOME", self.dir.path())
            .env("PGHOST", "/nonexistent-spine-socket")
            .env("PGCONNECT_TIMEOUT", "1")
            .env_remove("SSH_ORIGINAL_COMMAND")
            .env_remove("PRODGUARD_BREAK_GLASS")
            .current_dir(self.dir.path());
        if let Some(reason) = case.break_glass {
            // A real grant, held by this test process: every run is in its session.
            let id = self
                .grant
                .get_or_init(|| daemon::hold_break_glass(self.service.socket(), reason));
            cmd.env("PRODGUARD_BREAK_GLASS", id);
        }
    }

    /// Run the install's prodguard with `args`, without a controlling terminal, `input` on stdin.
    fn run(&self, case: &Case, args: &[&str], input: Option<&str>) -> Output {
        let mut cmd = Command::new("setsid");
        cmd.arg("--wait").arg(&self.bin).args(args);
        self.env(&mut cmd, case);
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run prodguard");
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            use std::io::Write;
            let _ = stdin.write_all(text.as_bytes());
        }
        child.wait_with_output().expect("wait for prodguard")
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("record is JSON"))
            .collect()
    }

    /// The command records about `needle` written since `from` records.
    fn decisions(&self, from: usize, needle: &str) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .skip(from)
            .filter(|r| r["event"] == "command")
            .filter(|r| r["command"].as_str().is_some_and(|c| c.contains(needle)))
            .collect()
    }

    fn requests(&self) -> usize {
        std::fs::read_dir(self.path("spool"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

fn shell_line(case: &Case) -> String {
    format!("psql -c '{}'", case.sql)
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What one entry point did with one case.
#[derive(Debug, PartialEq)]
struct Seen {
    action: String,
    runs: bool,
    outcome: String,
}

fn seen_in(install: &Install, from: usize, case: &Case, entry: &str, out: &Output) -> Seen {
    let table = case.sql.rsplit(' ').next().unwrap_or(case.sql);
    let recs = install.decisions(from, table);
    let last = recs
        .last()
        .unwrap_or_else(|| panic!("{}: {entry}: no record\n{}", case.name, text(out)));
    let outcome = last["outcome"].as_str().unwrap_or("").to_string();
    Seen {
        action: last["action"].as_str().unwrap_or("").to_string(),
        runs: !matches!(
            outcome.as_str(),
            "denied" | "aborted" | "timed-out" | "refused"
        ),
        outcome,
    }
}

fn expected(case: &Case, outcome: &str) -> Seen {
    Seen {
        action: case.action.to_string(),
        runs: case.runs,
        outcome: outcome.to_string(),
    }
}

/// Type the case's line at an interactive bash with the integration loaded; give up at any
/// question; wait until the decision is recorded.
fn through_the_hook(install: &Install, case: &Case, from: usize) -> Seen {
    let rc = install.path("rc.bash");
    let init = Command::new(&install.bin)
        .args(["init", "bash"])
        .output()
        .expect("prodguard init bash");
    let mut script = String::from("PS1='spine$ '\n");
    script.push_str(&String::from_utf8_lossy(&init.stdout));
    std::fs::write(&rc, script).expect("rc file");
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--rcfile"]).arg(&rc).arg("-i");
    install.env(&mut cmd, case);
    cmd.env("TERM", "dumb");
    let mut term = pty::Pty::spawn(cmd);
    term.expect("spine$ ");
    term.line(&shell_line(case));
    let table = case.sql.rsplit(' ').next().unwrap_or(case.sql);
    let deadline = Instant::now() + pty::WAIT;
    let mut interrupted = false;
    while install.decisions(from, table).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{}: hook: no record; screen:\n{}",
            case.name,
            term.screen()
        );
        term.settle(Duration::from_millis(300));
        let screen = term.screen();
        if !interrupted
            && (screen.contains("Type ")
                || screen.contains("type ")
                || screen.contains("waiting for approval"))
        {
            term.send(b"\x03");
            interrupted = true;
        }
    }
    // A refused line stays in the editing buffer: clear it, then leave.
    term.send(b"\x01\x0b");
    term.line("exit");
    let _ = term.wait();
    let recs = install.decisions(from, table);
    let last = recs.last().expect("a record");
    let outcome = last["outcome"].as_str().unwrap_or("").to_string();
    Seen {
        action: last["action"].as_str().unwrap_or("").to_string(),
        runs: !matches!(
            outcome.as_str(),
            "denied" | "aborted" | "timed-out" | "refused"
        ),
        outcome,
    }
}

#[test]
fn every_entry_point_decides_alike() {
    for tool in ["psql", "bash", "setsid"] {
        if which(tool).is_none() {
            support::skip(&format!("every_entry_point_decides_alike needs {tool}"));
            return;
        }
    }
    let install = Install::new();
    for case in CASES {
        let line = shell_line(case);
        if let Some(host) = case.intent {
            let out = install.run(case, &["intent", host], None);
            assert!(out.status.success(), "intent: {}", text(&out));
        }

        // explain --json: the verdict, and the break-glass session that would waive it.
        let out = install.run(case, &["explain", "--json", &line], None);
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        assert_eq!(json["action"], case.action, "{}: explain", case.name);
        assert_eq!(
            json["break_glass"]["reason"].as_str(),
            case.break_glass,
            "{}: explain",
            case.name
        );

        let mut entries: Vec<(&str, Vec<String>, Option<String>)> = vec![
            ("check", vec!["check".into(), line.clone()], None),
            (
                "--",
                vec!["--".into(), "psql".into(), "-c".into(), case.sql.into()],
                None,
            ),
            ("login -c", vec!["-c".into(), line.clone()], None),
        ];
        entries.push((
            "sql",
            vec!["sql".into(), "--".into(), "psql".into()],
            Some(format!("{};\n", case.sql)),
        ));
        for (entry, args, input) in &entries {
            let from = install.records().len();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = install.run(case, &args, input.as_deref());
            let seen = seen_in(&install, from, case, entry, &out);
            assert_eq!(
                seen,
                expected(case, case.outcome),
                "{}: {entry}\n{}",
                case.name,
                text(&out)
            );
            let refused = matches!(out.status.code(), Some(1) | Some(126));
            assert_eq!(
                refused,
                !case.runs,
                "{}: {entry}: exit status\n{}",
                case.name,
                text(&out)
            );
        }

        // The bash integration, at a terminal: a human is asked (and gives up) where one is
        // needed; the verdict and whether it ran are the same.
        let from = install.records().len();
        let seen = through_the_hook(&install, case, from);
        let hook_outcome = if case.asks { "aborted" } else { case.outcome };
        assert_eq!(
            seen,
            expected(case, hook_outcome),
            "{}: bash hook",
            case.name
        );

        // request: files a request exactly when the verdict asks for approval.
        let before = install.requests();
        let out = install.run(
            case,
            &["request", "--no-wait", "--", "psql", "-c", case.sql],
            None,
        );
        assert_eq!(
            out.status.success(),
            case.files,
            "{}: request\n{}",
            case.name,
            text(&out)
        );
        assert_eq!(
            install.requests() > before,
            case.files,
            "{}: request filed\n{}",
            case.name,
            text(&out)
        );

        if case.intent.is_some() {
            let out = install.run(case, &["intent", "--clear"], None);
            assert!(out.status.success(), "intent --clear: {}", text(&out));
        }
    }
}

/// The approver reads the same judgement as the requester: the precondition not met, and that
/// it raised the rule.
#[test]
fn the_approver_sees_why_a_precondition_raised_the_rule() {
    if which("setsid").is_none() || which("psql").is_none() {
        support::skip("the_approver_sees_why_a_precondition_raised_the_rule needs setsid, psql");
        return;
    }
    let install = Install::new();
    let case = &CASES[1];
    let out = install.run(case, &["check", &shell_line(case)], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not met"), "{}", text(&out));
    assert!(err.contains("raised"), "{}", text(&out));
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(program))
            .find(|f| Path::new(f).is_file())
    })
}
