//! A throw-away install of prodguard: the built binary copied under /tmp with its
//! `prodguard-paths.toml` naming a host description, a policy directory and an audit log of its
//! own (the machine's /etc/prodguard is never read nor written), a data directory a site pack
//! protects, and, for the sshd tests, a user whose login shell is that binary.

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub const HOST_SHORT: &str = "db1";

/// Whether the tests that change the machine (users, sshd) may run: as root only. Says why not
/// (under `CI=true`: fails).
pub fn root_or_skip(what: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        crate::support::skip(&format!(
            "{what}: needs root (creates a user and starts sshd); CI runs as root"
        ));
        false
    }
}

/// Whether `program` exists; says the test is skipped when not (under `CI=true`: fails).
pub fn have(program: &str, what: &str) -> bool {
    let found = if program.starts_with('/') {
        Path::new(program).exists()
    } else {
        Command::new("sh")
            .args(["-c", &format!("command -v {program} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !found {
        crate::support::skip(&format!(
            "{what}: {program} is not installed (scripts/test installs it)"
        ));
    }
    found
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn mkdir(path: &Path, mode: u32) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    chmod(path, mode);
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    chmod(path, mode);
}

pub struct Install {
    pub root: tempfile::TempDir,
    pub bin: PathBuf,
    pub policy_dir: PathBuf,
    pub audit_file: PathBuf,
    /// Protected by the site pack: a recursive delete of it needs the host name typed.
    pub data_dir: PathBuf,
    /// Scratch space for marker files, writable by everyone (sticky).
    pub scratch: PathBuf,
}

impl Install {
    /// An install whose real shell is `shell` (`/bin/bash`, `/bin/zsh`).
    pub fn new(shell: &str) -> Install {
        let root = tempfile::Builder::new()
            .prefix("prodguard-e2e-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        chmod(root.path(), 0o755);
        let r = root.path();
        let bindir = r.join("bin");
        mkdir(&bindir, 0o755);
        let bin = bindir.join("prodguard");
        std::fs::copy(env!("CARGO_BIN_EXE_prodguard"), &bin).expect("copy the binary");
        chmod(&bin, 0o755);
        let etc = r.join("etc");
        let policy_dir = etc.join("policies.d");
        mkdir(&policy_dir, 0o755);
        let host_file = etc.join("host.toml");
        write(
            &host_file,
            &format!(
                "hostname = \"{HOST_SHORT}.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\nshell = \"{shell}\"\n[audit]\nsyslog = \"none\"\n"
            ),
            0o644,
        );
        let log = r.join("log");
        mkdir(&log, 0o1777);
        let audit_file = log.join("audit.jsonl");
        let data_dir = r.join("var/lib/testdb");
        mkdir(&data_dir, 0o755);
        write(&data_dir.join("PG_VERSION"), "15\n", 0o644);
        let scratch = r.join("scratch");
        mkdir(&scratch, 0o1777);
        write(
            &policy_dir.join("10-e2e.toml"),
            &format!(
                r#"[pack]
name = "e2e"
description = "The test's data directory"

[[rule]]
id = "e2e.rm-data-dir"
severity = "critical"
action = "confirm"
confirm = "hostname"
match = {{ program = ["rm"], target = ["{d}", "{d}/**"] }}
message = "Delete in the test database directory on {{host}}: {{target}}"
why = "It is the only copy of the test's data."
"#,
                d = data_dir.display()
            ),
            0o644,
        );
        write(
            &bindir.join("prodguard-paths.toml"),
            &format!(
                "host_file = \"{}\"\npolicy_dir = \"{}\"\naudit_file = \"{}\"\n",
                host_file.display(),
                policy_dir.display(),
                audit_file.display()
            ),
            0o644,
        );
        Install {
            bin,
            policy_dir,
            audit_file,
            data_dir,
            scratch,
            root,
        }
    }

    /// Give the data directory to `uid`, so that only the guard stands between it and `rm`.
    pub fn give_data_to(&self, uid: u32, gid: u32) {
        // The directory above too: deleting a directory is a write to its parent.
        let parent = self.data_dir.parent().expect("parent");
        chown(parent, Some(uid), Some(gid)).expect("chown data dir parent");
        chown(&self.data_dir, Some(uid), Some(gid)).expect("chown data dir");
        chown(self.data_dir.join("PG_VERSION"), Some(uid), Some(gid)).expect("chown data");
    }

    /// Add a site pack that does not parse: the strict fallback must come into force.
    pub fn break_policy(&self) {
        write(
            &self.policy_dir.join("20-broken.toml"),
            "[[rule]]\nid = \"broken\nseverity = \"critical\"\n",
            0o644,
        );
    }

    pub fn audit(&self) -> String {
        std::fs::read_to_string(&self.audit_file).unwrap_or_default()
    }

    pub fn home(&self, name: &str) -> PathBuf {
        self.root.path().join("home").join(name)
    }
}

/// Serialises useradd/userdel of this process: they lock /etc/passwd and fail when it is busy.
static USERS: Mutex<()> = Mutex::new(());
static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A user whose login shell is the install's binary; removed on drop.
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

fn retry(args: &[&str], program: &str) -> std::process::Output {
    let _lock = USERS.lock().unwrap_or_else(|e| e.into_inner());
    let mut last = None;
    for _ in 0..20 {
        let out = Command::new(program).args(args).output().expect(program);
        if out.status.success() {
            return out;
        }
        last = Some(out);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    last.expect("ran")
}

impl User {
    pub fn create(install: &Install) -> User {
        User::with_shell(&install.bin, &install.root.path().join("home"))
    }

    /// A user whose login shell is `shell` (the install's copy, or the packaged
    /// `/usr/bin/prodguard`), with a home directory in `homes`.
    pub fn with_shell(shell: &Path, homes: &Path) -> User {
        let name = format!(
            "pge{}x{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let home = homes.join(&name);
        mkdir(homes, 0o755);
        // Left over from an earlier run that was killed: remove it first.
        if Command::new("id")
            .arg(&name)
            .output()
            .is_ok_and(|o| o.status.success())
        {
            retry(&[&name], "userdel");
        }
        let bin = shell.to_str().expect("utf-8 path");
        let home_s = home.to_str().expect("utf-8 path");
        // `*`: no password, but not locked (sshd without PAM refuses a locked account).
        let out = retry(
            &[
                "--no-create-home",
                "--home-dir",
                home_s,
                "--shell",
                bin,
                "--user-group",
                "--password",
                "*",
                &name,
            ],
            "useradd",
        );
        assert!(
            out.status.success(),
            "useradd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = |flag: &str| -> u32 {
            let o = Command::new("id").args([flag, &name]).output().expect("id");
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .expect("numeric id")
        };
        let user = User {
            uid: id("-u"),
            gid: id("-g"),
            name,
            home,
        };
        mkdir(&user.home.join(".ssh"), 0o700);
        chown(&user.home, Some(user.uid), Some(user.gid)).expect("chown home");
        chown(user.home.join(".ssh"), Some(user.uid), Some(user.gid)).expect("chown .ssh");
        user
    }

    /// Write a file in the home directory, owned by the user.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.home.join(rel);
        write(&path, text, 0o644);
        chown(&path, Some(self.uid), Some(self.gid)).expect("chown");
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let out = retry(&[&self.name], "userdel");
        if !out.status.success() {
            eprintln!(
                "warning: userdel {} failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A random file of `len` bytes.
pub fn random_file(path: &Path, len: usize) {
    let mut f = std::fs::File::open("/dev/urandom").expect("urandom");
    let mut buf = vec![0u8; len];
    std::io::Read::read_exact(&mut f, &mut buf).expect("random bytes");
    std::fs::write(path, &buf).expect("write random file");
}

pub fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
