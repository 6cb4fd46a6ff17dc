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

/// The grant itself (the service, the session, another user, expiry) is tested with a real
/// service in tests/break_glass_grant.rs; here, what needs none.
#[test]
fn break_glass_needs_a_reason() {
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let out = Command::new(bin())
        .args(["--host-file", h.file.to_str().unwrap()])
        .arg("--break-glass")
        .stdin(Stdio::null())
        .env_remove("PRODGUARD_BREAK_GLASS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn break_glass_is_refused_when_it_cannot_be_recorded() {
    // No audit service on the socket named: no grant, no session.
    let dir = tempfile::tempdir().unwrap();
    let h = host(&format!(
        "{PRODUCTION_DB1_NO_SYSLOG}socket = \"{}/none.sock\"\n",
        dir.path().display()
    ));
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

/// The texts of the warn path and of break-glass, pinned by golden files through the real binary:
/// a warning as `check` shows it (the command may run), the break-glass banner, and the
/// waiver line of a command it lets through. Temp paths are masked.
#[test]
fn warn_path_and_break_glass_texts_are_pinned() {
    let replica = host(
        "hostname = \"db2.example.com\"\nenvironment = \"production\"\nrole = \"db-replica\"\n[audit]\nsyslog = \"none\"\n",
    );
    // The break-glass grants are held by a real audit service.
    let run_dir = tempfile::tempdir().unwrap();
    let socket = run_dir.path().join("audit.sock");
    let h = host(&format!(
        "{PRODUCTION_DB1_NO_SYSLOG}socket = \"{}\"\n",
        socket.display()
    ));
    let _service =
        crate::daemon::Daemon::start(&bin(), &h.file, &socket, &run_dir.path().join("state"));
    let policies = empty_policy_dir();
    let guard = |h: &Host, args: &[&str], env: Option<&str>| {
        let log = h.dir.path().join("audit.jsonl");
        let mut c = Command::new(bin());
        c.args(["--policy-dir", policies.path().to_str().expect("utf-8")])
            .args(["--host-file", h.file.to_str().expect("utf-8")])
            .args(["--audit-file", log.to_str().expect("utf-8")])
            .args(args)
            .stdin(Stdio::null())
            .env("NO_COLOR", "1")
            .env("HOME", h.dir.path())
            .env_remove("PRODGUARD_BREAK_GLASS");
        if let Some(reason) = env {
            c.env("PRODGUARD_BREAK_GLASS", reason);
        }
        let out = c.output().expect("run prodguard");
        let mask = |s: String| {
            s.replace(&h.dir.path().display().to_string(), "<dir>")
                .replace(&policies.path().display().to_string(), "<policies>")
        };
        (
            out.status.code(),
            mask(stdout(&out)),
            mask(stderr(&out)),
            records(&log).pop(),
        )
    };

    // A warning: said, recorded, and the command allowed.
    let index = "psql -c 'CREATE INDEX orders_user_idx ON orders (user_id)'";
    let (code, _, check, rec) = guard(&replica, &["check", index], None);
    assert_eq!(code, Some(0), "{check}");
    let rec = rec.expect("a record");
    assert_eq!(rec["outcome"], "warned", "{rec}");
    golden("warn_path.txt", &format!("== check {index}\n{check}"));

    // Break-glass: the banner, then the waiver line of what would have asked.
    let reason = "INC-42 restore from backup";
    let (code, shown, started, _) = guard(&h, &["--break-glass", "--reason", reason], None);
    assert_eq!(code, Some(0), "{started}");
    // The banner, up to the session's own shell (whose prompt is not prodguard's text); the
    // policy digest changes with every pack edit.
    let end = shown
        .find("(reason: ")
        .and_then(|at| shown[at..].find(')').map(|n| at + n))
        .and_then(|at| shown[at..].find('\n').map(|n| at + n + 1));
    let banner = &shown[..end.unwrap_or_else(|| panic!("no reason line in the banner:\n{shown}"))];
    let banner = regex::Regex::new(r"sha256:[0-9a-f]{16}")
        .expect("regex")
        .replace_all(banner, "sha256:<digest>");
    // The expiry, masked to the same width so that the wrapping is what it would be.
    let banner = regex::Regex::new(r"\d{4}-\d\d-\d\d(\s+)\d\d:\d\d UTC")
        .expect("regex")
        .replace_all(&banner, "YYYY-MM-DD${1}HH:MM UTC");
    assert!(
        banner.contains("HH:MM UTC"),
        "no expiry in the banner:\n{banner}"
    );
    let rm = "rm -rf /var/lib/postgresql/15/main";
    // A command of the session: a grant held by this test process, which started it.
    let id = crate::daemon::hold_break_glass(&socket, reason);
    let (code, _, waiver, rec) = guard(&h, &["check", rm], Some(id.as_str()));
    assert_eq!(code, Some(0), "{waiver}");
    assert_eq!(rec.expect("a record")["outcome"], "break-glass");
    golden(
        "break_glass.txt",
        &format!(
            "== --break-glass --reason '{reason}'\n{banner}== check {rm} in the session\n{waiver}"
        ),
    );
}
