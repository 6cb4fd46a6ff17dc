//! The listening socket: handed over by systemd (socket activation, `LISTEN_FDS`), or bound
//! here on a path (`--socket`, for hosts without systemd and for the tests).

use super::DaemonError;
use std::os::unix::net::UnixListener;
use std::path::Path;

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: i32 = 3;

/// The socket systemd passed to this process, when it did: `LISTEN_PID` is this process and
/// `LISTEN_FDS` is at least 1. The variables are removed so no child inherits them.
pub fn from_systemd() -> Option<UnixListener> {
    let pid_ok = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        == Some(std::process::id());
    let fds = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    if !pid_ok || fds < 1 {
        return None;
    }
    // The descriptor must be an open Unix stream socket before it is owned here.
    let borrowed = nix::fcntl::fcntl(LISTEN_FDS_START, nix::fcntl::FcntlArg::F_GETFD).ok()?;
    let _ = borrowed;
    // SAFETY: systemd's socket-activation protocol hands this process descriptor 3, open, for
    // it alone (LISTEN_PID is our pid, checked above, and the variables are now removed, so
    // this runs at most once per process); fcntl(F_GETFD) just confirmed it is open. Nothing
    // else in the process owns or closes descriptor 3.
    let fd =
        unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(LISTEN_FDS_START) };
    let ty = nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::SockType).ok()?;
    if ty != nix::sys::socket::SockType::Stream {
        return None;
    }
    let _ = nix::fcntl::fcntl(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    Some(UnixListener::from(fd))
}

/// Bind `path` (mode 0666: anyone may connect, identity comes from the kernel). A stale socket
/// nobody listens on is replaced; a live one is an error.
pub fn bind(path: &Path) -> Result<UnixListener, DaemonError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let err = |e: std::io::Error| DaemonError::Listen {
        path: path.to_path_buf(),
        reason: super::io_reason(&e),
    };
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir).map_err(err)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).map_err(err)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(DaemonError::Listen {
                path: path.to_path_buf(),
                reason: "the path exists and is not a socket".to_string(),
            });
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(DaemonError::AlreadyRunning(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(err)?;
    Ok(listener)
}
