//! Second-person approval: a request bound to the exact command, approved on the same host by
//! another member of the approvers group, or offline with an SSH signature.
//!
//! - [`Request`]: the canonical bytes of {host, user, uid, command, cwd, rule ids, nonce,
//!   created, expires}; its sha256 is the request id.
//! - [`Spool`]: the directory requests, approvals, denials, attached signatures and used markers
//!   live in. Every file is opened relative to the directory's descriptor with `O_NOFOLLOW`,
//!   created with `O_EXCL`, and must be a regular file with one link.
//! - [`Spool::status`]: what a request's evidence amounts to. Same-host proof is the approver's
//!   uid, recorded by the audit service from the kernel's word (`SO_PEERCRED`) in a spool only
//!   root can write; offline proof is an SSH signature that `ssh-keygen -Y verify` accepts
//!   against host.toml's `allowed_signers`.
//! - [`wire`]: the operations on the spool that the audit service carries out for its callers;
//!   the service is the only process that opens the spool.
//! - [`bounded`]: `ssh-keygen` runs with a time limit, killed when it passes.
//! - [`wait`]: the requester's countdown while waiting, on the terminal.
//!
//! This module decides nothing about policy and writes no audit records: `cli` does both.
//! `docs/approval.md` explains the design and the threat model.
#![deny(unsafe_code)]

pub mod bounded;
pub mod codec;
pub mod request;
pub mod spool;
pub mod ssh;
#[allow(unsafe_code)]
mod sys;
pub mod wait;
pub mod wire;

pub use request::Request;
pub use spool::{Approver, Evidence, Spool, Status};

use std::path::PathBuf;
use std::time::Duration;

/// Where requests live unless host.toml's `[approvers] spool` says otherwise.
pub const DEFAULT_SPOOL: &str = "/var/lib/prodguard/requests";

/// How long a request stays valid unless host.toml's `[approvers] expiry` says otherwise.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(15 * 60);

/// The SSH signature namespace of approvals (`ssh-keygen -Y sign -n prodguard-approval`).
pub const NAMESPACE: &str = "prodguard-approval";

/// The spool directory for this host.
pub fn spool_path(host: &crate::host::HostContext) -> PathBuf {
    host.approval_spool
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SPOOL))
}

/// How long a new request stays valid on `host`.
pub fn expiry(host: &crate::host::HostContext) -> Duration {
    host.approval_expiry.unwrap_or(DEFAULT_EXPIRY)
}

/// Errors of the approval machinery. Each `Display` is a whole sentence saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("the approval spool {}: {reason}", path.display())]
    Spool { path: PathBuf, reason: String },
    #[error("the approval spool {}: cannot {what} {name}: {}", path.display(), os_reason(err))]
    SpoolFile {
        path: PathBuf,
        what: &'static str,
        name: String,
        err: std::io::Error,
    },
    #[error("not a valid approval request: {0}")]
    BadRequest(String),
    #[error("no request {0} in the spool (see `prodguard requests`)")]
    NoSuchRequest(String),
    #[error("{0} names more than one request; give more of the id")]
    Ambiguous(String),
    #[error("cannot make a random nonce: {0}")]
    Random(String),
    #[error("ssh-keygen: {0}")]
    Ssh(String),
    /// A helper (`ssh-keygen`) was killed at its time limit, or could not be run.
    #[error("{0}; the signature is not counted")]
    Helper(#[from] bounded::RunError),
    #[error("the request {0} was already used; a new one is needed")]
    AlreadyUsed(String),
    /// The audit service, which holds the spool, refused: its sentence.
    #[error("{0}")]
    Refused(String),
    /// The audit service, which holds the spool, cannot be reached: the whole sentence.
    #[error("{0}")]
    Unavailable(String),
}

/// The current time in seconds since the epoch.
pub fn now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

/// `bytes` random bytes from the OS.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, ApprovalError> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ApprovalError::Random(format!("/dev/urandom: {e}")))?;
    Ok(buf)
}

/// An OS error as the C library words it, without "(os error N)".
pub(crate) fn os_reason(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}
