//! The installed host: host.toml for a production database primary, a scratch data directory it
//! protects, two users whose login shell is the packaged binary (may use sudo), an sshd for each,
//! and the audit log the service writes.

use crate::common::{User, HOST_SHORT};
use crate::deb;
use crate::sshd::{Sftp, Sshd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

pub const HOSTNAME: &str = "db1.example.com";
pub const ROLE: &str = "db-primary";
const HOST_TOML: &str = "/etc/prodguard/host.toml";

/// A user and the sshd that lets only them in.
pub struct Login {
    pub sshd: Sshd,
    pub user: User,
}

pub struct World {
    pub bash: Login,
    pub zsh: Login,
    /// `/var/lib/pgi-e2e-PID/15/main`: what the GitLab line deletes, a scratch copy (the real
    /// `/var/lib/postgresql` of this machine is never touched), protected by host.toml.
    pub data: PathBuf,
    state: PathBuf,
    sudoers: PathBuf,
    _homes: tempfile::TempDir,
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

impl World {
    pub fn new() -> World {
        let pid = std::process::id();
        let state = PathBuf::from(format!("/var/lib/pgi-e2e-{pid}"));
        let data = state.join("15/main");
        let homes = tempfile::Builder::new()
            .prefix("prodguard-installed-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        chmod(homes.path(), 0o755);
        let shell = Path::new(deb::BIN);
        let bash_user = User::with_shell(shell, homes.path());
        let zsh_user = User::with_shell(shell, homes.path());
        // Debian's skeleton: ~/.profile reads ~/.bashrc.
        bash_user.write(
            ".profile",
            "[ -n \"$BASH_VERSION\" ] && [ -r ~/.bashrc ] && . ~/.bashrc\n",
        );
        bash_user.write(
            ".bashrc",
            "PS1='MYPROMPT\\$ '\nalias hello_alias='echo ALIAS-WORKS'\n",
        );
        zsh_user.write(
            ".zshrc",
            "PROMPT='MYPROMPT%# '\nalias hello_alias='echo ALIAS-WORKS'\n",
        );
        let sudoers = PathBuf::from(format!("/etc/sudoers.d/pgi-e2e-{pid}"));
        std::fs::write(
            &sudoers,
            format!(
                "{} ALL=(ALL) NOPASSWD: ALL\n{} ALL=(ALL) NOPASSWD: ALL\n",
                bash_user.name, zsh_user.name
            ),
        )
        .expect("sudoers");
        chmod(&sudoers, 0o440);
        let bash = Login {
            sshd: Sshd::start(&bash_user, Sftp::Server),
            user: bash_user,
        };
        let zsh = Login {
            sshd: Sshd::start(&zsh_user, Sftp::Internal),
            user: zsh_user,
        };
        let world = World {
            bash,
            zsh,
            data,
            state,
            sudoers,
            _homes: homes,
        };
        world.host_toml("/bin/bash");
        world
    }

    /// host.toml as an admin writes it; `shell` is the real shell behind the guard (one for the
    /// whole host).
    pub fn host_toml(&self, shell: &str) {
        std::fs::write(
            HOST_TOML,
            format!(
                "hostname = \"{HOSTNAME}\"\nenvironment = \"production\"\nrole = \"{ROLE}\"\nshell = \"{shell}\"\nprotect = [\"{}\"]\n[audit]\nsyslog = \"none\"\n",
                self.state.display()
            ),
        )
        .expect("host.toml");
    }

    /// Before each step: the bash host.toml, and the data directory as a cluster has it.
    pub fn reset(&self) {
        self.host_toml("/bin/bash");
        std::fs::create_dir_all(&self.data).expect("data dir");
        chmod(&self.state, 0o755);
        std::fs::write(self.data.join("PG_VERSION"), "15\n").expect("PG_VERSION");
    }

    /// Wait (up to 10 s) for the data directory to go; whether it went. sudo relays what is
    /// typed while it runs to the command's terminal (`Defaults use_pty`), so the next line is
    /// typed only once the command is over.
    pub fn data_gone(&self) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.data.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        !self.data.exists()
    }

    pub fn data_intact(&self) -> bool {
        self.data.join("PG_VERSION").exists()
    }

    /// Every record in the installed audit log.
    pub fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(deb::AUDIT_LOG)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The records of `user`.
    pub fn records_of(&self, user: &User) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|r| r["user"] == user.name.as_str())
            .collect()
    }

    /// What to show when an assertion about `out` fails.
    pub fn explain(&self, login: &Login, out: &Output) -> String {
        format!(
            "status {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- sshd log\n{}\n--- audit\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            login.sshd.log(),
            std::fs::read_to_string(deb::AUDIT_LOG).unwrap_or_default()
        )
    }

    /// What the guard asks to be typed for this host.
    pub fn answer(&self) -> &'static str {
        HOST_SHORT
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.sudoers);
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
