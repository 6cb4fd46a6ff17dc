//! The audit service, `prodguard daemon`: the one process that writes the chained audit log.
//!
//! Users' prodguard processes hold no privilege; they send each record over a Unix socket
//! ([`crate::audit::service`] is the client and the wire format). The service:
//!
//! - takes the caller's uid, gid and pid from the kernel and the rest of the identity from
//!   `/proc` ([`peer`]), overwriting what the request says, and redacts again;
//! - writes every record through one [`FileSink`] from one writer thread, a *group commit*:
//!   whatever arrived while the disk was busy is written and made durable by one `fdatasync`,
//!   and each caller is answered only once its record is written (and on the disk, when asked);
//! - forwards each written line to syslog;
//! - keeps the log and its directory owned by root, readable by root and the reader group;
//! - holds the approval spool ([`approvals`]): files, lists, approves, denies and consumes
//!   requests for the caller the kernel names; the spool is root's, mode 0700;
//! - holds the break-glass grants ([`grants`]): starts one for the calling process (and records
//!   it), tells a process whether a grant covers it, and records each grant's end or expiry;
//! - confirms a record's session id ([`sessions`]) when the caller runs under the process that
//!   first named it, with its uid or as root; otherwise `session` stays advisory;
//! - answers a client's pre-check with whether the log can be written now ([`health`]): a last
//!   write that failed (full disk, I/O error, read-only) and a test write that still fails.
//!
//! Nobody can stall anybody else: each connection has its own thread with read and write
//! timeouts and a request size cap, there are caps on connections (in all and per uid), and no
//! client ever holds a lock — a client stopped with SIGSTOP only stops its own connection.
//!
//! Only [`activation`] has `unsafe` (taking over the descriptor systemd passes); every other
//! module forbids it.

pub mod activation;
pub mod approvals;
pub mod grants;
pub mod health;
pub mod peer;
pub mod server;
pub mod sessions;

use crate::audit::FileSink;
use std::path::PathBuf;

/// Where the service keeps its state when `--state-dir` is not given.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/prodguard";

/// The group that may read the audit log when host.toml's `[audit] reader_group` does not say.
pub const DEFAULT_READER_GROUP: &str = "adm";

/// Errors that stop the service from starting. Each is a whole sentence.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot listen on {}: {reason}", path.display())]
    Listen { path: PathBuf, reason: String },
    #[error("another audit service is already listening on {}", .0.display())]
    AlreadyRunning(PathBuf),
    #[error("cannot prepare {}: {reason}", path.display())]
    Prepare { path: PathBuf, reason: String },
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

fn io_reason(e: &std::io::Error) -> String {
    crate::audit::reason(e)
}

/// Set up the log's directory and file for the service: directory `root:GROUP` mode 2750 (new
/// files, rotations included, get the group), the file `root:GROUP` mode 0640. Ownership is
/// only changed when running as root. Returns the open sink.
pub fn prepare_log(
    path: &std::path::Path,
    reader_gid: Option<u32>,
) -> Result<FileSink, DaemonError> {
    use std::os::unix::fs::PermissionsExt;
    let prep = |p: &std::path::Path, e: std::io::Error| DaemonError::Prepare {
        path: p.to_path_buf(),
        reason: io_reason(&e),
    };
    let root = nix::unistd::geteuid().is_root();
    let own = |p: &std::path::Path| -> Result<(), DaemonError> {
        if root {
            std::os::unix::fs::chown(p, Some(0), reader_gid).map_err(|e| prep(p, e))?;
        }
        Ok(())
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| prep(dir, e))?;
        own(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o2750))
            .map_err(|e| prep(dir, e))?;
    }
    let sink = FileSink::open(path)?;
    own(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640))
        .map_err(|e| prep(path, e))?;
    Ok(sink)
}

/// The gid of the reader group `name`, `None` (root only) when there is no such group.
pub fn reader_gid(name: &str) -> Option<u32> {
    nix::unistd::Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}
