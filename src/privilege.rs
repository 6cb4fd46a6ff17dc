//! prodguard holds no privilege: it is installed `root:root` 0755, the audit log and the
//! approval spool belong to the audit service (root), and users reach them only through the
//! service's socket, which takes their identity from the kernel.
//!
//! A binary that is found setgid all the same (an install from before the audit service, or a
//! hand-made one) gives the group up for good as the very first thing it does, says so with the
//! fix, and then runs as an ordinary process: no privileged mode, nothing different. Giving up
//! cannot fail in practice (an unprivileged process may always set its group ids to its real
//! group id); when it does, the process refuses to run rather than run anything with the group.
//! The effective uid is not touched: only sudo's approval plugin runs prodguard as root, and it
//! does so on purpose.

#![forbid(unsafe_code)]

use nix::unistd::{getegid, getgid, getresgid, setresgid, Gid, Group};

/// Why a setgid group could not be given up. A whole sentence's middle: the caller says that
/// it refuses to run.
#[derive(Debug, thiserror::Error)]
#[error("cannot give up a setgid group: {0}")]
pub struct PrivilegeError(String);

/// What the package does to a binary found setgid.
pub const FIX: &str =
    "dpkg-statoverride --remove /usr/bin/prodguard; chmod 0755 /usr/bin/prodguard";

/// Whether the process runs with a group it was not started with (setgid execution).
pub fn is_setgid() -> bool {
    getegid() != getgid()
}

/// Give up a setgid group for good: real, effective and saved gid set to the real gid, and
/// checked with `getresgid`. Returns the group given up (`None` when not setgid, verified too).
pub fn give_up_setgid() -> Result<Option<Gid>, PrivilegeError> {
    let rgid = getgid();
    let egid = getegid();
    setresgid(rgid, rgid, rgid)
        .map_err(|e| PrivilegeError(format!("setresgid({rgid}) failed: {}", e.desc())))?;
    let r = getresgid().map_err(|e| PrivilegeError(format!("getresgid failed: {}", e.desc())))?;
    if r.real != rgid || r.effective != rgid || r.saved != rgid {
        return Err(PrivilegeError(format!(
            "group ids are still real {}, effective {}, saved {} after setresgid({rgid})",
            r.real, r.effective, r.saved
        )));
    }
    Ok((egid != rgid).then_some(egid))
}

/// The one line said when a setgid group was given up.
pub fn given_up_warning(gid: Gid) -> String {
    let name = Group::from_gid(gid)
        .ok()
        .flatten()
        .map_or_else(|| gid.to_string(), |g| g.name);
    format!(
        "prodguard: warning: this binary is installed setgid {name}, which it does not use; the group was given up. Fix: {FIX}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giving_up_without_setgid_is_a_verified_no_op() {
        assert!(matches!(give_up_setgid(), Ok(None)));
        assert_eq!(getegid(), getgid());
    }

    #[test]
    fn the_warning_names_the_group_and_the_fix() {
        let w = given_up_warning(Gid::from_raw(0));
        assert!(w.contains("setgid root"), "{w}");
        assert!(w.contains(FIX), "{w}");
    }
}
