//! The approval spool, held by the service: the approval operations of the socket
//! ([`crate::approval::wire`]), carried out for the caller the kernel names.
//!
//! The spool directory is root's, mode 0700; this is the only process that opens it, through
//! [`Spool`] (every file `O_NOFOLLOW`, created `O_EXCL`, one link). Who approved is the uid
//! `SO_PEERCRED` gave for the connection, written into the approval by the service; whether that
//! uid may approve is judged by the service's own host.toml (approvers group, root, signers),
//! never by the caller's. Consuming an approval happens under one lock, here and nowhere else.
//! No lock is held while a client is read from or written to: a stopped client stalls only
//! its own connection.

#![forbid(unsafe_code)]

use super::peer::Peer;
use super::server::file_stamp;
use crate::approval::spool::{self, Rules};
use crate::approval::wire::{Answer, Entry, Op};
use crate::approval::{self, request, ApprovalError, Request, Spool, Status};
use crate::host::HostContext;
use crate::subject::user_name;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Most live (pending or approved) requests one user may have at once.
pub const MAX_LIVE_PER_UID: usize = 32;

/// Longest reason of a denial kept, in characters.
const MAX_REASON: usize = 1000;

/// How far a request's creation time may lie ahead of the service's clock, in seconds.
const CLOCK_SLACK: i64 = 60;

/// The service's side of the approval spool.
pub struct Approvals {
    host_file: PathBuf,
    default_spool: PathBuf,
    host: Mutex<(Option<Stamp>, HostContext)>,
    consume: Mutex<()>,
}

type Stamp = (i64, i64, u64, u64);

/// Create the spool directory when it is missing: root's, mode 0700 (ownership only when
/// running as root). An existing directory is left as it is; [`Spool::open`] judges it.
pub fn prepare_spool(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(path)?;
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(path, Some(0), Some(0))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

impl Approvals {
    /// The spool of host.toml `host_file` (`[approvers] spool`), else `default_spool`. The file
    /// is read again when it changes.
    pub fn new(host: HostContext, host_file: PathBuf, default_spool: PathBuf) -> Approvals {
        Approvals {
            host: Mutex::new((file_stamp(&host_file), host)),
            host_file,
            default_spool,
            consume: Mutex::new(()),
        }
    }

    /// The spool directory in use now.
    pub fn spool_path(&self) -> PathBuf {
        self.host_now()
            .approval_spool
            .unwrap_or_else(|| self.default_spool.clone())
    }

    /// The service's host description now (read again when host.toml changed).
    pub fn host_now(&self) -> HostContext {
        let mut h = self
            .host
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = file_stamp(&self.host_file);
        if now != h.0 {
            *h = (now, HostContext::load(Some(&self.host_file)));
        }
        h.1.clone()
    }

    /// Carry out `op` for `peer`.
    pub fn handle(&self, op: Op, peer: &Peer) -> Answer {
        let host = self.host_now();
        let path = host
            .approval_spool
            .clone()
            .unwrap_or_else(|| self.default_spool.clone());
        let spool = match Spool::open(&path) {
            Ok(s) => s,
            Err(e) => return Answer::refused(e.to_string()),
        };
        let call = Call {
            spool: &spool,
            host: &host,
            rules: Rules::of(&host),
            peer,
        };
        let done = match op {
            Op::ApprovalFile { request, exact } => call.file(&request, exact.as_ref()),
            Op::ApprovalList { all } => call.list(all),
            Op::ApprovalShow { id } => call
                .find(&id)
                .and_then(|r| call.entry(&r))
                .map(|e| Answer::entries(vec![e])),
            Op::ApprovalApprove { id } => call.approve(&id),
            Op::ApprovalDeny { id, reason } => call.deny(&id, &reason),
            Op::ApprovalSign { id, signature } => call.sign(&id, &signature),
            Op::ApprovalUse { id } => call.verified(&id).and_then(|(req, verdicts)| {
                // Signatures were verified (by ssh-keygen) before the lock; under it the
                // spool is read again and those verdicts reused.
                let _one = self
                    .consume
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                call.consume(&req, &verdicts)
            }),
            Op::Origin {} => return Answer::refused("`origin` is not an approval operation"),
        };
        done.unwrap_or_else(|e| Answer::refused(e.to_string()))
    }
}

/// The verdict on each signature attached to a request, by its text: who it counts as, or why
/// not.
type Verdicts = std::collections::HashMap<String, Result<spool::Approver, String>>;

/// One operation: the spool, the host's rules and the caller.
struct Call<'a> {
    spool: &'a Spool,
    host: &'a HostContext,
    rules: Rules<'a>,
    peer: &'a Peer,
}

fn refused(why: impl Into<String>) -> ApprovalError {
    ApprovalError::Refused(why.into())
}

impl Call<'_> {
    fn now(&self) -> i64 {
        approval::now()
    }

    fn find(&self, typed: &str) -> Result<Request, ApprovalError> {
        let id = self.spool.resolve(typed)?;
        self.spool.load(&id)
    }

    /// The request as the caller may see it: the requester in full, anybody else with every
    /// secret of the command replaced (a request filed unredacted is redacted here).
    fn entry(&self, req: &Request) -> Result<Entry, ApprovalError> {
        let ev = self.spool.status(req, &self.rules, self.now())?;
        let mine = self.peer.uid == req.uid;
        let exact = if mine { self.spool.exact(req)? } else { None };
        let shown = if mine {
            req.clone()
        } else {
            let mut r = req.clone();
            r.command = crate::audit::redact::redact_text(&r.command, &[]).0;
            r
        };
        Ok(Entry {
            id: req.id(),
            request: String::from_utf8_lossy(&shown.canonical()).into_owned(),
            exact,
            status: ev.status,
            ignored: ev.ignored,
        })
    }

    fn one(&self, req: &Request, approvers: Vec<spool::Approver>) -> Result<Answer, ApprovalError> {
        let mut a = Answer::entries(vec![self.entry(req)?]);
        a.approvers = approvers;
        Ok(a)
    }

    /// File a request exactly as its requester made it. Nothing that enters its canonical bytes
    /// is changed here: its id is the sha256 of the bytes the requester made, recorded, printed
    /// and waited on before the answer comes. A request the service would have to change is
    /// refused, naming what it would have changed.
    fn file(&self, text: &str, exact: Option<&request::Exact>) -> Result<Answer, ApprovalError> {
        let req = Request::parse(text.as_bytes())?;
        // The requester is whoever the kernel says is calling, whatever the request says.
        let caller = user_name(self.peer.uid);
        if req.uid != self.peer.uid {
            return Err(refused(format!(
                "the request names uid {}, and you are uid {}: a request is filed as whoever the kernel says is calling",
                req.uid, self.peer.uid
            )));
        }
        if req.user != caller {
            return Err(refused(format!(
                "the request names user {}, and uid {} is user {caller} here: a request is filed as whoever the kernel says is calling",
                crate::prompt::display_safe(&req.user),
                self.peer.uid
            )));
        }
        let now = self.now();
        if req.host != self.host.hostname {
            return Err(refused(format!(
                "the request is for host {}; this host is {}",
                crate::prompt::display_safe(&req.host),
                self.host.hostname
            )));
        }
        if req.created > now + CLOCK_SLACK {
            return Err(refused("the request is dated in the future"));
        }
        let longest = approval::expiry(self.host);
        let latest = now.saturating_add(i64::try_from(longest.as_secs()).unwrap_or(i64::MAX));
        if req.expires > latest {
            return Err(refused(format!(
                "the request expires at {}, later than this host's [approvers] expiry of {}s allows (the requester's host.toml is not the audit service's)",
                request::utc(req.expires),
                longest.as_secs()
            )));
        }
        if req.expires <= now {
            return Err(refused("the request has already expired"));
        }
        // The command others will see never holds a secret this service can recognise.
        if crate::audit::redact::redact_text(&req.command, &[]).1 {
            return Err(refused(
                "the request's command holds a secret in clear; `prodguard request` files it with the secret replaced by ***",
            ));
        }
        let live = self
            .spool
            .ids()?
            .iter()
            .filter_map(|id| self.spool.load(id).ok())
            .filter(|r| r.uid == req.uid)
            .filter(|r| {
                self.spool.status(r, &self.rules, now).is_ok_and(|ev| {
                    matches!(ev.status, Status::Pending { .. } | Status::Approved { .. })
                })
            })
            .count();
        if live >= MAX_LIVE_PER_UID {
            return Err(refused(format!(
                "{} has {live} requests waiting already (at most {MAX_LIVE_PER_UID}); withdraw some with prodguard deny ID --reason …",
                req.user
            )));
        }
        match exact {
            Some(e) => self.spool.submit_exact(&req, e)?,
            None if !req.secret_digest.is_empty() => {
                return Err(refused(
                    "the request binds to an exact command it does not carry",
                ))
            }
            None => self.spool.submit(&req)?,
        }
        self.one(&req, Vec::new())
    }

    fn list(&self, all: bool) -> Result<Answer, ApprovalError> {
        let mut reqs: Vec<Request> = self
            .spool
            .ids()?
            .iter()
            .filter_map(|id| self.spool.load(id).ok())
            .collect();
        reqs.sort_by_key(|r| r.created);
        let entries = reqs
            .iter()
            .filter_map(|r| self.entry(r).ok())
            .filter(|e| all || matches!(e.status, Status::Pending { .. } | Status::Approved { .. }))
            .collect();
        Ok(Answer::entries(entries))
    }

    fn same_host(&self, req: &Request) -> Result<(), ApprovalError> {
        if req.host == self.host.hostname {
            return Ok(());
        }
        Err(refused(format!(
            "request {} is for host {}; this is {} (approve it there, or sign its blob)",
            req.short_id(),
            crate::prompt::display_safe(&req.host),
            self.host.hostname
        )))
    }

    /// Refuse unless `req` is still open (pending or approved).
    fn open(&self, req: &Request) -> Result<Status, ApprovalError> {
        let ev = self.spool.status(req, &self.rules, self.now())?;
        self.still_open(req, ev.status)
    }

    /// `status` of `req` when it is open (pending or approved); a refusal saying why otherwise.
    fn still_open(&self, req: &Request, status: Status) -> Result<Status, ApprovalError> {
        let short = req.short_id();
        match status {
            s @ (Status::Pending { .. } | Status::Approved { .. }) => Ok(s),
            Status::Used => Err(ApprovalError::AlreadyUsed(short)),
            Status::Expired => Err(refused(format!("request {short} has expired"))),
            Status::Denied { by, reason } => Err(refused(format!(
                "request {short} was denied by {by}: {}",
                crate::prompt::display_safe(&reason)
            ))),
        }
    }

    fn approve(&self, typed: &str) -> Result<Answer, ApprovalError> {
        let req = self.find(typed)?;
        self.same_host(&req)?;
        let me = spool::may_approve(self.peer.uid, &req, &self.rules)
            .map_err(|e| refused(e.to_string()))?;
        let status = self.open(&req)?;
        let already = match &status {
            Status::Pending { approvers, .. } | Status::Approved { approvers } => {
                approvers.iter().any(|a| a.name == me.name)
            }
            _ => false,
        };
        if !already {
            self.spool.approve(&req, self.peer.uid)?;
        }
        self.one(&req, vec![me])
    }

    fn deny(&self, typed: &str, reason: &str) -> Result<Answer, ApprovalError> {
        let req = self.find(typed)?;
        let reason: String = reason.trim().chars().take(MAX_REASON).collect();
        if reason.chars().count() < 3 {
            return Err(refused("a denial must say why (at least 3 characters)"));
        }
        let me = if self.peer.uid == req.uid {
            spool::Approver {
                name: user_name(self.peer.uid),
                uid: Some(self.peer.uid),
                how: spool::How::SameHost,
            }
        } else {
            spool::may_approve(self.peer.uid, &req, &self.rules)
                .map_err(|why| refused(format!("denial refused: {why}")))?
        };
        self.spool.deny(&req, self.peer.uid, &reason)?;
        self.one(&req, vec![me])
    }

    fn mine(&self, req: &Request) -> Result<(), ApprovalError> {
        if req.uid == self.peer.uid {
            return Ok(());
        }
        Err(refused(format!(
            "request {} was made by uid {}, not by you (uid {})",
            req.short_id(),
            req.uid,
            self.peer.uid
        )))
    }

    fn sign(&self, typed: &str, signature: &str) -> Result<Answer, ApprovalError> {
        let req = self.find(typed)?;
        self.mine(&req)?;
        self.same_host(&req)?;
        self.open(&req)?;
        let sig = approval::ssh::extract_signature(signature)
            .ok_or_else(|| refused("no armored SSH signature was given"))?;
        let by =
            spool::verify_signature(&req, &sig, &self.rules).map_err(|e| refused(e.to_string()))?;
        self.spool.attach_signature(&req, &sig)?;
        self.one(&req, vec![by])
    }

    /// The caller's request `typed`, and the verdict on each signature attached to it now.
    /// Runs `ssh-keygen`; called before the consume lock is taken.
    fn verified(&self, typed: &str) -> Result<(Request, Verdicts), ApprovalError> {
        let req = self.find(typed)?;
        self.mine(&req)?;
        let mut verdicts = Verdicts::new();
        self.spool
            .status_with(&req, &self.rules, self.now(), &mut |sig| {
                let v = spool::verify_signature(&req, sig, &self.rules);
                verdicts.insert(
                    sig.to_string(),
                    v.as_ref().map_err(ToString::to_string).cloned(),
                );
                v
            })?;
        Ok((req, verdicts))
    }

    /// Called under the service's one consume lock, with the signature `verdicts` found before
    /// it: no `ssh-keygen` runs here.
    fn consume(&self, req: &Request, verdicts: &Verdicts) -> Result<Answer, ApprovalError> {
        let mut known = |sig: &str| match verdicts.get(sig) {
            Some(Ok(a)) => Ok(a.clone()),
            Some(Err(why)) => Err(spool::NotCounted::Judged(why.clone())),
            None => Err(spool::NotCounted::NotYetVerified),
        };
        let ev = self
            .spool
            .status_with(req, &self.rules, self.now(), &mut known)?;
        match self.still_open(req, ev.status)? {
            Status::Approved { approvers } => {
                self.spool.mark_used(req)?;
                // Marked used, its status is read without looking at signatures.
                self.one(req, approvers)
            }
            Status::Pending {
                approvers, needed, ..
            } => Err(refused(format!(
                "request {} is not approved yet ({} of {needed} approvers)",
                req.short_id(),
                approvers.len()
            ))),
            _ => Err(ApprovalError::AlreadyUsed(req.short_id())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::request::Subject;

    /// A spool of root's in a temp dir, holding one request of root's with a signature
    /// attached that no ssh-keygen would accept.
    fn signed_request() -> Option<(tempfile::TempDir, HostContext, Request, String)> {
        if !nix::unistd::geteuid().is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "a spool must be root's: this test needs root"
            );
            eprintln!("skipped: a spool must be root's: this test needs root");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("spool");
        prepare_spool(&path).expect("spool");
        let host = HostContext::from_toml(
            &format!(
                "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[approvers]\nspool = \"{}\"\n",
                path.display()
            ),
            None,
        );
        let req = Request::new(
            Subject {
                host: &host,
                user: "root",
                uid: 0,
                command: "bump once",
                exact: None,
                cwd: "/",
                rules: vec!["test.bump".into()],
                approvers: 1,
            },
            approval::now(),
            std::time::Duration::from_secs(600),
        )
        .expect("request");
        let spool = Spool::open(&path).expect("open");
        spool.submit(&req).expect("submit");
        let sig = format!(
            "{}\nbm90IGEgc2lnbmF0dXJl\n{}\n",
            approval::ssh::SIG_BEGIN,
            approval::ssh::SIG_END
        );
        spool.attach_signature(&req, &sig).expect("attach");
        Some((dir, host, req, sig))
    }

    #[test]
    fn under_the_consume_lock_signatures_count_as_verified_before_it() {
        let Some((dir, host, req, sig)) = signed_request() else {
            return;
        };
        let spool = Spool::open(&dir.path().join("spool")).expect("open");
        let peer = Peer {
            uid: 0,
            gid: 0,
            pid: std::process::id(),
        };
        let call = Call {
            spool: &spool,
            host: &host,
            rules: Rules::of(&host),
            peer: &peer,
        };
        // A signature attached after the verification before the lock does not count under it.
        let none = call
            .consume(&req, &Verdicts::new())
            .expect_err("not approved");
        assert!(none.to_string().contains("not approved yet"), "{none}");
        // One judged before the lock counts as judged, without ssh-keygen (which would refuse
        // this one): a refusal stays a refusal, an approval is used once.
        let mut verdicts = Verdicts::new();
        verdicts.insert(sig.clone(), Err("the signing key is not known".into()));
        let judged = call.consume(&req, &verdicts).expect_err("not approved");
        assert!(judged.to_string().contains("not approved yet"), "{judged}");
        let by = spool::Approver {
            name: "bob".into(),
            uid: None,
            how: spool::How::SshKey,
        };
        verdicts.insert(sig, Ok(by));
        let used = call.consume(&req, &verdicts).expect("used");
        assert!(used.ok, "{used:?}");
        assert_eq!(used.approvers.len(), 1, "{used:?}");
        assert_eq!(used.approvers[0].name, "bob", "{used:?}");
        let again = call.consume(&req, &verdicts).expect_err("used once");
        assert!(matches!(again, ApprovalError::AlreadyUsed(_)), "{again}");
    }
}
