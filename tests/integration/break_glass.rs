//! Break-glass: an emergency session that reduces checks to warnings, and records all of it.

use crate::util::*;
use std::process::{Command, Stdio};

fn records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("record is JSON"))
        .collect()
}

#[test]
fn a_break_glass_session_is_recorded_and_waives_checks_with_the_reason() {
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let log = h.dir.path().join("audit.jsonl");
    let policies = empty_policy_dir();
    let base = |cmd: &mut Command| {
        cmd.args(["--policy-dir", policies.path().to_str().unwrap()])
            .args([
                "--host-file",
                h.file.to_str().unwrap(),
                "--audit-file",
                log.to_str().unwrap(),
            ])
            .stdin(Stdio::null())
            .env_remove("PRODGUARD_BREAK_GLASS")
            .env("HOME", h.dir.path());
    };
    // Without a reason (and no terminal to ask on) there is no break-glass.
    let mut c = Command::new(bin());
    base(&mut c);
    let out = c.arg("--break-glass").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // With one: the session starts (bash reads end of input and leaves), the banner says so.
    let mut c = Command::new(bin());
    base(&mut c);
    let out = c
        .args(["--break-glass", "--reason", "INC-42 restore from backup"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("BREAK-GLASS SESSION"),
        "{}",
        stdout(&out)
    );
    let recs = records(&log);
    assert_eq!(recs[0]["outcome"], "break-glass", "{recs:?}");
    assert_eq!(recs[0]["reason"], "INC-42 restore from backup");

    // Inside it, what would have asked runs with a warning, and is recorded as waived.
    let mut c = Command::new(bin());
    base(&mut c);
    let out = c
        .env("PRODGUARD_BREAK_GLASS", "INC-42 restore from backup")
        .args(["check", "rm -rf /var/lib/postgresql/15/main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("BREAK-GLASS: confirm (fs.rm-data-dir"),
        "{}",
        stderr(&out)
    );
    let last = records(&log).pop().unwrap();
    assert_eq!(last["outcome"], "break-glass");
    assert_eq!(last["action"], "confirm");
    assert_eq!(last["reason"], "INC-42 restore from backup");
    let verify = run(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn break_glass_is_refused_when_it_cannot_be_recorded() {
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let missing = h.dir.path().join("no/such/dir/audit.jsonl");
    let out = run(&[
        "--host-file",
        h.file.to_str().unwrap(),
        "--audit-file",
        missing.to_str().unwrap(),
        "--break-glass",
        "--reason",
        "INC-43 database down",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be recorded"),
        "{}",
        stderr(&out)
    );
}
