//! Which process a login session id belongs to, so that the service can say whether a record's
//! `session` is the caller's own or only a claim.
//!
//! The session id comes from the client (`PRODGUARD_SESSION`, set by the login and inherited by
//! everything the login starts). The first record that names an id not yet known makes the
//! calling process that id's holder: its uid, pid and the pid's start time (so that a reused pid
//! is not the holder), and the kernel session (`setsid`) it is in with its leader's start time.
//! A later record naming the id is *confirmed* when the caller has the holder's uid or is root
//! (sudo and its approval plugin, run from the session's shell), and either the holder is still
//! running and is the caller or one of its parents, or the caller is in the holder's kernel
//! session and that session's leader still runs (a job the shell put in the background with
//! `( cmd & )` has left the process tree, not the session). Anything else (the holder and its
//! session are gone, the caller left both with `setsid`, another user) leaves `session` in the
//! record's `advisory` list.
//!
//! What this proves: a confirmed record came from the process tree of the first process that
//! named the session while this service ran. A record cannot be slipped into another user's
//! live session. What it does not: the holders live in the service's memory, so after a restart
//! the sessions already running are advisory until they end, and a process that left its
//! kernel session (`setsid`, a tmux or screen server) is advisory too.

#![forbid(unsafe_code)]

use super::peer::{Peer, Proc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Most session ids remembered. When full, ids whose holder has exited are forgotten first;
/// when every holder still runs, a new id is not remembered (its records stay advisory).
pub const MAX_SESSIONS: usize = 65_536;

/// Most live sessions one uid may hold, so that one user cannot fill the table for everyone.
pub const MAX_PER_UID: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Holder {
    uid: u32,
    pid: u32,
    start: u64,
    /// The holder's kernel session: its leader's pid and start time.
    leader: Option<(u32, u64)>,
}

impl Holder {
    /// Whether the holder process still runs.
    fn alive(&self, proc: &Proc) -> bool {
        proc.start_time(self.pid) == Some(self.start)
    }

    /// Whether `peer` runs under the holder or in its kernel session.
    fn covers(&self, peer: &Peer, proc: &Proc) -> bool {
        if peer.uid != self.uid && peer.uid != 0 {
            return false;
        }
        if proc.has_ancestor(peer.pid, self.pid, self.start) {
            return true;
        }
        self.leader.is_some_and(|(sid, start)| {
            proc.kernel_session(peer.pid) == Some(sid) && proc.start_time(sid) == Some(start)
        })
    }
}

/// The session holders this service has seen.
#[derive(Debug, Default)]
pub struct Sessions {
    held: Mutex<HashMap<String, Holder>>,
}

/// What the service concluded about one record's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The caller is the session's holder, or runs under it.
    Confirmed,
    /// It cannot be shown that the caller belongs to the session.
    Claimed,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Holder>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the record that `peer` sends naming `session` belongs to that session; the first
    /// caller to name an id becomes its holder.
    pub fn judge(&self, session: &str, peer: &Peer, proc: &Proc) -> Standing {
        if session.is_empty() {
            return Standing::Claimed;
        }
        let known = self.lock().get(session).copied();
        match known {
            Some(h) if h.covers(peer, proc) => Standing::Confirmed,
            Some(_) => Standing::Claimed,
            None => self.claim(session, peer, proc),
        }
    }

    fn claim(&self, session: &str, peer: &Peer, proc: &Proc) -> Standing {
        let Some(start) = proc.start_time(peer.pid) else {
            return Standing::Claimed;
        };
        let leader = proc
            .kernel_session(peer.pid)
            .and_then(|sid| Some((sid, proc.start_time(sid)?)));
        let holder = Holder {
            uid: peer.uid,
            pid: peer.pid,
            start,
            leader,
        };
        let alive = |h: &Holder| h.alive(proc);
        let mut map = self.lock();
        if let Some(h) = map.get(session) {
            // Another connection named it first, just now.
            return if *h == holder {
                Standing::Confirmed
            } else {
                Standing::Claimed
            };
        }
        let mine = map.values().filter(|h| h.uid == peer.uid).count();
        if mine >= MAX_PER_UID {
            map.retain(|_, h| h.uid != peer.uid || alive(h));
            if map.values().filter(|h| h.uid == peer.uid).count() >= MAX_PER_UID {
                return Standing::Claimed;
            }
        }
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, h| alive(h));
            if map.len() >= MAX_SESSIONS {
                return Standing::Claimed;
            }
        }
        map.insert(session.to_string(), holder);
        Standing::Confirmed
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn write(root: &Path, pid: u32, ppid: u32, start: u64) {
        write_in(root, pid, ppid, pid, start);
    }

    /// A process `pid` whose parent is `ppid`, in the kernel session led by `sid`.
    fn write_in(root: &Path, pid: u32, ppid: u32, sid: u32, start: u64) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let stat = format!(
            "{pid} (bash) S {ppid} {pid} {sid} 34816 {pid} 4194304 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0"
        );
        std::fs::write(dir.join("stat"), stat).unwrap_or_else(|e| panic!("{e}"));
    }

    fn peer(uid: u32, pid: u32) -> Peer {
        Peer { uid, gid: uid, pid }
    }

    /// login 100 (uid 1000) → shell 101 → check 102; root's sudo 103 under the shell; another
    /// user's process 200 outside it.
    fn tree() -> (tempfile::TempDir, Proc) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), 100, 1, 5000);
        write_in(dir.path(), 101, 100, 100, 5001);
        write_in(dir.path(), 102, 101, 100, 5002);
        write_in(dir.path(), 103, 101, 100, 5003);
        write(dir.path(), 200, 1, 6000);
        let proc = Proc::at(dir.path());
        (dir, proc)
    }

    #[test]
    fn the_first_caller_holds_the_session_and_its_descendants_are_in_it() {
        let (_d, proc) = tree();
        let s = Sessions::default();
        assert_eq!(s.judge("abc", &peer(1000, 100), &proc), Standing::Confirmed);
        assert_eq!(s.judge("abc", &peer(1000, 102), &proc), Standing::Confirmed);
        assert_eq!(s.judge("abc", &peer(0, 103), &proc), Standing::Confirmed);
        assert_eq!(s.judge("abc", &peer(1000, 100), &proc), Standing::Confirmed);
    }

    #[test]
    fn a_job_that_left_the_tree_but_not_the_kernel_session_is_in_it() {
        let (dir, proc) = tree();
        let s = Sessions::default();
        assert_eq!(s.judge("abc", &peer(1000, 100), &proc), Standing::Confirmed);
        // `( cmd & )`: reparented to init, still in session 100.
        write_in(dir.path(), 150, 1, 100, 5100);
        assert_eq!(s.judge("abc", &peer(1000, 150), &proc), Standing::Confirmed);
        // `setsid cmd`: out of both.
        write_in(dir.path(), 151, 1, 151, 5101);
        assert_eq!(s.judge("abc", &peer(1000, 151), &proc), Standing::Claimed);
        // The leader gone and its pid reused: the session is gone too.
        write(dir.path(), 100, 1, 9999);
        assert_eq!(s.judge("abc", &peer(1000, 150), &proc), Standing::Claimed);
    }

    #[test]
    fn outsiders_other_users_and_a_reused_pid_only_claim_it() {
        let (dir, proc) = tree();
        let s = Sessions::default();
        assert_eq!(s.judge("abc", &peer(1000, 100), &proc), Standing::Confirmed);
        assert_eq!(s.judge("abc", &peer(1001, 200), &proc), Standing::Claimed);
        assert_eq!(s.judge("abc", &peer(1000, 200), &proc), Standing::Claimed);
        // Another user inside the tree (a setuid helper that is not root).
        assert_eq!(s.judge("abc", &peer(1001, 102), &proc), Standing::Claimed);
        // The login exits and its pid is reused: the old holder is gone.
        write(dir.path(), 100, 1, 9999);
        assert_eq!(s.judge("abc", &peer(1000, 102), &proc), Standing::Claimed);
        assert_eq!(s.judge("abc", &peer(1000, 100), &proc), Standing::Claimed);
        assert_eq!(s.judge("", &peer(1000, 100), &proc), Standing::Claimed);
    }

    #[test]
    fn one_user_cannot_fill_the_table() {
        let (dir, proc) = tree();
        let s = Sessions::default();
        for i in 0..MAX_PER_UID {
            assert_eq!(
                s.judge(&format!("s{i}"), &peer(1001, 200), &proc),
                Standing::Confirmed
            );
        }
        assert_eq!(
            s.judge("one-more", &peer(1001, 200), &proc),
            Standing::Claimed
        );
        assert_eq!(
            s.judge("mine", &peer(1000, 100), &proc),
            Standing::Confirmed
        );
        // Once the holder exits its ids can be forgotten to make room.
        std::fs::remove_dir_all(dir.path().join("200")).unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), 201, 1, 6001);
        assert_eq!(
            s.judge("later", &peer(1001, 201), &proc),
            Standing::Confirmed
        );
        assert_eq!(s.len(), 2, "the exited holder's ids are forgotten");
    }
}
