//! The setgid `prodguard` group: open the audit sinks while holding it, then drop it for good
//! before running anything the user asked for.
//!
//! prodguard is installed `root:prodguard`, mode 2755; `/var/log/prodguard` is
//! `root:prodguard` 2770 (or 3770). The group's only power is appending to the log. Sequence:
//!
//! 1. [`crate::audit::Sinks::for_host`] opens the file (`O_CLOEXEC`) and the syslog socket
//!    (close-on-exec, as every std socket);
//! 2. [`drop_group_permanently`] sets real, effective and saved gid to the real gid and checks
//!    with `getresgid` that it cannot come back;
//! 3. the command is exec'd with [`sanitized_env`] — an exec'd child never holds the group nor
//!    the log descriptor.

#![forbid(unsafe_code)]

use super::AuditError;
use nix::unistd::{getegid, getgid, getresgid, setresgid, Gid};
use std::ffi::{OsStr, OsString};

/// Whether the process runs with a group it was not started with (setgid execution).
pub fn is_setgid() -> bool {
    getegid() != getgid()
}

/// Set real, effective and saved group id to the real group id, and verify that all three
/// are now the real gid. A no-op (verified) when not setgid. Supplementary groups are not
/// touched: a setgid binary does not change them.
pub fn drop_group_permanently() -> Result<(), AuditError> {
    let rgid = getgid();
    setresgid(rgid, rgid, rgid)
        .map_err(|e| AuditError::Privilege(format!("setresgid({rgid}) failed: {}", e.desc())))?;
    verify_dropped(rgid)
}

fn verify_dropped(rgid: Gid) -> Result<(), AuditError> {
    let r = getresgid()
        .map_err(|e| AuditError::Privilege(format!("getresgid failed: {}", e.desc())))?;
    if r.real != rgid || r.effective != rgid || r.saved != rgid {
        return Err(AuditError::Privilege(format!(
            "group ids are still real {}, effective {}, saved {} after setresgid({rgid})",
            r.real, r.effective, r.saved
        )));
    }
    Ok(())
}

/// Variables that make the dynamic loader, libc or common interpreters load code or data
/// from a path the user chose. glibc removes most of them from a setgid process already
/// (secure-execution mode); this list is the belt to that pair of braces, applied while the
/// process is privileged.
const UNSAFE_VARS: &[&str] = &[
    "GCONV_PATH",
    "GETCONF_DIR",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
    "IFS",
    "BASH_ENV",
    "ENV",
    "PERL5LIB",
    "PERL5OPT",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "RUBYLIB",
    "RUBYOPT",
    "NODE_OPTIONS",
];

/// Whether `name` must not survive into a privileged process: `LD_*`, `GLIBC_TUNABLES`,
/// `MALLOC_*` and the names in the list above.
pub fn is_unsafe_var(name: &OsStr) -> bool {
    let Some(n) = name.to_str() else {
        return true;
    };
    n.starts_with("LD_")
        || n.starts_with("MALLOC_")
        || n == "GLIBC_TUNABLES"
        || UNSAFE_VARS.contains(&n)
}

/// The environment minus unsafe variables when `setgid` is true; unchanged otherwise.
/// Pass the result to `Command::env_clear().envs(…)`; the process's own environment is not
/// modified.
pub fn sanitized_env<I>(vars: I, setgid: bool) -> Vec<(OsString, OsString)>
where
    I: IntoIterator<Item = (OsString, OsString)>,
{
    vars.into_iter()
        .filter(|(k, _)| !setgid || !is_unsafe_var(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_loader_variables_only_when_setgid() {
        let vars = || {
            [
                ("LD_PRELOAD", "/tmp/x.so"),
                ("LD_LIBRARY_PATH", "/tmp"),
                ("GLIBC_TUNABLES", "x"),
                ("PATH", "/usr/bin"),
                ("HOME", "/root"),
            ]
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        };
        let kept: Vec<String> = sanitized_env(vars(), true)
            .into_iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(kept, ["PATH", "HOME"]);
        assert_eq!(sanitized_env(vars(), false).len(), 5);
    }

    #[test]
    fn dropping_without_setgid_is_a_verified_no_op() {
        assert!(drop_group_permanently().is_ok());
        assert_eq!(getegid(), getgid());
    }
}
