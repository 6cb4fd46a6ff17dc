//! Preconditions through the binary: `explain` (text and JSON), a refusal that names what is
//! missing, the question on a terminal showing the evidence, and the audit record keeping it.

#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;

use pty::{Options, Pty, Stdin};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

const HOST: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
[audit]
syslog = "none"
"#;

/// Host file, site pack, backups directory and audit log in one temp dir.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(root.join("host.toml"), HOST).expect("host.toml");
        std::fs::create_dir(root.join("policies")).expect("mkdir");
        std::fs::create_dir(root.join("backups")).expect("mkdir");
        std::fs::write(
            root.join("policies/site.toml"),
            format!(
                r#"
[[rule]]
id = "db.drop-database"
severity = "critical"
action = "confirm"
confirm = "target"
match = {{ program = ["psql", "dropdb"], sql = ["drop-database"] }}
message = "Drop of database {{target}} on {{host}} ({{role}})."

[[rule.require]]
kind = "backup"
path = "{}/backups/{{target}}-*.dump"
max_age = "24h"
min_size = "1MB"

[[rule.require]]
kind = "command"
argv = ["sh", "-c", "test -s \"$1\"", "nonempty", "{{file}}"]
timeout = "5s"
"#,
                root.display()
            ),
        )
        .expect("site pack");
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn backup(&self, name: &str, size: usize, age: Duration) -> PathBuf {
        let p = self.path("backups").join(name);
        std::fs::write(&p, vec![1u8; size]).expect("backup");
        File::options()
            .write(true)
            .open(&p)
            .and_then(|f| f.set_modified(SystemTime::now() - age))
            .expect("mtime");
        p
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodguard"));
        cmd.arg("--host-file")
            .arg(self.path("host.toml"))
            .arg("--policy-dir")
            .arg(self.path("policies"))
            .arg("--audit-file")
            .arg(self.path("audit.jsonl"))
            .args(args)
            .env("NO_COLOR", "1");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run prodguard")
    }

    /// The last audit record, parsed, and its raw line.
    fn last_record(&self) -> (serde_json::Value, String) {
        let text = std::fs::read_to_string(self.path("audit.jsonl")).expect("audit log");
        let line = text.lines().last().expect("a record").to_string();
        (serde_json::from_str(&line).expect("json record"), line)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn explain_shows_each_precondition_and_its_result() {
    let s = Setup::new();
    let dump = s.backup(
        "app-2026-11-23T04:00Z.dump",
        2_100_000,
        Duration::from_secs(3 * 3600 + 9),
    );
    let out = s.run(&["explain", "psql -c 'DROP DATABASE app'"]);
    let t = text(&out.stdout);
    assert!(out.status.success(), "{t}{}", text(&out.stderr));
    for want in [
        "      preconditions:\n",
        "        met     backup: a backup matching ",
        "younger than 24 h, larger than 1 MB\n",
        &format!(
            "          newest backup: {}, 3 h old, 2.1 MB\n",
            dump.display()
        ),
        "        met     command: `sh -c 'test -s \"$1\"' nonempty '{file}'` succeeds within 5 s\n",
        &format!(
            "          sh -c 'test -s \"$1\"' nonempty OK on {}\n",
            dump.display()
        ),
        "verdict: CONFIRM (type the target: app)",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }

    let out = s.run(&["explain", "--json", "psql -c 'DROP DATABASE app'"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let pre = &v["matches"][0]["preconditions"];
    assert_eq!(pre[0]["kind"], "backup");
    assert_eq!(pre[0]["met"], true);
    assert_eq!(
        pre[0]["evidence"],
        format!("newest backup: {}, 3 h old, 2.1 MB", dump.display())
    );
    assert_eq!(pre[1]["kind"], "command");
    assert_eq!(pre[1]["met"], true);
    assert_eq!(v["action"], "confirm");
    assert!(v["matches"][0].get("raised_from").is_none());

    // Stale: NOT MET, raised, in both forms.
    std::fs::remove_file(&dump).expect("rm");
    s.backup(
        "app-2026-11-17T04:00Z.dump",
        2_100_000,
        Duration::from_secs(6 * 86_400 + 60),
    );
    let out = s.run(&["explain", "psql -c 'DROP DATABASE app'"]);
    let t = text(&out.stdout);
    assert!(t.contains("        NOT MET backup: "), "{t}");
    assert!(
        t.contains("          newest backup is 6 days old; expected < 24 h"),
        "{t}"
    );
    assert!(
        t.contains("      raised from confirm to approve: a precondition is not met"),
        "{t}"
    );
    assert!(t.contains("verdict: APPROVE"), "{t}");
    let out = s.run(&["explain", "--json", "psql -c 'DROP DATABASE app'"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["action"], "approve");
    assert_eq!(v["matches"][0]["raised_from"], "confirm");
    assert_eq!(v["matches"][0]["preconditions"][0]["met"], false);
}

#[test]
fn a_refusal_names_what_is_missing_and_the_record_keeps_it() {
    let s = Setup::new();
    let out = s.run(&["check", "--no-ask", "psql -c 'DROP DATABASE app'"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "    ✗ backup: no file matches {}/backups/app-*.dump\n",
            s.dir.path().display()
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "    ✗ command: sh -c 'test -s \"$1\"' nonempty not run: the backup file is not known"
        ),
        "{err}"
    );
    assert!(err.contains("raised from confirm to approve"), "{err}");
    assert!(
        err.contains("This needs a second person's approval"),
        "{err}"
    );

    let (rec, line) = s.last_record();
    assert_eq!(rec["action"], "approve");
    assert_eq!(rec["preconditions"][0]["rule"], "db.drop-database");
    assert_eq!(rec["preconditions"][0]["kind"], "backup");
    assert_eq!(rec["preconditions"][0]["met"], false);
    assert_eq!(rec["preconditions"][1]["kind"], "command");
    // `prev` and `hash` stay the last two members, and the chain verifies.
    let pre = line.find("\"preconditions\"").expect("member");
    let prev = line.find("\"prev\"").expect("prev");
    let hash = line.find("\"hash\"").expect("hash");
    assert!(pre < prev && prev < hash, "{line}");
    let verify = s.run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
}

#[test]
fn the_question_shows_the_evidence_and_the_record_keeps_it() {
    let s = Setup::new();
    let dump = s.backup(
        "app-2026-11-23T04:00Z.dump",
        2_100_000,
        Duration::from_secs(3 * 3600 + 9),
    );
    // The question goes to the terminal (stderr); stdin is not it, as in a shell hook.
    let mut term = Pty::with(
        s.command(&["check", "psql -c 'DROP DATABASE app'"]),
        Options {
            stdin: Stdin::Null,
            ..Options::stderr_on_tty()
        },
    );
    term.expect("target: ");
    term.send(b"app\r");
    let f = term.finish();
    let (status, shown) = (f.status, f.screen);
    // The question wraps at spaces; compare with the line breaks taken out.
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!(
            "Checked: newest backup: {}, 3 h old, 2.1 MB; sh -c 'test -s \"$1\"' nonempty OK on {}.",
            dump.display(),
            dump.display()
        )),
        "{shown}"
    );
    assert!(status.success(), "{shown}");
    let (rec, _) = s.last_record();
    assert_eq!(rec["outcome"], "confirmed");
    assert_eq!(rec["preconditions"][0]["met"], true);
    assert_eq!(
        rec["preconditions"][0]["evidence"],
        format!("newest backup: {}, 3 h old, 2.1 MB", dump.display())
    );
    assert_eq!(rec["preconditions"][1]["met"], true);
}
