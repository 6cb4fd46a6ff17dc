//! The break-glass grants, held by the service: the break-glass operations of the socket
//! ([`crate::audit::grant_wire::GrantOp`]), carried out for the caller the kernel names.
//!
//! A grant belongs to one process: the uid and pid `SO_PEERCRED` gave for the connection that
//! started it, and that pid's start time in `/proc` (so that a pid reused by another process is
//! not the same holder). It covers a caller of the same uid that is that process or one of its
//! descendants (the `ppid` chain in `/proc`), until it expires; root is covered in the grant's
//! session as well (sudo's checker runs as root from the session's shell). Grants live in the service's
//! memory only: a restarted service holds none, so a session started before waives nothing
//! more (fail closed; its shell keeps working).

#![forbid(unsafe_code)]

use super::peer::{Peer, Proc};
use crate::audit::grant_wire::GrantInfo;
use crate::audit::{Event, Outcome, Record};
use crate::subject::user_name;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Most grants one uid may hold at once.
pub const MAX_PER_UID: usize = 16;

/// The shortest break-glass reason accepted, in characters.
pub const MIN_REASON: usize = 10;

/// Longest reason kept, in characters.
const MAX_REASON: usize = 500;

/// One grant in force.
#[derive(Debug, Clone)]
struct Held {
    uid: u32,
    user: String,
    pid: u32,
    start: u64,
    expires: SystemTime,
    reason: String,
    session: String,
}

impl Held {
    fn info(&self, id: &str) -> GrantInfo {
        GrantInfo {
            id: id.to_string(),
            reason: self.reason.clone(),
            expires: crate::audit::record::format_rfc3339_millis(self.expires),
        }
    }
}

/// The grants in force.
#[derive(Debug, Default)]
pub struct Grants {
    held: Mutex<HashMap<String, Held>>,
}

/// A grant just started, and its start record, to be written before it is answered.
#[derive(Debug)]
pub struct Started {
    pub info: GrantInfo,
    pub record: Record,
}

impl Grants {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start a grant for `peer`, lasting `lifetime`, for `reason`. Returns the grant and its
    /// start record (`record` made a `session` event with outcome `break-glass`).
    pub fn start(
        &self,
        peer: &Peer,
        proc: &Proc,
        reason: &str,
        mut record: Record,
        lifetime: Duration,
    ) -> Result<Started, String> {
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_REASON)
            .collect();
        let reason = reason.trim().to_string();
        if reason.chars().count() < MIN_REASON {
            return Err(format!(
                "break-glass needs a reason of at least {MIN_REASON} characters"
            ));
        }
        let start = proc.start_time(peer.pid).ok_or_else(|| {
            format!(
                "the calling process {} cannot be read in /proc, so no grant can be bound to it",
                peer.pid
            )
        })?;
        let now = SystemTime::now();
        let held = Held {
            uid: peer.uid,
            user: user_name(peer.uid),
            pid: peer.pid,
            start,
            expires: now + lifetime,
            reason: reason.clone(),
            session: record.session.clone(),
        };
        let id = crate::audit::record::new_session_id();
        let info = held.info(&id);
        {
            let mut map = self.lock();
            if map.values().filter(|h| h.uid == peer.uid).count() >= MAX_PER_UID {
                return Err(format!(
                    "this user holds {MAX_PER_UID} break-glass grants already"
                ));
            }
            map.insert(id.clone(), held);
        }
        record.event = Event::Session;
        record.outcome = Some(Outcome::BreakGlass);
        record.reason = Some(reason);
        record.detail = Some(format!(
            "break-glass session started: grant {id} held by pid {} until {}",
            peer.pid, info.expires
        ));
        Ok(Started { info, record })
    }

    /// Forget grant `id` (its start record could not be written).
    pub fn withdraw(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Whether grant `id` covers `peer`: same uid, its process is the caller or a parent of it,
    /// not expired.
    pub fn check(&self, peer: &Peer, proc: &Proc, id: &str) -> Result<GrantInfo, String> {
        let held = self
            .lock()
            .get(id)
            .cloned()
            .ok_or_else(|| "no break-glass grant has this id".to_string())?;
        // Root in the session (sudo's checker, run from the session's shell) is covered too:
        // root can run anything unguarded anyway, and the ancestry is still required.
        if held.uid != peer.uid && peer.uid != 0 {
            return Err("the break-glass grant belongs to another user".to_string());
        }
        if SystemTime::now() >= held.expires {
            return Err(format!(
                "the break-glass grant expired at {}",
                crate::audit::record::format_rfc3339_millis(held.expires)
            ));
        }
        if !proc.has_ancestor(peer.pid, held.pid, held.start) {
            return Err(
                "the break-glass grant belongs to a session this process does not run in"
                    .to_string(),
            );
        }
        Ok(held.info(id))
    }

    /// End grant `id` for `peer`, its holder (or a process of its session).
    pub fn end(&self, peer: &Peer, proc: &Proc, id: &str) -> Result<GrantInfo, String> {
        let mut map = self.lock();
        let held = map
            .get(id)
            .ok_or_else(|| "no break-glass grant has this id".to_string())?;
        if held.uid != peer.uid || !proc.has_ancestor(peer.pid, held.pid, held.start) {
            return Err("the break-glass grant belongs to another session".to_string());
        }
        let info = held.info(id);
        map.remove(id);
        Ok(info)
    }

    /// Remove the grants that expired at `now` or whose process is gone, with a record of
    /// each end.
    pub fn sweep(
        &self,
        proc: &Proc,
        now: SystemTime,
        host: &crate::host::HostContext,
    ) -> Vec<Record> {
        let mut map = self.lock();
        let over: Vec<(String, bool)> = map
            .iter()
            .filter_map(|(id, h)| {
                let expired = now >= h.expires;
                let gone = proc.start_time(h.pid) != Some(h.start);
                (expired || gone).then(|| (id.clone(), expired))
            })
            .collect();
        over.into_iter()
            .filter_map(|(id, expired)| {
                let h = map.remove(&id)?;
                let mut rec = Record::new(Event::Session, host, h.user.clone(), h.uid);
                rec.pid = h.pid;
                rec.session = h.session.clone();
                rec.reason = Some(h.reason.clone());
                rec.outcome = Some(if expired {
                    Outcome::Expired
                } else {
                    Outcome::Exit
                });
                rec.detail = Some(if expired {
                    format!(
                        "break-glass grant {id} expired at {}",
                        crate::audit::record::format_rfc3339_millis(h.expires)
                    )
                } else {
                    format!("break-glass grant {id} ended: its session is gone")
                });
                Some(rec)
            })
            .collect()
    }
}
