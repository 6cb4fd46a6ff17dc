//! A real OpenSSH server on 127.0.0.1, with a private configuration, for a user whose login shell
//! is prodguard. Everything a client can ask of it goes through the login shell: commands, scp,
//! sftp (through sftp-server), rsync, interactive sessions.

use super::common::{self, Install, User};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";
pub const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// Which sftp server sshd runs.
#[derive(Clone, Copy, Debug)]
pub enum Sftp {
    /// `internal-sftp`: inside sshd; the login shell is not started for it.
    Internal,
    /// `/usr/lib/openssh/sftp-server`: started as `$SHELL -c /usr/lib/openssh/sftp-server`.
    Server,
}

pub struct Sshd {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    pub key: PathBuf,
    pub user: String,
}

static NEXT: AtomicU16 = AtomicU16::new(0);

fn free_port() -> u16 {
    let base = 20000 + (std::process::id() % 20000) as u16;
    loop {
        let port = base.wrapping_add(NEXT.fetch_add(1, Ordering::SeqCst) * 7) % 20000 + 20000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "prodguard-e2e", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the sshd tests can run here; says why not.
pub fn available(what: &str) -> bool {
    common::root_or_skip(what)
        && common::have(SSHD, what)
        && common::have("ssh", what)
        && common::have("ssh-keygen", what)
}

impl Sshd {
    pub fn start(user: &User, sftp: Sftp) -> Sshd {
        // The privilege separation directory the Debian package creates at boot.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().expect("temp dir");
        let hostkey = dir.path().join("ssh_host_ed25519_key");
        keygen(&hostkey);
        let key = dir.path().join("id_ed25519");
        keygen(&key);
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
        user.write(".ssh/authorized_keys", &public);
        let subsystem = match sftp {
            Sftp::Internal => "internal-sftp",
            Sftp::Server => SFTP_SERVER,
        };
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "Port {port}\n\
                     ListenAddress 127.0.0.1\n\
                     HostKey {hostkey}\n\
                     PidFile {pid}\n\
                     AuthorizedKeysFile {home}/.ssh/authorized_keys\n\
                     StrictModes no\n\
                     UsePAM no\n\
                     PasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\n\
                     PubkeyAuthentication yes\n\
                     PermitRootLogin no\n\
                     AllowUsers {user}\n\
                     PrintMotd no\n\
                     PrintLastLog no\n\
                     Subsystem sftp {subsystem}\n\
                     LogLevel VERBOSE\n",
                    hostkey = hostkey.display(),
                    pid = dir.path().join("sshd.pid").display(),
                    home = user.home.display(),
                    user = user.name,
                ),
            )
            .expect("sshd_config");
            let log = dir.path().join("sshd.log");
            let check = Command::new(SSHD)
                .arg("-t")
                .arg("-f")
                .arg(&config)
                .output()
                .expect("sshd -t");
            assert!(
                check.status.success(),
                "sshd -t: {}",
                String::from_utf8_lossy(&check.stderr)
            );
            let mut child = Command::new(SSHD)
                .arg("-D")
                .arg("-f")
                .arg(&config)
                .arg("-E")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start sshd");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Sshd {
                        child,
                        port,
                        dir,
                        key,
                        user: user.name.clone(),
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // Port taken between the probe and the bind, or a slow start: try another port.
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("sshd did not start; its log:\n{last_log}");
    }

    /// sshd's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Options every client needs: no config, no known hosts, this key only, no questions.
    pub fn client_opts(&self) -> Vec<String> {
        [
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=10",
            "-i",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([self.key.display().to_string()])
        .collect()
    }

    pub fn dest(&self) -> String {
        format!("{}@127.0.0.1", self.user)
    }

    /// `ssh … user@127.0.0.1 ARGS…`, ready to run.
    pub fn ssh(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.args(self.client_opts())
            .arg("-p")
            .arg(self.port.to_string())
            .arg(self.dest())
            .args(args)
            .env_remove("SSH_AUTH_SOCK");
        c
    }

    /// Run `ssh … CMD` with no terminal and stdin from /dev/null.
    pub fn run(&self, cmd: &str) -> Output {
        self.ssh(&[cmd])
            .stdin(Stdio::null())
            .output()
            .expect("run ssh")
    }

    /// The command line for rsync's `-e`.
    pub fn rsh(&self) -> String {
        let mut words = vec!["ssh".to_string()];
        words.extend(self.client_opts());
        words.push("-p".into());
        words.push(self.port.to_string());
        words.join(" ")
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An install, its user (home owning the data directory) and an sshd for it.
pub struct Host {
    pub sshd: Sshd,
    pub user: User,
    pub install: Install,
}

impl Host {
    pub fn new(sftp: Sftp) -> Host {
        let install = Install::new("/bin/bash");
        let user = User::create(&install);
        install.give_data_to(user.uid, user.gid);
        let sshd = Sshd::start(&user, sftp);
        Host {
            sshd,
            user,
            install,
        }
    }

    /// What to show when an assertion fails: the command's output, sshd's log, the audit log.
    pub fn explain(&self, out: &Output) -> String {
        format!(
            "status {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- sshd log\n{}\n--- audit\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.sshd.log(),
            self.install.audit()
        )
    }
}

/// scp (SFTP and the old protocol), sftp in batch mode and rsync, up to `home` and back: every
/// copy byte-identical. `explain` says what went wrong when a transfer fails.
pub fn transfers(sshd: &Sshd, home: &Path, explain: &dyn Fn(&Output) -> String) {
    let work = tempfile::tempdir().expect("temp dir");
    let original = work.path().join("original.bin");
    common::random_file(&original, 1 << 20);
    let port = sshd.port.to_string();
    let remote = |name: &str| format!("{}:{}", sshd.dest(), home.join(name).display());
    let check = |what: &str, out: std::process::Output| {
        assert!(out.status.success(), "{what} failed: {}", explain(&out));
    };

    // scp: the SFTP protocol (the default since OpenSSH 9), then the old scp protocol (-O),
    // which runs `scp -t` / `scp -f` through the login shell.
    for (flag, name) in [(None, "scp"), (Some("-O"), "scp-legacy")] {
        let up = format!("{name}.bin");
        let back = work.path().join(format!("{name}-back.bin"));
        let mut c = Command::new("scp");
        c.args(sshd.client_opts()).args(["-P", &port]);
        if let Some(f) = flag {
            c.arg(f);
        }
        check(
            name,
            c.arg(&original).arg(remote(&up)).output().expect("scp up"),
        );
        assert!(
            common::same_bytes(&original, &home.join(&up)),
            "{name} upload differs"
        );
        let mut c = Command::new("scp");
        c.args(sshd.client_opts()).args(["-P", &port]);
        if let Some(f) = flag {
            c.arg(f);
        }
        check(
            name,
            c.arg(remote(&up)).arg(&back).output().expect("scp down"),
        );
        assert!(
            common::same_bytes(&original, &back),
            "{name} download differs"
        );
    }

    // sftp in batch mode.
    let back = work.path().join("sftp-back.bin");
    let batch = work.path().join("batch");
    std::fs::write(
        &batch,
        format!(
            "put {} sftp.bin\nget sftp.bin {}\n",
            original.display(),
            back.display()
        ),
    )
    .expect("batch");
    let out = Command::new("sftp")
        .args(sshd.client_opts())
        .args(["-P", &port, "-b"])
        .arg(&batch)
        .arg(sshd.dest())
        .output()
        .expect("sftp");
    check("sftp", out);
    assert!(common::same_bytes(&original, &home.join("sftp.bin")));
    assert!(common::same_bytes(&original, &back));

    // rsync over ssh: `rsync --server …` runs through the login shell.
    if common::have("rsync", "the rsync part of transfers") {
        let back = work.path().join("rsync-back.bin");
        let rsh = sshd.rsh();
        let out = Command::new("rsync")
            .args(["-e", &rsh])
            .arg(&original)
            .arg(remote("rsync.bin"))
            .output()
            .expect("rsync up");
        check("rsync up", out);
        let out = Command::new("rsync")
            .args(["-e", &rsh])
            .arg(remote("rsync.bin"))
            .arg(&back)
            .output()
            .expect("rsync down");
        check("rsync down", out);
        assert!(common::same_bytes(&original, &home.join("rsync.bin")));
        assert!(common::same_bytes(&original, &back));
    }
}
