//! The sudo approval plugin (`sudo-plugin/`) inside the real sudo, asking the real
//! `prodguard sudo-check`.
//!
//! Nothing of the machine is changed: every run happens in a private mount namespace
//! (`unshare -m`) in which a test sudo.conf (naming the plugin, a copy of the .so owned by root
//! and mode 0644, and the checker built by cargo), a test sudoers, and /etc/passwd and /etc/group
//! and /etc/shadow
//! copies with one extra test user are bind-mounted over the real files, and a temp directory is
//! mounted on /srv. The test user runs sudo (through `setpriv`), so the records must name them.
//! The host description, policy directory and audit log are temp files handed to the checker by
//! the plugin's options in that sudo.conf.
//!
//! Needs root, sudo, unshare and setpriv: without them the tests say why and pass, except under
//! CI=true, where they fail.

#[path = "support/daemon.rs"]
mod daemon;
#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;

use pty::{Options, Out, Pty, Stdin};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[path = "support/ansible.rs"]
mod ansible;

const USER: &str = "pgsudo-t";
const UID: u32 = 64242;
const HOST: &str = "db1.example.com";

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tests can run here; under CI=true a missing piece is a failure.
fn ready() -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        Some("needs root (sudo.conf is bind-mounted in a private mount namespace)".to_string())
    } else {
        ["sudo", "unshare", "setpriv", "python3"]
            .iter()
            .find(|t| !has(t))
            .map(|t| format!("{t} is not installed (apt-get install sudo util-linux python3)"))
    };
    match why {
        None => true,
        Some(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("sudo plugin tests cannot run: {why}")
        }
        Some(why) => {
            eprintln!("skipped: {why}");
            false
        }
    }
}

/// The plugin library, built once by cargo in this profile.
fn plugin_so() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target dir");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "prodguard-sudo-approval"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build -p prodguard-sudo-approval");
        assert!(status.success(), "building the plugin failed");
        let path = profile_dir.join("libprodguard_sudo_approval.so");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
    .clone()
}

/// One test's sudo: its files and the namespace that uses them.
struct Rig {
    dir: tempfile::TempDir,
    /// Mounted on /srv inside the namespace; holds `data/`.
    srv: PathBuf,
    audit: PathBuf,
}

/// What a rig is built with.
#[derive(Default)]
struct Setup<'a> {
    /// Extra sudoers lines.
    sudoers: &'a str,
    /// The checker (default: the prodguard under test).
    checker: Option<PathBuf>,
    /// Extra plugin options.
    options: &'a str,
    /// A policy pack to put in the policy directory.
    policy: Option<&'a str>,
    /// Tables appended to host.toml.
    host: &'a str,
}

impl Rig {
    fn new(setup: Setup<'_>) -> Rig {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        // The test user's home is inside: traversable, not listable.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o711)).expect("chmod");
        let home = d.join("home");
        std::fs::create_dir(&home).expect("home");
        std::os::unix::fs::chown(&home, Some(UID), Some(UID)).expect("chown home");
        let so = d.join("sudo_approval.so");
        std::fs::copy(plugin_so(), &so).expect("copy plugin");
        std::fs::set_permissions(&so, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let audit = d.join("audit.jsonl");
        let host = d.join("host.toml");
        std::fs::write(
            &host,
            format!(
                "hostname = \"{HOST}\"\nenvironment = \"production\"\nrole = \"db-primary\"\n[audit]\nsyslog = \"none\"\n{}",
                setup.host
            ),
        )
        .expect("host.toml");
        let policies = d.join("policies.d");
        std::fs::create_dir(&policies).expect("policy dir");
        if let Some(p) = setup.policy {
            std::fs::write(policies.join("site.toml"), p).expect("policy");
        }
        let checker = setup
            .checker
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_prodguard")));
        std::fs::write(
            d.join("sudo.conf"),
            format!(
                "Plugin prodguard_approval {} checker={} host_file={} policy_dir={} audit_file={} {}\n",
                so.display(),
                checker.display(),
                host.display(),
                policies.display(),
                audit.display(),
                setup.options
            ),
        )
        .expect("sudo.conf");
        let sudoers = d.join("sudoers");
        std::fs::write(
            &sudoers,
            format!(
                "Defaults env_reset\nDefaults !lecture\nDefaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin\"\n{}\nroot ALL=(ALL:ALL) NOPASSWD: ALL\n{USER} ALL=(ALL:ALL) NOPASSWD: ALL\n",
                setup.sudoers
            ),
        )
        .expect("sudoers");
        std::fs::set_permissions(&sudoers, std::fs::Permissions::from_mode(0o440))
            .expect("chmod sudoers");
        let passwd = std::fs::read_to_string("/etc/passwd").expect("passwd");
        let group = std::fs::read_to_string("/etc/group").expect("group");
        assert!(
            !passwd.lines().any(|l| l.starts_with(&format!("{USER}:"))),
            "{USER} exists on this machine"
        );
        std::fs::write(
            d.join("passwd"),
            format!("{passwd}{USER}:x:{UID}:{UID}::{}:/bin/sh\n", home.display()),
        )
        .expect("passwd");
        std::fs::write(d.join("group"), format!("{group}{USER}:x:{UID}:\n")).expect("group");
        // PAM's account check (pam_unix) wants a shadow entry: no password, never expires.
        let shadow = std::fs::read_to_string("/etc/shadow").expect("shadow");
        let shadow_copy = d.join("shadow");
        std::fs::write(
            &shadow_copy,
            format!("{shadow}{USER}:*:19000:0:99999:7:::\n"),
        )
        .expect("shadow");
        std::fs::set_permissions(&shadow_copy, std::fs::Permissions::from_mode(0o640))
            .expect("chmod shadow");
        let srv = d.join("srv");
        std::fs::create_dir_all(srv.join("data")).expect("srv");
        std::fs::write(srv.join("data/PG_VERSION"), "16\n").expect("data");
        Rig { dir, srv, audit }
    }

    fn data_stays(&self) -> bool {
        self.srv.join("data/PG_VERSION").exists()
    }

    /// `sudo ARGS` run by the test user inside the namespace.
    fn sudo(&self, args: &[&str]) -> Command {
        let (reuid, regid) = (format!("--reuid={UID}"), format!("--regid={UID}"));
        let mut argv = vec!["setpriv", &reuid, &regid, "--clear-groups", "--", "sudo"];
        argv.extend_from_slice(args);
        self.namespace(&argv)
    }

    /// `ARGV` run by root inside the namespace.
    fn namespace(&self, argv: &[&str]) -> Command {
        let d = self.dir.path().display();
        let script = format!(
            "set -e
mount --bind {d}/sudo.conf /etc/sudo.conf
mount --bind {d}/sudoers /etc/sudoers
mount --bind {d}/passwd /etc/passwd
mount --bind {d}/group /etc/group
mount --bind {d}/shadow /etc/shadow
mount --bind {d}/srv /srv
cd /srv
exec \"$@\""
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"])
            .args(argv)
            .env_remove("NO_COLOR")
            .env("TERM", "dumb");
        cmd
    }

    /// The `command` records of the audit log.
    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|r| r["event"] == "command")
            .collect()
    }

    /// The record of the command line `command`, asserted to be the test user's, via sudo.
    fn record(&self, command: &str) -> serde_json::Value {
        let all = self.records();
        let r = all
            .iter()
            .rev()
            .find(|r| r["command"] == command)
            .unwrap_or_else(|| panic!("no record of {command:?} in {all:#?}"))
            .clone();
        assert_eq!(r["user"], USER, "{r:#}");
        assert_eq!(r["uid"], UID, "{r:#}");
        assert_eq!(r["detail"], "sudo: run as root", "{r:#}");
        for inv in r["invocations"].as_array().expect("invocations") {
            assert_eq!(inv["via"][0], "sudo", "{r:#}");
        }
        r
    }
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Run without a terminal (a new session, stdin /dev/null), for at most `limit`.
fn run(cmd: Command, limit: Duration) -> Run {
    run_input(cmd, None, limit)
}

/// [`run`], with `input` on stdin.
fn run_input(mut cmd: Command, input: Option<&[u8]>, limit: Duration) -> Run {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn unshare");
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(data).expect("write stdin");
    }
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let ereader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sudo did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: reader.join().unwrap_or_default(),
        stderr: ereader.join().unwrap_or_default(),
        took: start.elapsed(),
    }
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn without_a_terminal_rm_rf_of_the_data_directory_is_refused_and_the_data_stays() {
    if !ready() {
        return;
    }
    let rig = Rig::new(Setup::default());
    let r = run(rig.sudo(&["-n", "rm", "-rf", "/srv/data"]), LIMIT);
    assert!(!r.status.success(), "rm ran: {}", r.stderr);
    assert!(rig.data_stays(), "the data directory was deleted");
    // The reason is on sudo's stderr, where automation shows it.
    assert!(r.stderr.contains("no terminal"), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("fs.rm-data-dir"), "stderr: {}", r.stderr);
    let rec = rig.record("rm -rf /srv/data");
    assert_eq!(rec["outcome"], "denied", "{rec:#}");
    assert_eq!(rec["cwd"], "/srv", "{rec:#}");
    assert_eq!(rec["invocations"][0]["targets"][0], "/srv/data", "{rec:#}");
}

#[test]
fn a_harmless_command_runs_and_is_recorded() {
    if !ready() {
        return;
    }
    let rig = Rig::new(Setup::default());
    let r = run(rig.sudo(&["-n", "ls", "/srv/data"]), LIMIT);
    assert!(r.status.success(), "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "PG_VERSION\n");
    let rec = rig.record("ls /srv/data");
    assert_eq!(rec["outcome"], "allowed", "{rec:#}");
}

/// `cmd` on a fresh 24×80 terminal holding its stdin, stdout and stderr: the terminal sudo is
/// started from.
fn on_pty(cmd: Command) -> Pty {
    Pty::with(
        cmd,
        Options {
            stdout: Out::Tty,
            stderr: Out::Tty,
            ..Options::piped(Stdin::Tty)
        },
    )
}

/// Wait for the program on `pty`: its status and the screen.
fn finish(pty: Pty) -> (ExitStatus, String) {
    let f = pty.finish();
    (f.status, f.screen)
}

#[test]
fn on_a_terminal_the_host_name_is_asked_a_wrong_answer_refuses_and_the_right_one_runs() {
    if !ready() {
        return;
    }
    let rig = Rig::new(Setup::default());

    let mut pty = on_pty(rig.sudo(&["rm", "-rf", "/srv/data"]));
    pty.expect("host name: ");
    assert!(pty.text().contains(HOST), "screen:\n{}", pty.text());
    pty.send(b"db2.example.com\r");
    let (status, screen) = finish(pty);
    assert!(!status.success(), "screen:\n{screen}");
    assert!(
        rig.data_stays(),
        "deleted on a wrong answer; screen:\n{screen}"
    );
    let rec = rig.record("rm -rf /srv/data");
    assert_eq!(rec["challenge"]["passed"], false, "{rec:#}");

    let mut pty = on_pty(rig.sudo(&["rm", "-rf", "/srv/data"]));
    pty.expect("host name: ");
    pty.send(format!("{HOST}\r").as_bytes());
    let (status, screen) = finish(pty);
    assert!(status.success(), "screen:\n{screen}");
    assert!(
        !rig.data_stays(),
        "not deleted on the right answer; screen:\n{screen}"
    );
    let rec = rig.record("rm -rf /srv/data");
    assert_eq!(rec["outcome"], "confirmed", "{rec:#}");
    assert_eq!(rec["challenge"]["passed"], true, "{rec:#}");
}

/// Waiting out the question never approves: however long host.toml lets a question wait, the
/// checker gives up on it (refusing) before the plugin gives up on the checker (which would
/// approve, so as never to lock root out).
#[test]
fn a_question_left_unanswered_refuses_before_the_plugin_gives_up_on_the_checker() {
    if !ready() {
        return;
    }
    let rig = Rig::new(Setup {
        options: "tty_timeout=15",
        host: "[prompt]\ntimeout_secs = 600\n",
        ..Setup::default()
    });
    let started = Instant::now();
    let mut pty = on_pty(rig.sudo(&["rm", "-rf", "/srv/data"]));
    pty.expect("host name: ");
    let (status, screen) = finish(pty);
    assert!(!status.success(), "screen:\n{screen}");
    assert!(rig.data_stays(), "deleted after waiting; screen:\n{screen}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the question outlived the plugin's limit: {:?}; screen:\n{screen}",
        started.elapsed()
    );
    let rec = rig.record("rm -rf /srv/data");
    assert_eq!(rec["outcome"], "timed-out", "{rec:#}");
}

#[test]
fn with_intercept_a_delete_started_by_python_inside_the_command_is_refused() {
    if !ready() {
        return;
    }
    let rig = Rig::new(Setup {
        sudoers: "Defaults intercept\nDefaults intercept_type=trace",
        ..Setup::default()
    });
    // The line of the issue: the guard already reads `python3 -c` code and refuses it whole.
    let inner = "import os; os.system(\"rm -rf /srv/data\")";
    let outer = format!("/usr/bin/python3 -c '{inner}'");
    let r = run(rig.sudo(&["-n", "sh", "-c", &outer]), LIMIT);
    assert!(!r.status.success(), "stderr: {}", r.stderr);
    assert!(
        rig.data_stays(),
        "deleted through python; stderr: {}",
        r.stderr
    );
    let rec = rig.record(&format!("sh -c {}", shell_quote(&outer)));
    assert_eq!(rec["outcome"], "denied", "{rec:#}");

    // A script file the guard cannot read beforehand: the outer command is allowed, and the
    // delete is caught when os.system runs /bin/sh -c, which sudo intercepts and asks about.
    std::fs::write(rig.srv.join("job.py"), format!("{inner}\n")).expect("job.py");
    let r = run(rig.sudo(&["-n", "/usr/bin/python3", "/srv/job.py"]), LIMIT);
    assert!(
        rig.data_stays(),
        "deleted through python; stderr: {}",
        r.stderr
    );
    let ran = rig.record("/usr/bin/python3 /srv/job.py");
    assert_eq!(ran["outcome"], "allowed", "{ran:#}");
    let all = rig.records();
    let refused = all
        .iter()
        .find(|r| r["command"] == "/bin/sh -c 'rm -rf /srv/data'")
        .unwrap_or_else(|| panic!("no record of the intercepted sh -c: {all:#?}"));
    assert_eq!(refused["outcome"], "denied", "{refused:#}");
    assert_eq!(refused["user"], USER, "{refused:#}");
    assert!(r.stderr.contains("fs.rm-data-dir"), "stderr: {}", r.stderr);

    // A root login shell: the shell starts, and the destructive line in it is judged.
    let r = run_input(
        rig.sudo(&["-n", "-i"]),
        Some(b"rm -rf /srv/data\necho still-here\n"),
        LIMIT,
    );
    assert!(rig.data_stays(), "deleted in sudo -i; stderr: {}", r.stderr);
    assert!(r.stdout.contains("still-here"), "stdout: {}", r.stdout);
    let all = rig.records();
    let refused = all
        .iter()
        .rev()
        .find(|r| {
            r["command"]
                .as_str()
                .is_some_and(|c| c.ends_with("rm -rf /srv/data") && !c.contains("-c"))
        })
        .unwrap_or_else(|| panic!("no record of rm in sudo -i: {all:#?}"));
    assert_eq!(refused["outcome"], "denied", "{refused:#}");
    assert_eq!(refused["user"], USER, "{refused:#}");
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

#[test]
fn a_missing_a_killed_or_a_hanging_checker_leaves_sudo_true_working_in_bounded_time() {
    if !ready() {
        return;
    }
    let tools = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("missing", tools.path().join("no-such-prodguard"), ""),
        ("killed", script(tools.path(), "killed", "kill -9 $$"), ""),
        (
            "hanging",
            script(tools.path(), "hanging", "trap '' TERM; sleep 120"),
            "timeout=2",
        ),
    ];
    for (what, checker, options) in cases {
        let rig = Rig::new(Setup {
            checker: Some(checker),
            options,
            ..Setup::default()
        });
        let r = run(rig.sudo(&["-n", "true"]), Duration::from_secs(30));
        assert!(r.status.success(), "{what}: stderr: {}", r.stderr);
        assert!(
            r.stderr.contains("prodguard checker unavailable"),
            "{what}: stderr: {}",
            r.stderr
        );
        assert!(
            r.took < Duration::from_secs(10),
            "{what}: took {:?}",
            r.took
        );
    }
}

#[test]
fn a_broken_policy_leaves_sudo_true_working_and_still_refuses_the_delete() {
    if !ready() {
        return;
    }
    let rig = Rig::new(Setup {
        policy: Some("[[rule]]\nid = \"broken\nmatch = "),
        ..Setup::default()
    });
    let r = run(rig.sudo(&["-n", "true"]), LIMIT);
    assert!(r.status.success(), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("strict fallback"), "stderr: {}", r.stderr);
    let r = run(rig.sudo(&["-n", "rm", "-rf", "/srv/data"]), LIMIT);
    assert!(!r.status.success(), "stderr: {}", r.stderr);
    assert!(rig.data_stays());
    assert_eq!(rig.record("rm -rf /srv/data")["outcome"], "denied");
}

#[test]
fn sudo_check_refuses_to_run_unless_root() {
    if !ready() {
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_prodguard"))
        .args(["sudo-check", "--user", "root", "--", "true"])
        .stdin(Stdio::null())
        .output()
        .expect("run setpriv");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("as root"));
}

#[test]
fn status_reports_the_plugin_line_and_intercept() {
    if !ready() {
        return;
    }
    let status = |rig: &Rig| {
        let r = run(
            rig.namespace(&[env!("CARGO_BIN_EXE_prodguard"), "status", "--json"]),
            LIMIT,
        );
        let v: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", r.stdout, r.stderr));
        v["sudo"].clone()
    };
    let rig = Rig::new(Setup {
        sudoers: "Defaults intercept, intercept_type=trace",
        ..Setup::default()
    });
    let s = status(&rig);
    assert_eq!(s["plugin"], "enabled", "{s:#}");
    assert_eq!(s["library_present"], true, "{s:#}");
    assert_eq!(s["intercept"], "on", "{s:#}");
    let s = status(&Rig::new(Setup::default()));
    assert_eq!(s["intercept"], "off", "{s:#}");
}

#[test]
fn install_sudo_prints_the_sudo_conf_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_prodguard"))
        .args(["install", "--sudo"])
        .output()
        .expect("run prodguard");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l == "Plugin prodguard_approval /usr/lib/prodguard/sudo_approval.so"),
        "{text}"
    );
}

#[test]
fn in_an_interactive_root_shell_under_intercept_the_question_is_asked_on_the_terminal() {
    if !ready() {
        return;
    }
    for use_pty in [true, false] {
        let rig = Rig::new(Setup {
            sudoers: if use_pty {
                "Defaults use_pty\nDefaults intercept, intercept_type=trace"
            } else {
                "Defaults !use_pty\nDefaults intercept, intercept_type=trace"
            },
            ..Setup::default()
        });
        let mut pty = on_pty(rig.sudo(&["-i"]));
        pty.send(b"echo shell-$((6*7))\r");
        pty.expect("shell-42");
        // The root shell starts with the banner.
        let before = pty.text();
        let before = &before[..before.find("shell-42").unwrap_or(0)];
        assert!(
            before.contains("PRODUCTION"),
            "use_pty {use_pty}: no banner:\n{before}"
        );
        pty.send(b"rm -rf /srv/data\r");
        pty.expect("host name: ");
        pty.send(b"db2.example.com\r");
        pty.expect("Permission denied");
        pty.send(b"echo after-$((6*7))\r");
        pty.expect("after-42");
        assert!(
            rig.data_stays(),
            "use_pty {use_pty}: deleted; screen:\n{}",
            pty.text()
        );
        pty.send(b"exit\r");
        let (_, screen) = finish(pty);
        let all = rig.records();
        let refused = all
            .iter()
            .rev()
            .find(|r| r["command"] == "/usr/bin/rm -rf /srv/data")
            .unwrap_or_else(|| panic!("use_pty {use_pty}: no record: {all:#?}\n{screen}"));
        assert_eq!(refused["challenge"]["passed"], false, "{refused:#}");
        // The shell itself: a warning on production, recorded (sys.root-shell).
        let shell = all
            .iter()
            .find(|r| r["rules"][0] == "sys.root-shell")
            .unwrap_or_else(|| {
                panic!("use_pty {use_pty}: the root shell is not recorded: {all:#?}")
            });
        assert_eq!(shell["action"], "warn", "{shell:#}");
        assert!(
            screen.contains("A root shell on"),
            "use_pty {use_pty}: no warning on screen:\n{screen}"
        );
    }
}

fn free_port() -> u16 {
    let base = 30000 + (std::process::id() % 10000) as u16;
    (0..500u16)
        .map(|i| base + i * 3)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port")
}

/// sshd on 127.0.0.1 inside the rig's namespace, for the test user; killed on drop.
struct Sshd {
    child: std::process::Child,
    port: u16,
    key: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "prodguard-sudo",
            "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ssh-keygen failed");
}

impl Rig {
    fn sshd(&self) -> Sshd {
        let d = self.dir.path();
        let _ = std::fs::create_dir_all("/run/sshd");
        let hostkey = d.join("ssh_host_ed25519_key");
        keygen(&hostkey);
        let key = d.join("id_ed25519");
        keygen(&key);
        let ssh_dir = d.join("home/.ssh");
        std::fs::create_dir_all(&ssh_dir).expect(".ssh");
        std::fs::copy(key.with_extension("pub"), ssh_dir.join("authorized_keys"))
            .expect("authorized_keys");
        for p in [&ssh_dir, &ssh_dir.join("authorized_keys")] {
            std::os::unix::fs::chown(p, Some(UID), Some(UID)).expect("chown");
        }
        let port = free_port();
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n\
                 StrictModes no\nUsePAM no\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin no\nAllowUsers {USER}\nSubsystem sftp internal-sftp\n",
                hostkey.display(),
                d.join("sshd.pid").display()
            ),
        )
        .expect("sshd_config");
        let log = d.join("sshd.log");
        let (c, l) = (config.display().to_string(), log.display().to_string());
        let mut cmd = self.namespace(&["/usr/sbin/sshd", "-D", "-f", &c, "-E", &l]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("start sshd");
        let mut sshd = Sshd { child, port, key };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || sshd.child.try_wait().ok().flatten().is_some() {
                panic!(
                    "sshd did not start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        sshd.port = port;
        sshd
    }
}

#[test]
fn ansible_become_cannot_delete_the_data_directory_and_ordinary_tasks_still_work() {
    if !ready() {
        return;
    }
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let missing = ["/usr/sbin/sshd", "ssh", "ssh-keygen"]
        .into_iter()
        .find(|t| !(Path::new(t).exists() || has(t)));
    let playbook_bin = if missing.is_none() {
        ansible::bin("ansible-playbook")
    } else {
        None
    };
    let Some(playbook_bin) = playbook_bin else {
        let why = format!(
            "needs sshd, ssh and ansible-core (pip install ansible-core): missing {}",
            missing.unwrap_or("ansible-playbook")
        );
        assert!(!ci, "{why}");
        eprintln!("skipped: {why}");
        return;
    };
    let rig = Rig::new(Setup {
        sudoers: "Defaults intercept, intercept_type=trace",
        ..Setup::default()
    });
    let sshd = rig.sshd();
    let d = rig.dir.path();
    let ctl = d.join("control");
    std::fs::create_dir(&ctl).expect("control dir");
    std::fs::write(
        ctl.join("inventory"),
        format!(
            "target ansible_host=127.0.0.1 ansible_port={} ansible_user={USER} ansible_ssh_private_key_file={} ansible_python_interpreter=/usr/bin/python3\n",
            sshd.port,
            sshd.key.display()
        ),
    )
    .expect("inventory");
    let play = |name: &str, tasks: &str, flags: &[&str]| -> (bool, String) {
        let file = ctl.join(format!("{name}.yml"));
        std::fs::write(
            &file,
            format!("- hosts: target\n  gather_facts: false\n  become: true\n  tasks:\n{tasks}"),
        )
        .expect("playbook");
        let mut cmd = ansible::command(&playbook_bin, &ctl);
        cmd.args(flags)
            .arg("-i")
            .arg(ctl.join("inventory"))
            .arg(&file);
        let r = run(cmd, Duration::from_secs(300));
        (r.status.success(), format!("{}{}", r.stdout, r.stderr))
    };

    let (ok, out) = play(
        "ordinary",
        "    - copy: { content: \"hello\\n\", dest: /srv/copied.txt }\n\
         \x20   - apt: { name: sudo, state: present }\n\
         \x20   - command: /usr/sbin/service --status-all\n",
        &[],
    );
    assert!(ok, "ordinary become tasks failed:\n{out}");
    assert_eq!(
        std::fs::read_to_string(rig.srv.join("copied.txt"))
            .ok()
            .as_deref(),
        Some("hello\n")
    );

    // The module file is read where sudo judges `/bin/sh -c '… python3 …/AnsiballZ_command.py'`:
    // the task's own command line is refused before the module starts, the guard's reason in
    // the task result (sudo's stderr), without -vvv.
    let (ok, out) = play("delete", "    - shell: rm -rf /srv/data\n", &[]);
    assert!(!ok, "the delete task succeeded:\n{out}");
    assert!(rig.data_stays(), "the data directory was deleted:\n{out}");
    assert!(
        out.contains("fs.rm-data-dir"),
        "the guard's reason is not in Ansible's output:\n{out}"
    );
    let (ok, out) = play(
        "absent",
        "    - file: { path: /srv/data, state: absent }\n",
        &[],
    );
    assert!(!ok, "the file: state=absent task succeeded:\n{out}");
    assert!(rig.data_stays(), "the data directory was deleted:\n{out}");
    // `raw` runs the line itself under sudo: refused before it starts, the reason in the result.
    let (ok, out) = play("raw", "    - raw: rm -rf /srv/data\n", &[]);
    assert!(!ok, "the raw delete succeeded:\n{out}");
    assert!(rig.data_stays(), "the data directory was deleted:\n{out}");
    assert!(
        out.contains("fs.rm-data-dir"),
        "the guard's reason is not in Ansible's output:\n{out}"
    );
    let all = rig.records();
    let refused = all
        .iter()
        .find(|r| {
            r["outcome"] == "denied"
                && r["command"]
                    .as_str()
                    .is_some_and(|c| c.contains("rm -rf /srv/data"))
        })
        .unwrap_or_else(|| {
            let rm: Vec<_> = all
                .iter()
                .filter(|r| r["command"].as_str().is_some_and(|c| c.contains("rm ")))
                .collect();
            panic!("no refusal recorded: {rm:#?}")
        });
    assert_eq!(refused["user"], USER, "{refused:#}");
    // Each module run is recorded with its name and arguments, and the task's command line is
    // judged as reached through it.
    let module = |name: &str, arg: &str, value: &str| {
        all.iter()
            .flat_map(|r| r["invocations"].as_array().into_iter().flatten())
            .any(|i| i["ansible"]["name"] == name && i["ansible"]["args"][arg] == value)
    };
    assert!(
        module("copy", "dest", "/srv/copied.txt"),
        "no copy module recorded: {all:#?}"
    );
    assert!(
        module("command", "_raw_params", "rm -rf /srv/data"),
        "no command module recorded: {all:#?}"
    );
    assert!(
        module("file", "state", "absent"),
        "no file module recorded: {all:#?}"
    );
    let judged = all
        .iter()
        .flat_map(|r| r["invocations"].as_array().into_iter().flatten())
        .find(|i| {
            i["program"] == "rm"
                && i["via"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|w| w == "ansible command"))
        });
    assert!(judged.is_some(), "the task's rm is not recorded: {all:#?}");
}

#[test]
fn a_database_client_reading_a_pipe_through_sudo_is_judged_as_reading_unseen_input() {
    if !ready() {
        return;
    }
    if !has("psql") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "psql is not installed (apt-get install postgresql-client)"
        );
        eprintln!("skipped: psql is not installed");
        return;
    }
    let rig = Rig::new(Setup::default());
    let r = run_input(
        rig.sudo(&["-n", "psql", "-h", "127.0.0.1", "-p", "1", "-d", "prod"]),
        Some(b"DROP TABLE accounts;\n"),
        LIMIT,
    );
    assert!(!r.status.success(), "stderr: {}", r.stderr);
    let rec = rig.record("psql -h 127.0.0.1 -p 1 -d prod");
    assert_eq!(rec["outcome"], "denied", "{rec:#}");
}

#[test]
fn a_break_glass_session_applies_under_sudo_and_is_recorded() {
    if !ready() {
        return;
    }
    // The grant is held by the audit service for this test process: sudo, and the checker it
    // starts as root, run in its session.
    let run_dir = tempfile::tempdir().expect("temp dir");
    let socket = run_dir.path().join("audit.sock");
    let host = format!("socket = \"{}\"\n", socket.display());
    let rig = Rig::new(Setup {
        host: &host,
        ..Setup::default()
    });
    let _service = daemon::Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_prodguard")),
        &rig.dir.path().join("host.toml"),
        &socket,
        &run_dir.path().join("state"),
    );
    let id = daemon::hold_break_glass(&socket, "INC-77 disk full, data moved");
    let mut cmd = rig.sudo(&["-n", "rm", "-rf", "/srv/data"]);
    cmd.env("PRODGUARD_BREAK_GLASS", &id);
    let r = run(cmd, LIMIT);
    assert!(r.status.success(), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("BREAK-GLASS"), "stderr: {}", r.stderr);
    assert!(!rig.data_stays());
    let rec = rig.record("rm -rf /srv/data");
    assert_eq!(rec["outcome"], "break-glass", "{rec:#}");
    assert_eq!(rec["reason"], "INC-77 disk full, data moved", "{rec:#}");
}
