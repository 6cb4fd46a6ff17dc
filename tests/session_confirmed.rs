//! The service confirms a record's session only for the process tree (or kernel session) of the
//! process that first named it: a real `prodguard daemon`, a copy of the binary installed as a
//! login shell would be (root-owned, with its paths file), and a real second user.
//!
//! Each test starts the "login" the way sshd does for `ssh host cmd`: in a new kernel session
//! (`setsid`), as the user, `prodguard -c '…'`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/daemon.rs"]
mod daemon;
mod support;
#[path = "support/users.rs"]
mod users;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

/// A service and an install of the binary that uses it, in a temp dir readable by everyone.
struct World {
    dir: tempfile::TempDir,
    _daemon: daemon::Daemon,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let root = dir.path();
        for sub in ["", "run", "bin"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{e}"));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let w = |p: PathBuf, text: &str, mode: u32| {
            std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("{e}"));
        };
        let host = root.join("host.toml");
        w(
            host.clone(),
            &format!(
                "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[audit]\nsyslog = \"none\"\nsocket = \"{}\"\nfile = \"{}\"\n",
                root.join("run/audit.sock").display(),
                root.join("log/audit.jsonl").display()
            ),
            0o644,
        );
        std::fs::copy(BIN, root.join("bin/prodguard")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(
            root.join("bin/prodguard"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        w(
            root.join("bin/prodguard-paths.toml"),
            &format!("host_file = \"{}\"\n", host.display()),
            0o644,
        );
        let daemon = daemon::Daemon::start(
            Path::new(BIN),
            &host,
            &root.join("run/audit.sock"),
            &root.join("state"),
        );
        World {
            dir,
            _daemon: daemon,
        }
    }

    fn bin(&self) -> String {
        self.dir.path().join("bin/prodguard").display().to_string()
    }

    fn host(&self) -> String {
        self.dir.path().join("host.toml").display().to_string()
    }

    /// `prodguard` as `user`, in session `session`, from the test's own kernel session.
    fn as_user(&self, user: &users::TempUser, session: &str, program: &str) -> Command {
        let mut c = Command::new(program);
        c.uid(user.uid)
            .gid(user.gid)
            .current_dir("/")
            .env("PRODGUARD_SESSION", session)
            .stdin(Stdio::null());
        c
    }

    /// A login for `user` as sshd starts one for `ssh host cmd`: a new kernel session running
    /// the installed binary with `-c cmd`.
    fn login(&self, user: &users::TempUser, session: &str, cmd: &str) -> Command {
        let mut c = self.as_user(user, session, "/usr/bin/setsid");
        c.arg(self.bin()).args(["-c", cmd]);
        c
    }

    /// The inner command a login runs: a recorded decision.
    fn recorded(&self, tag: &str) -> String {
        format!("{} --host-file {} -- echo {tag}", self.bin(), self.host())
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("log/audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// The command records whose command text holds `tag`.
    fn tagged(&self, tag: &str) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|r| r["command"].as_str().is_some_and(|c| c.contains(tag)))
            .collect()
    }
}

fn advisory_session(r: &serde_json::Value) -> bool {
    r["advisory"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "session"))
}

fn ready() -> bool {
    if !nix::unistd::geteuid().is_root() {
        support::skip("a second user and a root-owned install need root");
        return false;
    }
    for tool in ["/usr/sbin/useradd", "/usr/bin/setsid"] {
        if !Path::new(tool).exists() {
            support::skip(&format!("{tool} is not installed"));
            return false;
        }
    }
    true
}

fn unique(tag: &str) -> String {
    format!("{tag}{}x{}", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_007)
        .unwrap_or(0)
}

fn run_ok(mut c: Command) {
    let out = c.output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{:?}: {}{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A login waiting on its standard input, so that it can be named while it runs.
fn live_login(world: &World, user: &users::TempUser, session: &str, tag: &str) -> Child {
    let cmd = format!("{}; echo READY; read _", world.recorded(tag));
    let mut c = world.login(user, session, &cmd);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| panic!("{e}"));
    let out = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut reader = BufReader::new(out);
    while !line.contains("READY") {
        assert!(Instant::now() < deadline, "the login did not start");
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the login ended before it was ready");
        }
    }
    child
}

#[test]
fn every_record_of_a_login_is_confirmed_background_jobs_included() {
    if !ready() {
        return;
    }
    let user = users::TempUser::create("pgsa");
    let world = World::new();
    let session = unique("s");
    let (a, b, bg) = (unique("first"), unique("second"), unique("bg"));
    let line = format!(
        "{}; {}; ( {} & ); sleep 1",
        world.recorded(&a),
        world.recorded(&b),
        world.recorded(&bg)
    );
    run_ok(world.login(&user, &session, &line));
    let mine: Vec<_> = world
        .records()
        .into_iter()
        .filter(|r| r["session"] == session.as_str())
        .collect();
    // The login's own decision on the line, the two commands, the background one.
    assert!(mine.len() >= 4, "{mine:#?}");
    for tag in [&a, &b, &bg] {
        assert!(
            mine.iter().any(|r| r["command"] == format!("echo {tag}")),
            "no record of {tag}: {mine:#?}"
        );
    }
    for r in &mine {
        assert_eq!(r["uid"], user.uid, "{r:#}");
        assert!(!advisory_session(r), "unconfirmed: {r:#}");
    }
}

#[test]
fn another_user_or_a_process_outside_the_login_only_claims_its_session() {
    if !ready() {
        return;
    }
    let owner = users::TempUser::create("pgsb");
    let other = users::TempUser::create("pgsc");
    let world = World::new();
    let session = unique("s");
    let held = unique("held");
    let mut login = live_login(&world, &owner, &session, &held);

    let (intruder, outside, detached) = (unique("intr"), unique("out"), unique("det"));
    // Another user naming the live session.
    let mut c = world.as_user(&other, &session, &world.bin());
    c.args(["--host-file", &world.host(), "--", "echo", &intruder]);
    run_ok(c);
    // The owner, but from outside the login's process tree and kernel session.
    let mut c = world.as_user(&owner, &session, &world.bin());
    c.args(["--host-file", &world.host(), "--", "echo", &outside]);
    run_ok(c);
    let mut c = world.as_user(&owner, &session, "/usr/bin/setsid");
    c.args([
        &world.bin(),
        "--host-file",
        &world.host(),
        "--",
        "echo",
        &detached,
    ]);
    run_ok(c);
    drop(login.stdin.take());
    let _ = login.wait();

    let held_recs = world.tagged(&held);
    assert!(!held_recs.is_empty());
    for r in &held_recs {
        assert!(!advisory_session(r), "the login's own record: {r:#}");
    }
    for (tag, uid) in [
        (&intruder, other.uid),
        (&outside, owner.uid),
        (&detached, owner.uid),
    ] {
        let recs = world.tagged(tag);
        assert_eq!(recs.len(), 1, "{tag}: {recs:#?}");
        let r = &recs[0];
        assert_eq!(r["session"], session.as_str(), "kept as sent: {r:#}");
        assert_eq!(r["uid"], uid, "{r:#}");
        assert!(
            advisory_session(r),
            "{tag} was taken as the session's: {r:#}"
        );
    }
}

#[test]
fn a_session_whose_login_has_ended_cannot_be_taken_over() {
    if !ready() {
        return;
    }
    let user = users::TempUser::create("pgsd");
    let world = World::new();
    let session = unique("s");
    let first = unique("first");
    run_ok(world.login(&user, &session, &world.recorded(&first)));
    // The same user, a new login naming the ended session.
    let later = unique("later");
    run_ok(world.login(&user, &session, &world.recorded(&later)));
    assert!(world.tagged(&first).iter().all(|r| !advisory_session(r)));
    let later_recs = world.tagged(&later);
    assert!(!later_recs.is_empty());
    for r in &later_recs {
        assert!(
            advisory_session(r),
            "an ended session was taken over: {r:#}"
        );
    }
}
