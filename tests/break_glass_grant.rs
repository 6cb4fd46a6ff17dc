//! Break-glass as a grant held by the audit service, for real: `prodguard daemon` on a temporary
//! socket, `prodguard --break-glass` as the session's parent (its shell `/bin/sh` reading a
//! script from a pipe), and the guarded commands run from that shell, from outside it, and as
//! another user (a unique user made with `useradd`, run through `setpriv`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "support/daemon.rs"]
mod daemon;
mod support;
#[path = "support/users.rs"]
mod users;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");
const DATA_DIR: &str = "/var/lib/postgresql/15/main";
const REASON: &str = "INC-42 restore from backup";

/// A service on a temporary directory, killed on drop.
struct Service {
    dir: tempfile::TempDir,
    _daemon: daemon::Daemon,
}

impl Service {
    fn new(extra: &str) -> Service {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let d = dir.path();
        std::fs::create_dir(d.join("policies")).unwrap_or_else(|e| panic!("{e}"));
        let host = format!(
            "hostname = \"db1.example.com\"\nenvironment = \"production\"\nshell = \"/bin/sh\"\n{extra}\n[audit]\nsyslog = \"none\"\nsocket = \"{}\"\nfile = \"{}\"\n",
            d.join("run/audit.sock").display(),
            d.join("log/audit.jsonl").display()
        );
        std::fs::write(d.join("host.toml"), host).unwrap_or_else(|e| panic!("{e}"));
        let daemon = daemon::Daemon::start(
            Path::new(BIN),
            &d.join("host.toml"),
            &d.join("run/audit.sock"),
            &d.join("state"),
        );
        Service {
            dir,
            _daemon: daemon,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `prodguard` with this host and an empty site policy directory, no marker inherited.
    fn prodguard(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--host-file")
            .arg(self.path("host.toml"))
            .arg("--policy-dir")
            .arg(self.path("policies"))
            .env_remove("PRODGUARD_BREAK_GLASS")
            .env_remove("PRODGUARD_SESSION")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// The shell command line that judges `rm -rf` of the data directory with this host.
    fn check_line(&self) -> String {
        format!(
            "{BIN} --host-file {} --policy-dir {} check 'rm -rf {DATA_DIR}'",
            self.path("host.toml").display(),
            self.path("policies").display()
        )
    }

    /// A break-glass session whose shell runs `script`; its output.
    fn break_glass(&self, script: &str) -> Output {
        let mut child = self
            .prodguard()
            .args(["--break-glass", "--reason", REASON])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        if let Some(mut input) = child.stdin.take() {
            input
                .write_all(script.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path("log/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// The records of the `rm -rf` of the data directory, oldest first.
    fn rm_records(&self) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|r| r["command"] == format!("rm -rf {DATA_DIR}"))
            .collect()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The grant id the session's shell printed on a line `grant=ID`.
fn printed_grant(out: &Output) -> String {
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("grant="))
        .unwrap_or_else(|| panic!("no grant id printed: {}", text(&out.stdout)))
        .trim()
        .to_string()
}

#[test]
fn the_marker_alone_waives_nothing() {
    let svc = Service::new("");
    for marker in [REASON, "0123456789abcdef0123456789abcdef"] {
        let out = svc
            .prodguard()
            .env("PRODGUARD_BREAK_GLASS", marker)
            .args(["check", &format!("rm -rf {DATA_DIR}")])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = text(&out.stderr);
        assert!(!out.status.success(), "waived by a bare marker: {err}");
        assert!(!err.contains("BREAK-GLASS"), "{err}");
        assert!(
            err.contains("unverified break-glass marker was ignored"),
            "{err}"
        );
        let rec = svc
            .rm_records()
            .pop()
            .unwrap_or_else(|| panic!("no record"));
        assert_ne!(rec["outcome"], "break-glass", "{rec:#}");
        assert!(
            rec["detail"]
                .as_str()
                .is_some_and(|d| d.contains("unverified break-glass marker was ignored")),
            "{rec:#}"
        );
    }
}

#[test]
fn a_granted_session_waives_records_the_start_and_the_end_and_the_id_lapses_with_it() {
    let svc = Service::new("");
    let script = format!(
        "echo grant=$PRODGUARD_BREAK_GLASS\n{}\necho checked=$?\nexit 0\n",
        svc.check_line()
    );
    let out = svc.break_glass(&script);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{so}\n{se}");
    assert!(so.contains("BREAK-GLASS SESSION until "), "{so}");
    assert!(so.contains(" UTC"), "the expiry is said in UTC: {so}");
    assert!(so.contains("checked=0"), "not waived: {so}\n{se}");
    assert!(se.contains("BREAK-GLASS: confirm (fs.rm-data-dir"), "{se}");
    let id = printed_grant(&out);
    assert!(!id.is_empty() && !id.contains(' '), "{id}");

    let recs = svc.records();
    let start = recs
        .iter()
        .find(|r| r["event"] == "session" && r["outcome"] == "break-glass")
        .unwrap_or_else(|| panic!("no start record: {recs:#?}"));
    assert_eq!(start["reason"], REASON, "{start:#}");
    assert!(
        start["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&id) && d.contains("until")),
        "{start:#}"
    );
    let waived = svc
        .rm_records()
        .pop()
        .unwrap_or_else(|| panic!("no record"));
    assert_eq!(waived["outcome"], "break-glass", "{waived:#}");
    assert_eq!(waived["action"], "confirm", "{waived:#}");
    assert_eq!(waived["reason"], REASON, "{waived:#}");
    assert!(
        recs.iter()
            .any(|r| r["detail"] == "break-glass session ended"),
        "no end record: {recs:#?}"
    );

    // The session is over: its id, from any process, waives nothing now.
    let after = svc
        .prodguard()
        .env("PRODGUARD_BREAK_GLASS", &id)
        .args(["check", &format!("rm -rf {DATA_DIR}")])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!after.status.success(), "{}", text(&after.stderr));
    assert!(
        text(&after.stderr).contains("no break-glass grant has this id"),
        "{}",
        text(&after.stderr)
    );
    let verify = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(svc.path("log/audit.jsonl"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[test]
fn a_process_outside_the_session_gets_nothing_from_the_id() {
    let svc = Service::new("");
    // The session prints its id and waits; a process that is not its descendant tries it.
    let fifo = svc.path("go");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let mut child = svc
        .prodguard()
        .args(["--break-glass", "--reason", REASON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut input = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
    input
        .write_all(
            format!(
                "echo grant=$PRODGUARD_BREAK_GLASS\nread x < {}\nexit 0\n",
                fifo.display()
            )
            .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    drop(input);
    let mut stdout = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let mut line = String::new();
    {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(&mut stdout);
        while !line.starts_with("grant=") {
            line.clear();
            let n = r.read_line(&mut line).unwrap_or(0);
            assert!(n > 0, "the session ended before printing its grant");
        }
    }
    let id = line.trim_start_matches("grant=").trim().to_string();
    let out = svc
        .prodguard()
        .env("PRODGUARD_BREAK_GLASS", &id)
        .args(["check", &format!("rm -rf {DATA_DIR}")])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = text(&out.stderr);
    std::fs::write(&fifo, "go\n").unwrap_or_else(|e| panic!("{e}"));
    let _ = child.wait();
    assert!(!out.status.success(), "waived outside the session: {err}");
    assert!(
        err.contains("belongs to a session this process does not run in"),
        "{err}"
    );
}

#[test]
fn another_user_in_the_session_with_the_same_marker_gets_nothing() {
    if !nix::unistd::geteuid().is_root() {
        support::skip("creating a test user needs root");
        return;
    }
    for tool in ["/usr/sbin/useradd", "/usr/bin/setpriv"] {
        if !Path::new(tool).exists() {
            support::skip(&format!("{tool} is not installed"));
            return;
        }
    }
    let user = users::TempUser::create("pgbg");
    let svc = Service::new("");
    use std::os::unix::fs::PermissionsExt;
    for p in [
        svc.dir.path().to_path_buf(),
        svc.path("run"),
        svc.path("policies"),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::set_permissions(
        svc.path("host.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Inside the session (a descendant of its parent), with its marker, as another uid.
    let script = format!(
        "cd /\nsetpriv --reuid={} --regid={} --clear-groups -- env HOME=/ {}\necho other=$?\n{}\necho own=$?\nexit 0\n",
        user.uid,
        user.gid,
        svc.check_line(),
        svc.check_line()
    );
    let out = svc.break_glass(&script);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !so.contains("other=0"),
        "another user was waived: {so}\n{se}"
    );
    assert!(
        so.contains("own=0"),
        "the holder was not waived: {so}\n{se}"
    );
    assert!(se.contains("belongs to another user"), "{se}");
    let recs = svc.rm_records();
    let theirs = recs
        .iter()
        .find(|r| r["user"] == user.name.as_str())
        .unwrap_or_else(|| panic!("no record of the other user: {recs:#?}"));
    assert_ne!(theirs["outcome"], "break-glass", "{theirs:#}");
    assert!(
        theirs["detail"]
            .as_str()
            .is_some_and(|d| d.contains("unverified break-glass marker was ignored")),
        "{theirs:#}"
    );
}

#[test]
fn an_expired_grant_waives_nothing_and_its_expiry_is_recorded() {
    // 0.02 minutes: 1.2 seconds.
    let svc = Service::new("break_glass_minutes = 0.02");
    let script = format!(
        "{}\necho early=$?\nsleep 2\n{}\necho late=$?\nsleep 6\nexit 0\n",
        svc.check_line(),
        svc.check_line()
    );
    let out = svc.break_glass(&script);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert!(so.contains("early=0"), "not waived at first: {so}\n{se}");
    assert!(!so.contains("late=0"), "waived after expiry: {so}\n{se}");
    assert!(se.contains("the break-glass grant expired at"), "{se}");
    let recs = svc.records();
    assert!(
        recs.iter().any(|r| r["event"] == "session"
            && r["outcome"] == "expired"
            && r["detail"]
                .as_str()
                .is_some_and(|d| d.contains("expired at"))),
        "no expiry record: {recs:#?}"
    );
}

#[test]
fn without_the_service_there_is_no_break_glass_and_the_shell_still_works() {
    let svc = Service::new("");
    // Another host file naming a socket nobody listens on.
    let host = std::fs::read_to_string(svc.path("host.toml"))
        .unwrap_or_default()
        .replace("run/audit.sock", "run/nobody.sock");
    std::fs::write(svc.path("down.toml"), host).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(BIN)
        .arg("--host-file")
        .arg(svc.path("down.toml"))
        .args(["--break-glass", "--reason", REASON])
        .env_remove("PRODGUARD_BREAK_GLASS")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot be recorded"),
        "{}",
        text(&out.stderr)
    );
    // A marker with the service down: no waiver, and the command is still judged (`true` runs).
    let out = Command::new(BIN)
        .arg("--host-file")
        .arg(svc.path("down.toml"))
        .arg("--policy-dir")
        .arg(svc.path("policies"))
        .env("PRODGUARD_BREAK_GLASS", "0123456789abcdef")
        .args(["--", "true"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn the_prompt_says_break_glass_while_the_grant_holds_and_nothing_otherwise() {
    // 0.05 minutes: 3 seconds.
    let svc = Service::new("break_glass_minutes = 0.05");
    let prompt = format!(
        "{BIN} --host-file {} prompt",
        svc.path("host.toml").display()
    );
    let script = format!(
        "echo grant=$PRODGUARD_BREAK_GLASS\necho seg=$({prompt})\necho title=$({prompt} --title)\nsleep 4\necho late=$({prompt})\nexit 0\n"
    );
    let out = svc.break_glass(&script);
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{so}\n{se}");
    // The banner's expiry, `until 2026-12-03 16:50 UTC`, is the prompt's `until 16:50 UTC`.
    let until = so
        .split("BREAK-GLASS SESSION until ")
        .nth(1)
        .and_then(|rest| rest.get(11..20))
        .unwrap_or_else(|| panic!("no expiry in the banner: {so}"));
    assert!(until.ends_with(" UTC"), "{until:?} in {so}");
    let line = |key: &str| {
        so.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} line: {so}\n{se}"))
            .to_string()
    };
    assert_eq!(
        line("seg="),
        format!("[PRODUCTION db1 BREAK-GLASS until {until}]"),
        "{se}"
    );
    assert!(
        line("title=").ends_with(&format!(" \u{b7} BREAK-GLASS until {until}")),
        "{so}"
    );
    assert_eq!(
        line("late="),
        "[PRODUCTION db1]",
        "shown after expiry: {se}"
    );
    let id = printed_grant(&out);

    // Outside a session: a made-up id, the session's id after its end, and no marker at all
    // show the plain segment.
    for marker in [
        Some("0123456789abcdef0123456789abcdef"),
        Some(id.as_str()),
        None,
    ] {
        let mut c = svc.prodguard();
        c.arg("prompt");
        if let Some(m) = marker {
            c.env("PRODGUARD_BREAK_GLASS", m);
        }
        let out = c.output().unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "[PRODUCTION db1]", "marker {marker:?}");
    }
}

#[test]
fn an_ordinary_prompt_does_not_ask_the_service() {
    let svc = Service::new("");
    let pid = svc
        ._daemon
        .pid()
        .unwrap_or_else(|| panic!("the service has no pid"));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or_else(|e| panic!("{e}")));
    // A stopped service accepts connections and never answers: a prompt that asked it would
    // wait for the reply timeout (10 s).
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP)
        .unwrap_or_else(|e| panic!("SIGSTOP: {e}"));
    let t = std::time::Instant::now();
    let out = svc
        .prodguard()
        .arg("prompt")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT)
        .unwrap_or_else(|e| panic!("SIGCONT: {e}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[PRODUCTION db1]");
    assert!(
        took < std::time::Duration::from_secs(2),
        "an ordinary prompt took {took:?} with the service stopped"
    );
    eprintln!("prompt without a marker, service stopped: {took:?}");
}
