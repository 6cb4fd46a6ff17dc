//! Who is calling: the kernel's word (`SO_PEERCRED`) and what `/proc` says about that process,
//! never what the request claims.
//!
//! From the kernel: uid, gid and pid of the process that connected. From `/proc/PID`: the audit
//! login uid (`loginuid`, set by pam_loginuid and not changeable by the user), the controlling
//! terminal (`stat` field 7), the working directory, and the SSH client address, read from the
//! TCP socket that the session's sshd holds (found by walking the parent chain to a root-run
//! sshd and looking its socket inodes up in `net/tcp`). What cannot be found this way is kept as
//! the client sent it and named in the record's `advisory` list.

#![forbid(unsafe_code)]

use crate::audit::Record;
use crate::subject::user_name;
use crate::subject::Origin;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// The kernel's account of the connecting process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
}

/// `SO_PEERCRED` of a connected Unix stream socket.
pub fn credentials(stream: &UnixStream) -> std::io::Result<Peer> {
    let c = nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)?;
    Ok(Peer {
        uid: c.uid(),
        gid: c.gid(),
        pid: u32::try_from(c.pid()).unwrap_or(0),
    })
}

/// What `/proc` says about a process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The audit login uid, when pam_loginuid set one.
    pub loginuid: Option<u32>,
    /// Whether the process could be read at all (it may have exited).
    pub readable: bool,
    /// The controlling terminal (`/dev/pts/3`), `None` when it has none.
    pub tty: Option<String>,
    /// The working directory.
    pub cwd: Option<String>,
    /// The SSH client `address:port` of the session's sshd, when found.
    pub ssh_client: Option<String>,
    /// Whether the record's `session` is the caller's own ([`super::sessions`]); set by the
    /// server, not read from `/proc` here.
    pub session_confirmed: bool,
}

/// Reads `/proc` (or a stand-in tree, for tests).
#[derive(Debug, Clone)]
pub struct Proc {
    root: PathBuf,
}

impl Default for Proc {
    fn default() -> Self {
        Proc {
            root: PathBuf::from("/proc"),
        }
    }
}

/// Programs whose process is an SSH server session.
const SSHD_NAMES: &[&str] = &["sshd", "sshd-session"];

/// How many parents are walked looking for the session's sshd.
const MAX_ANCESTORS: usize = 64;

impl Proc {
    /// A reader of the tree at `root` instead of `/proc`.
    pub fn at(root: &Path) -> Proc {
        Proc {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, pid: u32, name: &str) -> PathBuf {
        self.root.join(pid.to_string()).join(name)
    }

    /// Everything this module reads about `pid`, the SSH lookup included.
    pub fn facts(&self, pid: u32) -> Facts {
        let stat = std::fs::read_to_string(self.path(pid, "stat")).ok();
        let stat = stat.as_deref().and_then(Stat::parse);
        Facts {
            readable: stat.is_some(),
            loginuid: std::fs::read_to_string(self.path(pid, "loginuid"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .filter(|&u| u != u32::MAX),
            tty: stat.as_ref().and_then(|s| tty_name(s.tty_nr)),
            cwd: std::fs::read_link(self.path(pid, "cwd"))
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
            ssh_client: stat.and_then(|s| self.ssh_client(s.ppid)),
            session_confirmed: false,
        }
    }

    /// The SSH client address of the nearest sshd above `pid` (starting at `pid` itself) that
    /// runs as root or whose parent does, from the same root-owned program file.
    pub fn ssh_client(&self, pid: u32) -> Option<String> {
        match self.walk(pid) {
            Walk::Sshd { pid, ppid } => self.trusted_sshd_client(pid, ppid),
            Walk::Init | Walk::Lost => None,
        }
    }

    /// Where the session of `pid` comes from, for policy `ssh` conditions:
    /// - `Ssh` when a root-run sshd above it (or, when it left its parents, one of its audit
    ///   session) holds an established TCP connection: the client's address;
    /// - `Local` when its parents reach init with no sshd on the way and no sshd shares its
    ///   audit session;
    /// - `Unknown` when it cannot be told: the process is gone, a parent cannot be read, the
    ///   sshd above it is not the system's, or it holds no connection.
    pub fn origin(&self, pid: u32) -> Origin {
        let found = match self.walk(pid) {
            Walk::Sshd { pid, ppid } => self.trusted_sshd_client(pid, ppid),
            Walk::Lost => return Origin::Unknown,
            Walk::Init => match self.session_sshd(pid) {
                Session::None => return Origin::Local,
                Session::Unreadable => return Origin::Unknown,
                Session::Sshd(pid, ppid) => self.trusted_sshd_client(pid, ppid),
            },
        };
        found
            .as_deref()
            .and_then(crate::subject::parse_addr)
            .map_or(Origin::Unknown, Origin::Ssh)
    }

    fn walk(&self, mut pid: u32) -> Walk {
        for _ in 0..MAX_ANCESTORS {
            if pid <= 1 {
                return Walk::Init;
            }
            let Some(stat) = std::fs::read_to_string(self.path(pid, "stat"))
                .ok()
                .as_deref()
                .and_then(Stat::parse)
            else {
                return Walk::Lost;
            };
            if SSHD_NAMES.contains(&stat.comm.as_str()) {
                return Walk::Sshd {
                    pid,
                    ppid: stat.ppid,
                };
            }
            pid = stat.ppid;
        }
        Walk::Lost
    }

    /// An sshd in the audit session of `pid` (pam_loginuid gives the session's sshd and every
    /// process under it the same `sessionid`, which the user cannot change): a process that
    /// left its parents (double fork, `setsid`) is still found to come from SSH.
    fn session_sshd(&self, pid: u32) -> Session {
        let session = |p: u32| -> Option<u32> {
            std::fs::read_to_string(self.path(p, "sessionid"))
                .ok()?
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|&s| s != u32::MAX)
        };
        let Some(mine) = session(pid) else {
            return Session::None;
        };
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Session::Unreadable;
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&p| p > 1 && p != pid && session(p) == Some(mine))
            .find_map(|p| {
                let stat = Stat::parse(&std::fs::read_to_string(self.path(p, "stat")).ok()?)?;
                SSHD_NAMES
                    .contains(&stat.comm.as_str())
                    .then_some(Session::Sshd(p, stat.ppid))
            })
            .unwrap_or(Session::None)
    }

    fn trusted_sshd_client(&self, sshd: u32, parent: u32) -> Option<String> {
        let exe = std::fs::read_link(self.path(sshd, "exe")).ok()?;
        let meta = std::fs::metadata(&exe).ok()?;
        if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
            return None;
        }
        let same_exe = |p: u32| std::fs::read_link(self.path(p, "exe")).ok().as_ref() == Some(&exe);
        let root_run = [sshd, parent]
            .into_iter()
            .any(|p| p > 1 && same_exe(p) && self.real_uid(p) == Some(0));
        if !root_run {
            return None;
        }
        [sshd, parent]
            .into_iter()
            .filter(|&p| p > 1 && same_exe(p))
            .find_map(|p| self.tcp_peer(p))
    }

    /// When `pid` started (clock ticks since boot), `None` when it cannot be read.
    pub fn start_time(&self, pid: u32) -> Option<u64> {
        Stat::parse(&std::fs::read_to_string(self.path(pid, "stat")).ok()?)?.start
    }

    /// The kernel session (`setsid`) `pid` is in: its leader's pid, `None` when unreadable.
    pub fn kernel_session(&self, pid: u32) -> Option<u32> {
        Stat::parse(&std::fs::read_to_string(self.path(pid, "stat")).ok()?)?
            .sid
            .filter(|&s| s > 0)
    }

    /// Whether the process `ancestor`, started at `start`, is `pid` itself or one of its
    /// parents, walking the `ppid` chain (at most [`MAX_ANCESTORS`] steps).
    pub fn has_ancestor(&self, mut pid: u32, ancestor: u32, start: u64) -> bool {
        for _ in 0..MAX_ANCESTORS {
            if pid == 0 {
                return false;
            }
            let Some(stat) = std::fs::read_to_string(self.path(pid, "stat"))
                .ok()
                .and_then(|t| Stat::parse(&t))
            else {
                return false;
            };
            if pid == ancestor {
                return stat.start == Some(start);
            }
            if pid == 1 {
                return false;
            }
            pid = stat.ppid;
        }
        false
    }

    fn real_uid(&self, pid: u32) -> Option<u32> {
        let status = std::fs::read_to_string(self.path(pid, "status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// The remote end of the first established TCP connection among `pid`'s descriptors.
    fn tcp_peer(&self, pid: u32) -> Option<String> {
        let inodes: Vec<u64> = std::fs::read_dir(self.path(pid, "fd"))
            .ok()?
            .flatten()
            .filter_map(|e| {
                let target = std::fs::read_link(e.path()).ok()?;
                let t = target.to_str()?;
                t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
            })
            .collect();
        if inodes.is_empty() {
            return None;
        }
        ["net/tcp", "net/tcp6"].into_iter().find_map(|table| {
            let text = std::fs::read_to_string(self.path(pid, table)).ok()?;
            tcp_remote(&text, &inodes)
        })
    }
}

/// Where walking up the parents of a process ended.
enum Walk {
    /// At an sshd (its pid and parent's pid).
    Sshd { pid: u32, ppid: u32 },
    /// At init, with no sshd on the way.
    Init,
    /// At a process that cannot be read, or too far up.
    Lost,
}

/// An sshd of a process's audit session.
enum Session {
    /// None: no audit session, or no sshd in it.
    None,
    /// The process table cannot be listed.
    Unreadable,
    /// This one (its pid and parent's pid).
    Sshd(u32, u32),
}

/// The fields of `/proc/PID/stat` used here.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    comm: String,
    ppid: u32,
    /// The kernel session id (field 6): the pid of the session's leader.
    sid: Option<u32>,
    tty_nr: u64,
    /// When the process started, in clock ticks since boot (field 22): with the pid, it names
    /// one process, not whichever process has the pid now.
    start: Option<u64>,
}

impl Stat {
    /// `pid (comm) state ppid pgrp session tty_nr …`; the name may hold spaces and `)`.
    fn parse(text: &str) -> Option<Stat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let comm = text.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        Some(Stat {
            comm,
            ppid: rest.get(1)?.parse().ok()?,
            sid: rest.get(3).and_then(|v| v.parse().ok()),
            tty_nr: rest
                .get(4)?
                .parse::<i64>()
                .ok()
                .and_then(|v| u64::try_from(v).ok())?,
            start: rest.get(19).and_then(|v| v.parse().ok()),
        })
    }
}

/// The device name of a `tty_nr` (`/dev/pts/N`, `/dev/ttyN`, `/dev/ttySN`); `None` for none.
fn tty_name(tty_nr: u64) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("/dev/pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("/dev/tty{minor}"),
        4 => format!("/dev/ttyS{}", minor - 64),
        5 if minor == 0 => "/dev/tty".to_string(),
        _ => format!("tty({major}:{minor})"),
    })
}

/// In a `net/tcp` or `net/tcp6` table, the remote `address:port` of the first established
/// connection whose socket inode is one of `inodes`.
fn tcp_remote(table: &str, inodes: &[u64]) -> Option<String> {
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(rem), Some(state), Some(inode)) = (f.get(2), f.get(3), f.get(9)) else {
            continue;
        };
        if *state != "01" || !inode.parse::<u64>().is_ok_and(|i| inodes.contains(&i)) {
            continue;
        }
        let (addr, port) = rem.split_once(':')?;
        let port = u16::from_str_radix(port, 16).ok()?;
        let ip = decode_ip(addr)?;
        return Some(match ip {
            std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => format!("{v4}:{port}"),
                None => format!("[{v6}]:{port}"),
            },
        });
    }
    None
}

/// The kernel prints addresses as 32-bit words in host order (`%08X` each).
fn decode_ip(hex_text: &str) -> Option<std::net::IpAddr> {
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(hex_text.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    match hex_text.len() {
        8 => Some(std::net::Ipv4Addr::from(word(0)?).into()),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(std::net::Ipv6Addr::from(b).into())
        }
        _ => None,
    }
}

/// Put the kernel's identity into `rec`, replacing what the client wrote: uid, user, pid from
/// the peer credentials; login user, terminal, working directory and SSH client from `facts`.
/// A field the client set that the kernel could not confirm is kept and named in `advisory`;
/// `session` is the client's, and advisory unless `facts` says it was confirmed.
pub fn stamp(rec: &mut Record, peer: &Peer, facts: &Facts) {
    let mut advisory = Vec::new();
    if !facts.session_confirmed {
        advisory.push("session".to_string());
    }
    rec.uid = peer.uid;
    rec.user = user_name(peer.uid);
    rec.pid = peer.pid;
    match facts.loginuid {
        Some(l) => rec.login_user = Some(user_name(l)).filter(|n| *n != rec.user),
        None if rec.login_user.is_some() => advisory.push("login_user".into()),
        None => {}
    }
    if facts.readable {
        rec.tty = facts.tty.clone().or_else(|| {
            // No controlling terminal: a terminal the client names is kept, unconfirmed.
            if rec.tty.is_some() {
                advisory.push("tty".into());
            }
            rec.tty.take()
        });
        if facts.cwd.is_some() {
            rec.cwd = facts.cwd.clone();
        }
    } else {
        for (name, set) in [("tty", rec.tty.is_some()), ("cwd", rec.cwd.is_some())] {
            if set {
                advisory.push(name.into());
            }
        }
    }
    match &facts.ssh_client {
        Some(c) => rec.ssh_client = Some(c.clone()),
        None if rec.ssh_client.is_some() => advisory.push("ssh_client".into()),
        None => {}
    }
    rec.advisory = advisory;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Event;
    use crate::host::HostContext;
    use std::os::unix::fs::symlink;

    #[test]
    fn stat_names_may_hold_spaces_and_parens() {
        let s =
            Stat::parse("4242 (a b) c) S 17 4242 4242 34816 4242 4194304").unwrap_or_else(|| {
                panic!("parse");
            });
        assert_eq!(s.comm, "a b) c");
        assert_eq!(s.ppid, 17);
        assert_eq!(tty_name(s.tty_nr).as_deref(), Some("/dev/pts/0"));
        assert_eq!(tty_name(34817 + 256).as_deref(), Some("/dev/pts/257"));
        assert_eq!(tty_name(1025).as_deref(), Some("/dev/tty1"));
        assert_eq!(tty_name(0), None);
    }

    #[test]
    fn tcp_tables_give_the_remote_end_of_the_socket() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0016 0500000A:CBB0 01 00000000:00000000 00:00000000 00000000     0        0 777 1\n   1: 0100007F:0016 0600000A:CBB1 0A 00000000:00000000 00:00000000 00000000     0        0 778 1\n";
        assert_eq!(tcp_remote(v4, &[777]).as_deref(), Some("10.0.0.5:52144"));
        assert_eq!(tcp_remote(v4, &[778]), None, "listening, not established");
        assert_eq!(tcp_remote(v4, &[1]), None);
        let v6 = "head\n 0: 00000000000000000000000001000000:0016 B80D0120000000000000000001000000:CBB0 01 0:0 0:0 0 0 0 900 1\n";
        assert_eq!(
            tcp_remote(v6, &[900]).as_deref(),
            Some("[2001:db8::1]:52144")
        );
    }

    fn write(p: &Path, text: &str) {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A stand-in /proc: 300 (bash) ← 200 (sshd, the user's) ← 100 (sshd, root), the TCP
    /// socket held by 200.
    fn fake_proc(sshd_uid: u32, comm_of_200: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = d.path();
        let exe = "/bin/sh"; // a root-owned program file that exists
        for (pid, comm, ppid, uid) in [
            (300, "bash", 200, 1000),
            (200, comm_of_200, 100, 1000),
            (100, "sshd", 1, sshd_uid),
        ] {
            write(
                &r.join(format!("{pid}/stat")),
                &format!("{pid} ({comm}) S {ppid} 1 1 34816 1 0"),
            );
            write(
                &r.join(format!("{pid}/status")),
                &format!("Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
            );
            std::fs::create_dir_all(r.join(format!("{pid}/fd"))).unwrap_or_else(|e| panic!("{e}"));
            if pid != 300 {
                symlink(exe, r.join(format!("{pid}/exe"))).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        symlink("socket:[4711]", r.join("200/fd/3")).unwrap_or_else(|e| panic!("{e}"));
        symlink("/dev/null", r.join("200/fd/0")).unwrap_or_else(|e| panic!("{e}"));
        write(
            &r.join("200/net/tcp"),
            "hdr\n 0: 0100007F:0016 0500000A:CBB0 01 0:0 0:0 0 0 0 4711 1\n",
        );
        write(&r.join("300/loginuid"), "1000\n");
        d
    }

    #[test]
    fn the_ssh_client_comes_from_a_root_run_sshd_above_the_caller() {
        let d = fake_proc(0, "sshd");
        let f = Proc::at(d.path()).facts(300);
        assert!(f.readable);
        assert_eq!(f.ssh_client.as_deref(), Some("10.0.0.5:52144"));
        assert_eq!(f.tty.as_deref(), Some("/dev/pts/0"));
        assert_eq!(f.loginuid, Some(1000));
    }

    #[test]
    fn the_origin_is_the_sshd_client_local_or_unknown() {
        let ip = |t: &str| Origin::Ssh(t.parse().unwrap_or_else(|e| panic!("{e}")));
        let d = fake_proc(0, "sshd");
        let p = Proc::at(d.path());
        assert_eq!(p.origin(300), ip("10.0.0.5"));
        // A user-run sshd above the caller: not believed, and not taken for local either.
        let fake = fake_proc(1000, "sshd");
        assert_eq!(Proc::at(fake.path()).origin(300), Origin::Unknown);
        // A process that cannot be read (gone) is of unknown origin.
        assert_eq!(p.origin(999), Origin::Unknown);
        // A process whose parents reach init with no sshd is local...
        let r = d.path();
        write(&r.join("400/stat"), "400 (cron) S 1 1 1 0 1 0");
        assert_eq!(p.origin(400), Origin::Local);
        // ...unless its audit session is an SSH session: a process that left its parents is
        // still found to come from the sshd of its session.
        write(&r.join("400/sessionid"), "7\n");
        write(&r.join("100/sessionid"), "8\n");
        write(&r.join("200/sessionid"), "7\n");
        assert_eq!(p.origin(400), ip("10.0.0.5"));
        write(&r.join("200/sessionid"), "4294967295\n");
        assert_eq!(p.origin(400), Origin::Local);
        // A parent that cannot be read on the way up: unknown.
        write(&r.join("500/stat"), "500 (bash) S 444 1 1 0 1 0");
        assert_eq!(p.origin(500), Origin::Unknown);
    }

    #[test]
    fn an_sshd_the_user_runs_is_not_believed() {
        let d = fake_proc(1000, "sshd");
        assert_eq!(Proc::at(d.path()).facts(300).ssh_client, None);
        let d = fake_proc(0, "bash");
        // 200 is not sshd; 100 is, and holds no TCP socket.
        assert_eq!(Proc::at(d.path()).facts(300).ssh_client, None);
    }

    #[test]
    fn stamping_replaces_identity_and_marks_what_is_unconfirmed() {
        let me = nix::unistd::getuid().as_raw();
        let mut rec = Record::new(Event::Command, &HostContext::unknown(), "mallory".into(), 0);
        rec.pid = 1;
        rec.ssh_client = Some("192.0.2.1:22".into());
        rec.tty = Some("/dev/pts/99".into());
        rec.login_user = Some("root".into());
        let peer = Peer {
            uid: me,
            gid: 0,
            pid: 4242,
        };
        let facts = Facts {
            readable: true,
            tty: Some("/dev/pts/1".into()),
            ..Facts::default()
        };
        stamp(&mut rec, &peer, &facts);
        assert_eq!(rec.uid, me);
        assert_eq!(rec.user, user_name(me));
        assert_eq!(rec.pid, 4242);
        assert_eq!(rec.tty.as_deref(), Some("/dev/pts/1"));
        assert_eq!(rec.ssh_client.as_deref(), Some("192.0.2.1:22"));
        assert_eq!(rec.advisory, ["session", "login_user", "ssh_client"]);
        let facts = Facts {
            readable: true,
            loginuid: Some(me),
            tty: Some("/dev/pts/1".into()),
            ssh_client: Some("10.0.0.5:52144".into()),
            ..Facts::default()
        };
        stamp(&mut rec, &peer, &facts);
        assert_eq!(rec.login_user, None, "the login user is the user");
        assert_eq!(rec.ssh_client.as_deref(), Some("10.0.0.5:52144"));
        assert_eq!(rec.advisory, ["session"]);
        let facts = Facts {
            session_confirmed: true,
            ..facts
        };
        stamp(&mut rec, &peer, &facts);
        assert!(rec.advisory.is_empty(), "{:?}", rec.advisory);
    }
}
