//! The spool: one flat directory of requests and the evidence about them.
//!
//! ```text
//! <id>.request            the canonical request
//! <id>.exact              the exact command of a redacted request (mode 0600)
//! <id>.approval.<tag>     an approval, naming the approver's uid
//! <id>.denial.<tag>       a denial (or the requester's withdrawal), with the reason
//! <id>.signature.<tag>    an SSH signature over the request, attached by the requester
//! <id>.used               created with O_EXCL when the approval is consumed
//! ```
//! `<id>` is the full hex id, `<tag>` 16 random hex digits. The spool is the audit service's
//! storage: the directory is `root` mode 0700 (`install -d -o root -m 0700`), the service the
//! only process that opens it, and it writes every file itself, recording in an approval or a
//! denial the uid the kernel gave it for the caller. A file owned by root is believed on what it
//! says; a file owned by anybody else (a spool of the older, group-writable layout) only when
//! its owner is the uid it names. The directory must be owned by root, not writable by others,
//! and sticky when group-writable. Files are read and created relative to the directory's
//! descriptor with `O_NOFOLLOW` (and `O_EXCL`); a file is taken into account only when it is a
//! regular file with one link, so neither a symlink nor a hard link to another file counts.
#![forbid(unsafe_code)]

use super::request::{self, Request};
use super::{random_bytes, ssh, sys, ApprovalError};
use crate::subject::user_name;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Largest approval, denial or signature file read, in bytes.
const MAX_FILE: u64 = 64 * 1024;

/// An open, checked spool directory.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    dir: OwnedFd,
}

/// Who approved (or denied), and how that is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    /// User name (same host) or principal (SSH key).
    pub name: String,
    /// The uid that owns the approval file (same host only).
    pub uid: Option<u32>,
    /// How the identity was established.
    pub how: How,
}

/// How an approver's identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// The owner of the approval file, a member of the approvers group.
    SameHost,
    /// The owner of the approval file is root.
    Root,
    /// An SSH signature verified against `allowed_signers`.
    SshKey,
}

impl fmt::Display for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.how, self.uid) {
            (How::SshKey, _) => write!(f, "{} (SSH key)", self.name),
            (How::Root, _) => write!(f, "{} (uid 0, root)", self.name),
            (How::SameHost, Some(uid)) => write!(f, "{} (uid {uid})", self.name),
            (How::SameHost, None) => write!(f, "{}", self.name),
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Status {
    /// Enough distinct approvers; the command may run once.
    Approved { approvers: Vec<Approver> },
    /// Not enough approvers yet.
    Pending {
        approvers: Vec<Approver>,
        needed: u32,
    },
    /// Someone with the right to refuse did.
    Denied { by: Approver, reason: String },
    /// Past its expiry and not used.
    Expired,
    /// Already consumed.
    Used,
}

impl Status {
    /// One word for listings and audit records.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Approved { .. } => "approved",
            Status::Pending { .. } => "pending",
            Status::Denied { .. } => "denied",
            Status::Expired => "expired",
            Status::Used => "used",
        }
    }
}

/// A request's status, with the evidence that was looked at and not counted, and why.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub status: Status,
    /// e.g. "approval by alice (uid 1001) not counted: the requester cannot approve their own request".
    pub ignored: Vec<String>,
}

/// What the approvers of this host are, from host.toml.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    /// The Unix group whose members may approve.
    pub group: Option<&'a str>,
    /// Whether root may approve.
    pub allow_root: bool,
    /// OpenSSH allowed_signers file for signed approvals.
    pub allowed_signers: Option<&'a Path>,
}

impl<'a> Rules<'a> {
    /// The approver rules of `host` (host.toml's `[approvers]`).
    pub fn of(host: &'a crate::host::HostContext) -> Rules<'a> {
        Rules {
            group: host.approvers_group.as_deref(),
            allow_root: host.approvers_allow_root,
            allowed_signers: host.allowed_signers.as_deref(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    kind: String,
    request: String,
    user: String,
    uid: u32,
    time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

const APPROVAL_KIND: &str = "prodguard-approval";
const DENIAL_KIND: &str = "prodguard-denial";

/// Why an approval, a denial or a signature does not count: each `Display` is a whole reason.
#[derive(Debug, thiserror::Error)]
pub enum NotCounted {
    #[error(
        "{name} (uid {uid}) made this request; the requester cannot approve their own request"
    )]
    OwnRequest { name: String, uid: u32 },
    #[error("root may not approve on this host (host.toml: approvers.allow_root = false)")]
    RootNotAllowed,
    #[error("host.toml names no approvers group ([approvers] group), so nobody on this host may approve")]
    NoGroup,
    #[error("{name} (uid {uid}) is not a member of the approvers group {group}")]
    NotInGroup {
        name: String,
        uid: u32,
        group: String,
    },
    #[error("host.toml names no allowed_signers file ([approvers] allowed_signers), so signed approvals are not accepted here")]
    NoSigners,
    #[error("cannot read {}: {}", path.display(), super::os_reason(err))]
    SignersUnreadable { path: PathBuf, err: std::io::Error },
    #[error("{} must be owned by root and writable by nobody else (it is uid {uid}, mode {mode:o}); signed approvals are refused until it is", path.display())]
    SignersUnsafe { path: PathBuf, uid: u32, mode: u32 },
    #[error(transparent)]
    Signature(ApprovalError),
    #[error("signed by {0}, the requester; the requester cannot approve their own request")]
    SignedByRequester(String),
    #[error("signed as root, and root may not approve on this host")]
    SignedAsRoot,
    /// Why a signature was not counted when it was verified a moment before.
    #[error("{0}")]
    Judged(String),
    #[error("attached while the approval was being used; it counts from the next use")]
    NotYetVerified,
}

/// Why the directory at `path` with `meta` is not fit to be a spool, if it is not.
fn check_dir(meta: &std::fs::Metadata) -> Result<(), String> {
    let mode = meta.permissions().mode();
    if !meta.is_dir() {
        return Err("is not a directory".into());
    }
    if meta.uid() != 0 {
        return Err(format!(
            "is owned by uid {}, not root; it must be created by root: install -d -o root -m 0700 DIR",
            meta.uid()
        ));
    }
    if mode & 0o002 != 0 {
        return Err(format!(
            "is writable by everyone (mode {:o}); use mode 0700 (install -d -o root -m 0700 DIR)",
            mode & 0o7777
        ));
    }
    if mode & 0o020 != 0 && mode & 0o1000 == 0 {
        return Err(format!(
            "is group-writable without the sticky bit (mode {:o}): members could remove each other's approvals; use mode 0700",
            mode & 0o7777
        ));
    }
    Ok(())
}

/// Whether `uid` is a member of `group` (primary or supplementary, as the system's group
/// database says).
pub fn in_group(uid: u32, group: &str) -> bool {
    let Some(g) = nix::unistd::Group::from_name(group).ok().flatten() else {
        return false;
    };
    let Some(u) = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
    else {
        return false;
    };
    if u.gid == g.gid || g.mem.contains(&u.name) {
        return true;
    }
    std::ffi::CString::new(u.name)
        .ok()
        .and_then(|name| nix::unistd::getgrouplist(&name, u.gid).ok())
        .is_some_and(|gids| gids.contains(&g.gid))
}

/// Whether `uid` may approve `req` on this host, and as whom; or why not.
pub fn may_approve(uid: u32, req: &Request, rules: &Rules<'_>) -> Result<Approver, NotCounted> {
    let name = user_name(uid);
    if uid == req.uid {
        return Err(NotCounted::OwnRequest { name, uid });
    }
    if uid == 0 {
        if !rules.allow_root {
            return Err(NotCounted::RootNotAllowed);
        }
        return Ok(Approver {
            name,
            uid: Some(0),
            how: How::Root,
        });
    }
    let Some(group) = rules.group else {
        return Err(NotCounted::NoGroup);
    };
    if !in_group(uid, group) {
        return Err(NotCounted::NotInGroup {
            name,
            uid,
            group: group.to_string(),
        });
    }
    Ok(Approver {
        name,
        uid: Some(uid),
        how: How::SameHost,
    })
}

fn principal_is_requester(principal: &str, req: &Request) -> bool {
    principal == req.user
        || principal
            .split_once('@')
            .is_some_and(|(local, _)| local == req.user)
}

impl Spool {
    /// Open and check the spool at `path`.
    pub fn open(path: &Path) -> Result<Spool, ApprovalError> {
        let err = |reason: String| ApprovalError::Spool {
            path: path.to_path_buf(),
            reason,
        };
        let dir = sys::open_dir(path).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => {
                err("does not exist; create it as root: install -d -o root -m 0700 DIR".into())
            }
            Some(libc::ELOOP | libc::ENOTDIR) => err(
                "is (or is reached through) a symlink or not a directory; refusing to follow it"
                    .into(),
            ),
            _ => err(format!("cannot be opened: {}", super::os_reason(&e))),
        })?;
        let meta = sys::dir_metadata(&dir).map_err(|e| err(super::os_reason(&e)))?;
        check_dir(&meta).map_err(err)?;
        Ok(Spool {
            path: path.to_path_buf(),
            dir,
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file_error(&self, what: &'static str, name: &str, err: std::io::Error) -> ApprovalError {
        ApprovalError::SpoolFile {
            path: self.path.clone(),
            what,
            name: name.to_string(),
            err,
        }
    }

    /// Read `name`: a regular file with one link, at most `max` bytes. Returns the bytes and the
    /// owner uid.
    fn read(&self, name: &str, max: u64) -> Result<(Vec<u8>, u32), ApprovalError> {
        self.read_meta(name, max).map(|(b, m)| (b, m.uid()))
    }

    /// [`Spool::read`], returning the file's metadata.
    fn read_meta(
        &self,
        name: &str,
        max: u64,
    ) -> Result<(Vec<u8>, std::fs::Metadata), ApprovalError> {
        let mut f =
            sys::open_read(&self.dir, name).map_err(|e| self.file_error("open", name, e))?;
        let meta = f.metadata().map_err(|e| self.file_error("stat", name, e))?;
        let bad = |why: &str| {
            self.file_error(
                "use",
                name,
                std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()),
            )
        };
        if !meta.file_type().is_file() {
            return Err(bad("not a regular file"));
        }
        if meta.nlink() != 1 {
            return Err(bad("it has more than one link"));
        }
        if meta.len() > max {
            return Err(bad("too large"));
        }
        let mut buf = Vec::new();
        Read::by_ref(&mut f)
            .take(max + 1)
            .read_to_end(&mut buf)
            .map_err(|e| self.file_error("read", name, e))?;
        Ok((buf, meta))
    }

    /// Create `name` with `bytes`, mode 0600 whatever the umask, synced to disk.
    fn create(&self, name: &str, bytes: &[u8]) -> Result<(), ApprovalError> {
        let mut f = sys::create_excl(&self.dir, name, 0o600)
            .map_err(|e| self.file_error("create", name, e))?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| f.write_all(bytes))
            .and_then(|()| f.sync_all())
            .map_err(|e| self.file_error("write", name, e))
    }

    fn tagged(id: &str, what: &str) -> Result<String, ApprovalError> {
        Ok(format!("{id}.{what}.{}", hex::encode(random_bytes(8)?)))
    }

    /// File the request.
    pub fn submit(&self, req: &Request) -> Result<(), ApprovalError> {
        self.create(&format!("{}.request", req.id()), &req.canonical())
    }

    /// File a request whose command had secrets removed, with its exact command line readable
    /// only by the requester (`<id>.exact`, mode 0600), written first: a request is never
    /// visible without what it binds to.
    pub fn submit_exact(&self, req: &Request, exact: &request::Exact) -> Result<(), ApprovalError> {
        if req.secret_digest != exact.digest() {
            return Err(ApprovalError::BadRequest(
                "the exact command does not match the request's digest".into(),
            ));
        }
        let name = format!("{}.exact", req.id());
        // Serialising two strings cannot fail.
        let bytes = serde_json::to_vec(exact).unwrap_or_default();
        self.create(&name, &bytes)?;
        self.submit(req)
    }

    /// The exact command line of a request with secrets removed: `<id>.exact` must be a
    /// regular file with one link, owned by root (the service) or the requester, readable by
    /// nobody else, and match the request's digest. `None` for a request without secrets.
    pub fn exact(&self, req: &Request) -> Result<Option<request::Exact>, ApprovalError> {
        if req.secret_digest.is_empty() {
            return Ok(None);
        }
        let name = format!("{}.exact", req.id());
        let (bytes, meta) = self.read_meta(&name, request::MAX_BYTES as u64 + 256)?;
        let bad = |why: String| Err(ApprovalError::BadRequest(format!("{name}: {why}")));
        if meta.uid() != req.uid && meta.uid() != 0 {
            return bad(format!(
                "owned by uid {}, not by root or the requester",
                meta.uid()
            ));
        }
        let mode = meta.mode();
        if mode & 0o077 != 0 {
            return bad(format!("mode {:o} lets others read it", mode & 0o777));
        }
        let exact: request::Exact = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => return bad(format!("not an exact command ({e})")),
        };
        if exact.digest() != req.secret_digest {
            return bad("does not match the request's digest".into());
        }
        Ok(Some(exact))
    }

    /// The request with this full id: it must hash to its name and be owned by its requester
    /// (or root).
    pub fn load(&self, id: &str) -> Result<Request, ApprovalError> {
        if !request::is_full_id(id) {
            return Err(ApprovalError::NoSuchRequest(id.to_string()));
        }
        let name = format!("{id}.request");
        let (bytes, owner) = self
            .read(&name, request::MAX_BYTES as u64)
            .map_err(|e| match e {
                ApprovalError::SpoolFile { ref err, .. }
                    if err.kind() == std::io::ErrorKind::NotFound =>
                {
                    ApprovalError::NoSuchRequest(id.to_string())
                }
                e => e,
            })?;
        let req = Request::parse(&bytes)?;
        if req.id() != id {
            return Err(ApprovalError::BadRequest(format!(
                "{name} does not hash to its name"
            )));
        }
        if owner != req.uid && owner != 0 {
            return Err(ApprovalError::BadRequest(format!(
                "{name} names uid {} but is owned by uid {owner}",
                req.uid
            )));
        }
        Ok(req)
    }

    /// The full ids of every request file.
    pub fn ids(&self) -> Result<Vec<String>, ApprovalError> {
        let names = sys::list(&self.dir).map_err(|e| self.file_error("list", ".", e))?;
        Ok(names
            .iter()
            .filter_map(|n| n.strip_suffix(".request"))
            .filter(|id| request::is_full_id(id))
            .map(str::to_string)
            .collect())
    }

    /// The full id for what a person typed: a full id, or a prefix (six characters or more) of
    /// a short id.
    pub fn resolve(&self, typed: &str) -> Result<String, ApprovalError> {
        let t = typed.trim().to_ascii_lowercase();
        if request::is_full_id(&t) {
            return Ok(t);
        }
        if t.len() < 6 {
            return Err(ApprovalError::NoSuchRequest(typed.to_string()));
        }
        let found: Vec<String> = self
            .ids()?
            .into_iter()
            .filter(|id| request::short_id(id).starts_with(&t) || id.starts_with(&t))
            .collect();
        match found.len() {
            0 => Err(ApprovalError::NoSuchRequest(typed.to_string())),
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            _ => Err(ApprovalError::Ambiguous(typed.to_string())),
        }
    }

    fn decision(&self, req: &Request, kind: &str, uid: u32, reason: Option<String>) -> Vec<u8> {
        let d = Decision {
            kind: kind.to_string(),
            request: req.id(),
            user: user_name(uid),
            uid,
            time: super::now(),
            reason,
        };
        let mut v = serde_json::to_vec(&d).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Record `uid`'s approval of `req` (the uid is the kernel's word for the caller). The
    /// caller has checked [`may_approve`].
    pub fn approve(&self, req: &Request, uid: u32) -> Result<(), ApprovalError> {
        let bytes = self.decision(req, APPROVAL_KIND, uid, None);
        self.create(&Self::tagged(&req.id(), "approval")?, &bytes)
    }

    /// Record `uid`'s denial of `req`, with the reason.
    pub fn deny(&self, req: &Request, uid: u32, reason: &str) -> Result<(), ApprovalError> {
        let bytes = self.decision(req, DENIAL_KIND, uid, Some(reason.to_string()));
        self.create(&Self::tagged(&req.id(), "denial")?, &bytes)
    }

    /// Keep a signature that verified, for the command to find when it runs.
    pub fn attach_signature(&self, req: &Request, signature: &str) -> Result<(), ApprovalError> {
        self.create(&Self::tagged(&req.id(), "signature")?, signature.as_bytes())
    }

    /// Consume `req`'s approval: exactly one caller ever succeeds.
    pub fn mark_used(&self, req: &Request) -> Result<(), ApprovalError> {
        let name = format!("{}.used", req.id());
        match sys::create_excl(&self.dir, &name, 0o644) {
            Ok(f) => f.sync_all().map_err(|e| self.file_error("write", &name, e)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(ApprovalError::AlreadyUsed(req.short_id()))
            }
            Err(e) => Err(self.file_error("create", &name, e)),
        }
    }

    fn evidence_files(&self, id: &str, what: &str) -> Result<Vec<String>, ApprovalError> {
        let prefix = format!("{id}.{what}.");
        let names = sys::list(&self.dir).map_err(|e| self.file_error("list", ".", e))?;
        Ok(names
            .into_iter()
            .filter(|n| n.starts_with(&prefix))
            .collect())
    }

    fn read_decision(
        &self,
        name: &str,
        req: &Request,
        kind: &str,
    ) -> Result<(Decision, u32), String> {
        let (bytes, owner) = self.read(name, MAX_FILE).map_err(|e| e.to_string())?;
        let d: Decision =
            serde_json::from_slice(&bytes).map_err(|e| format!("{name}: not readable ({e})"))?;
        if d.kind != kind || d.request != req.id() {
            return Err(format!("{name} is not a {kind} of this request"));
        }
        // Root's files are the service's, which wrote the kernel's uid of the caller into them.
        if d.uid != owner && owner != 0 {
            return Err(format!(
                "{name} says uid {} but is owned by uid {owner}",
                d.uid
            ));
        }
        let uid = d.uid;
        Ok((d, uid))
    }

    /// Where `req` stands, judged by `rules` at `now` (seconds since the epoch). Signatures are
    /// verified again, since `allowed_signers` may have changed since they were attached.
    pub fn status(
        &self,
        req: &Request,
        rules: &Rules<'_>,
        now: i64,
    ) -> Result<Evidence, ApprovalError> {
        self.status_with(req, rules, now, &mut |sig| {
            verify_signature(req, sig, rules)
        })
    }

    /// [`Spool::status`] with each attached signature judged by `verify` (given its text):
    /// the audit service verifies before it takes its consume lock, and under it reuses those
    /// verdicts instead of running `ssh-keygen` again.
    pub fn status_with(
        &self,
        req: &Request,
        rules: &Rules<'_>,
        now: i64,
        verify: &mut dyn FnMut(&str) -> Result<Approver, NotCounted>,
    ) -> Result<Evidence, ApprovalError> {
        let id = req.id();
        let mut ignored = Vec::new();
        match self.read(&format!("{id}.used"), 0) {
            Ok(_) => {
                return Ok(Evidence {
                    status: Status::Used,
                    ignored,
                })
            }
            Err(ApprovalError::SpoolFile { err, .. })
                if err.kind() == std::io::ErrorKind::NotFound => {}
            // Anything else named <id>.used (a symlink, a directory) also means: not again.
            Err(_) => {
                return Ok(Evidence {
                    status: Status::Used,
                    ignored,
                })
            }
        }
        for name in self.evidence_files(&id, "denial")? {
            match self.read_decision(&name, req, DENIAL_KIND) {
                Ok((d, owner)) => {
                    let by = if owner == req.uid {
                        Ok(Approver {
                            name: user_name(owner),
                            uid: Some(owner),
                            how: How::SameHost,
                        })
                    } else {
                        may_approve(owner, req, rules)
                    };
                    match by {
                        Ok(by) => {
                            return Ok(Evidence {
                                status: Status::Denied {
                                    by,
                                    reason: d.reason.unwrap_or_default(),
                                },
                                ignored,
                            })
                        }
                        Err(why) => ignored.push(format!("denial in {name} not counted: {why}")),
                    }
                }
                Err(why) => ignored.push(format!("denial not counted: {why}")),
            }
        }
        if req.is_expired(now) {
            return Ok(Evidence {
                status: Status::Expired,
                ignored,
            });
        }
        let mut approvers: Vec<Approver> = Vec::new();
        let add = |a: Approver, approvers: &mut Vec<Approver>| {
            if !approvers.iter().any(|b| b.name == a.name) {
                approvers.push(a);
            }
        };
        for name in self.evidence_files(&id, "approval")? {
            match self.read_decision(&name, req, APPROVAL_KIND) {
                Ok((d, owner)) if d.time > req.expires => {
                    ignored.push(format!(
                        "approval by {} not counted: given after the request expired",
                        user_name(owner)
                    ));
                }
                Ok((_, owner)) => match may_approve(owner, req, rules) {
                    Ok(a) => add(a, &mut approvers),
                    Err(why) => ignored.push(format!("approval not counted: {why}")),
                },
                Err(why) => ignored.push(format!("approval not counted: {why}")),
            }
        }
        for name in self.evidence_files(&id, "signature")? {
            let sig = match self.read(&name, ssh::MAX_SIGNATURE as u64) {
                Ok((bytes, _)) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    ignored.push(format!("signature not counted: {e}"));
                    continue;
                }
            };
            match verify(&sig) {
                Ok(a) => add(a, &mut approvers),
                Err(why) => ignored.push(format!("signature in {name} not counted: {why}")),
            }
        }
        let needed = req.approvers;
        let status = if approvers.len() >= needed as usize {
            Status::Approved { approvers }
        } else {
            Status::Pending { approvers, needed }
        };
        Ok(Evidence { status, ignored })
    }
}

/// Verify an SSH signature over `req` against the host's `allowed_signers`: the approver it
/// names, or why it does not count.
pub fn verify_signature(
    req: &Request,
    signature: &str,
    rules: &Rules<'_>,
) -> Result<Approver, NotCounted> {
    let Some(signers) = rules.allowed_signers else {
        return Err(NotCounted::NoSigners);
    };
    check_signers_file(signers)?;
    let principal =
        ssh::verify(signers, signature, &req.canonical()).map_err(NotCounted::Signature)?;
    if principal_is_requester(&principal, req) {
        return Err(NotCounted::SignedByRequester(principal));
    }
    if principal == "root" && !rules.allow_root {
        return Err(NotCounted::SignedAsRoot);
    }
    Ok(Approver {
        name: principal,
        uid: None,
        how: How::SshKey,
    })
}

/// The allowed_signers file decides who may approve: like sudoers, it must be root's and
/// writable by nobody else.
fn check_signers_file(path: &Path) -> Result<(), NotCounted> {
    let meta = std::fs::metadata(path).map_err(|err| NotCounted::SignersUnreadable {
        path: path.to_path_buf(),
        err,
    })?;
    if meta.uid() != 0 || meta.permissions().mode() & 0o022 != 0 {
        return Err(NotCounted::SignersUnsafe {
            path: path.to_path_buf(),
            uid: meta.uid(),
            mode: meta.permissions().mode() & 0o7777,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requester_principals() {
        let host = crate::host::HostContext::unknown();
        let req = Request::new(
            request::Subject {
                host: &host,
                user: "alice",
                uid: 1001,
                command: "true",
                exact: None,
                cwd: "/",
                rules: vec![],
                approvers: 1,
            },
            0,
            std::time::Duration::from_secs(60),
        )
        .expect("request");
        assert!(principal_is_requester("alice", &req));
        assert!(principal_is_requester("alice@example.com", &req));
        assert!(!principal_is_requester("bob@example.com", &req));
        assert!(!principal_is_requester("alicex", &req));
        let rules = Rules {
            group: None,
            allow_root: false,
            allowed_signers: None,
        };
        let own = may_approve(1001, &req, &rules);
        assert!(matches!(own, Err(NotCounted::OwnRequest { uid: 1001, .. })));
        assert!(own.is_err_and(|e| e.to_string().contains("own request")));
        let root = may_approve(0, &req, &rules);
        assert!(matches!(root, Err(NotCounted::RootNotAllowed)));
        assert!(root.is_err_and(|e| e.to_string().contains("allow_root")));
        let nobody = may_approve(4242, &req, &rules);
        assert!(matches!(nobody, Err(NotCounted::NoGroup)));
        assert!(nobody.is_err_and(|e| e.to_string().contains("no approvers group")));
    }

    #[test]
    fn spool_directories_must_be_root_owned_and_sticky() {
        let dir = std::env::temp_dir();
        let meta = std::fs::metadata(&dir).expect("tmp");
        // /tmp is world-writable: never a spool.
        if meta.permissions().mode() & 0o002 != 0 {
            assert!(check_dir(&meta).is_err());
        }
    }
}
