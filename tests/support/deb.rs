//! The Debian package as the tests that install it need it: build it with `cargo deb`, install it
//! for real with `dpkg -i`, start its audit service, and put the machine back as it was.
//!
//! Included by `tests/packaging_deb.rs` and `tests/installed/` with `#[path]`. Both install the
//! package on this machine, so each holds [`lock`] from before it builds until it has purged:
//! two of them never run `dpkg` at the same moment, whatever test binaries run in parallel.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PKG: &str = "prodguard";
pub const BIN: &str = "/usr/bin/prodguard";
#[allow(dead_code)] // used by tests/installed, not by packaging_deb
pub const AUDIT_LOG: &str = "/var/log/prodguard/audit.jsonl";
/// Present while a test has the package installed (scripts/clean-test-leftovers reads it).
pub const MARKER: &str = "/var/tmp/prodguard-tests-installed";
const SOCKET: &str = "/run/prodguard/audit.sock";
pub const CREATED: &[&str] = &[
    "/usr/bin/prodguard",
    "/etc/prodguard",
    "/var/log/prodguard",
    "/var/lib/prodguard",
    "/usr/share/prodguard",
    "/usr/lib/prodguard",
    "/etc/logrotate.d/prodguard",
];

pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// Run `cmd`; its stdout. Panics, with everything it printed, when it fails.
pub fn ok(cmd: &mut Command) -> String {
    let desc = format!("{cmd:?}");
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{desc} failed ({}):\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn group_exists(name: &str) -> bool {
    run(Command::new("getent").args(["group", name]))
        .status
        .success()
}

pub fn installed() -> bool {
    let o = run(Command::new("dpkg-query").args(["-W", "-f", "${Status}", PKG]));
    String::from_utf8_lossy(&o.stdout).contains("installed")
}

fn dpkg_knows() -> bool {
    run(Command::new("dpkg-query").args(["-W", PKG]))
        .status
        .success()
}

pub fn shells() -> String {
    std::fs::read_to_string("/etc/shells").unwrap_or_default()
}

/// Why the package cannot be installed here, if it cannot: not root, no dpkg or cargo-deb, or
/// something it would create already exists (it never touches what it did not create).
pub fn skip_reason() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("installing a package needs root".into());
    }
    for tool in [
        "dpkg",
        "dpkg-deb",
        "dpkg-statoverride",
        "getent",
        "groupadd",
    ] {
        if !has(tool) {
            return Some(format!("{tool} is not installed (not a Debian system?)"));
        }
    }
    if !has("cargo-deb") {
        return Some("cargo-deb is not installed (cargo install cargo-deb --locked)".into());
    }
    if installed() {
        return Some("a prodguard package is already installed on this machine".into());
    }
    if group_exists("prodguard") {
        return Some("the prodguard group already exists on this machine".into());
    }
    if let Some(p) = CREATED.iter().find(|p| Path::new(p).exists()) {
        return Some(format!("{p} already exists on this machine"));
    }
    if shells().lines().any(|l| l.trim() == BIN) {
        return Some(format!("/etc/shells already lists {BIN}"));
    }
    None
}

/// Held while a test builds, installs and purges the package: one such test at a time on this
/// machine. Released when dropped.
pub struct Lock(#[allow(dead_code)] nix::fcntl::Flock<std::fs::File>);

pub fn lock() -> Lock {
    let path = std::env::temp_dir().join("prodguard-deb-install.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive) {
        Ok(l) => Lock(l),
        Err((_, e)) => panic!("lock {}: {e}", path.display()),
    }
}

/// Puts the machine back as it was, whatever happened: purge, then remove what purge keeps on
/// purpose (the audit logs) because the test created them, and restore /etc/shells.
pub struct Restore {
    shells: String,
}

impl Restore {
    /// Taken before `dpkg -i`. Leaves [`MARKER`] until the machine is put back, so that
    /// scripts/clean-test-leftovers can finish the job when this process is killed first.
    pub fn before_install() -> Restore {
        std::fs::write(MARKER, format!("{}\n", std::process::id()))
            .unwrap_or_else(|e| panic!("{MARKER}: {e}"));
        Restore { shells: shells() }
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        if installed() || dpkg_knows() {
            let _ = run(Command::new("dpkg").args(["--purge", PKG]));
        }
        let _ = std::fs::remove_dir_all("/var/log/prodguard");
        for p in CREATED {
            let path = Path::new(p);
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(path);
            } else if path.exists() {
                let _ = std::fs::remove_file(path);
            }
        }
        if group_exists("prodguard") {
            let _ = run(Command::new("groupdel").arg("prodguard"));
        }
        if shells() != self.shells {
            let _ = std::fs::write("/etc/shells", &self.shells);
        }
        let _ = std::fs::remove_file(MARKER);
    }
}

/// The audit service started by hand, stopped when the test ends.
pub struct Service(Option<std::process::Child>);

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The installed audit service: through its unit where systemd runs, else started by hand as
/// root. Returns once its socket accepts.
pub fn start_service() -> Service {
    if Path::new("/run/systemd/system").exists() {
        ok(Command::new("systemctl").args(["is-active", "prodguard.socket"]));
        return Service(None);
    }
    let child = Command::new(BIN)
        .arg("daemon")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prodguard daemon");
    let service = Service(Some(child));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(SOCKET).is_err() {
        assert!(Instant::now() < deadline, "the audit service did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    service
}

/// Mode (with the setuid/setgid/sticky bits), owner and group of `path`.
pub fn mode_owner(path: &str) -> (u32, String, String) {
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let user = nix::unistd::User::from_uid(m.uid().into())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| m.uid().to_string());
    let group = nix::unistd::Group::from_gid(m.gid().into())
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_else(|| m.gid().to_string());
    (m.mode() & 0o7777, user, group)
}

/// Build the .deb into `out` as a release would (`cargo deb`); its path.
pub fn build_deb(out: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // cargo deb builds the prodguard package only; the sudo plugin is an asset of it.
    ok(Command::new(&cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "prodguard-sudo-approval",
        ]));
    ok(Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["deb", "--locked", "--output"])
        .arg(out));
    std::fs::read_dir(out)
        .expect("output dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb")
}
