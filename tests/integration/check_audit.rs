//! check and `--` record every decision, and refuse what needs a record when none can be written.

use crate::util::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("record is JSON"))
        .collect()
}

#[test]
fn decisions_are_recorded_and_the_chain_verifies() {
    let h = host(&format!("{PRODUCTION_DB1}[audit]\nsyslog = \"none\"\n"));
    let log = h.dir.path().join("audit.jsonl");
    let (hf, lf) = (h.file.to_str().unwrap(), log.to_str().unwrap());
    let ok = run(&["--host-file", hf, "--audit-file", lf, "check", "ls -la"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let no = run(&[
        "--host-file",
        hf,
        "--audit-file",
        lf,
        "check",
        "sudo rm -rf /var/lib/postgresql/15/main",
    ]);
    assert_eq!(no.status.code(), Some(1));
    let secret = run(&[
        "--host-file",
        hf,
        "--audit-file",
        lf,
        "check",
        "mysql -pHunter2secret -e 'SELECT 1'",
    ]);
    assert_eq!(secret.status.code(), Some(0), "{}", stderr(&secret));

    let recs = records(&log);
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert_eq!(recs[0]["outcome"], "allowed");
    assert_eq!(recs[0]["command"], "ls -la");
    assert_eq!(recs[0]["environment"], "production");
    assert_eq!(recs[1]["action"], "confirm");
    assert_eq!(recs[1]["outcome"], "denied");
    assert_eq!(recs[1]["rules"][0], "fs.rm-data-dir");
    assert!(recs[1]["time"].as_str().unwrap().ends_with('Z'));
    assert!(!std::fs::read_to_string(&log)
        .unwrap()
        .contains("Hunter2secret"));
    assert_eq!(recs[2]["redacted"], true);

    let verify = run(&["--host-file", hf, "audit", "verify", lf]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
}

#[test]
fn risky_commands_are_refused_when_nothing_can_record_them() {
    let h = host(&format!("{PRODUCTION_DB1}[audit]\nsyslog = \"none\"\n"));
    let hf = h.file.to_str().unwrap();
    let missing = h.dir.path().join("no/such/dir/audit.jsonl");
    let lf = missing.to_str().unwrap();
    // What the policy allows without asking still runs, with a warning.
    let ok = run(&["--host-file", hf, "--audit-file", lf, "check", "uptime"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(stderr(&ok).contains("audit"), "{}", stderr(&ok));
    // What needs a human is refused before anyone is asked, and says why.
    let no = run(&[
        "--host-file",
        hf,
        "--audit-file",
        lf,
        "check",
        "rm -rf /var/lib/postgresql",
    ]);
    assert_eq!(no.status.code(), Some(1));
    let err = stderr(&no);
    assert!(err.contains("audit log cannot be written"), "{err}");
    assert!(err.contains("no/such/dir"), "{err}");
}

#[test]
fn prefix_mode_runs_the_argv_exactly_and_keeps_stdin() {
    let h = host(&format!("{PRODUCTION_DB1}[audit]\nsyslog = \"none\"\n"));
    let log = h.dir.path().join("audit.jsonl");
    let policies = empty_policy_dir();
    let mut child = Command::new(bin())
        .args(["--policy-dir", policies.path().to_str().unwrap()])
        .args([
            "--host-file",
            h.file.to_str().unwrap(),
            "--audit-file",
            log.to_str().unwrap(),
        ])
        .args([
            "--",
            "sh",
            "-c",
            "cat; printf '%s|' \"$@\"; exit 7",
            "sh",
            "a b",
            "'c'",
            "$HOME",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"data\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out), "data\na b|'c'|$HOME|");
    assert_eq!(records(&log)[0]["outcome"], "allowed");

    let refused = run(&[
        "--host-file",
        h.file.to_str().unwrap(),
        "--audit-file",
        log.to_str().unwrap(),
        "--",
        "rm",
        "-rf",
        "/",
    ]);
    assert_eq!(refused.status.code(), Some(126));
    assert!(
        stderr(&refused).contains("fs.rm-root"),
        "{}",
        stderr(&refused)
    );
    let missing = run(&[
        "--host-file",
        h.file.to_str().unwrap(),
        "--audit-file",
        log.to_str().unwrap(),
        "--",
        "/nonexistent/prodguard-test",
    ]);
    assert_eq!(missing.status.code(), Some(127));
}

#[test]
fn a_multi_line_paste_is_judged_whole_and_shown_in_full() {
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let out = run(&[
        "--host-file",
        h.file.to_str().unwrap(),
        "check",
        "uptime\nrm -rf /\necho done",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("prodguard: refused: uptime\n    rm -rf /\n    echo done\n"),
        "{err}"
    );
    assert!(err.contains("fs.rm-root"), "{err}");
}
