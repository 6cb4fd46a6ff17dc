//! A real second Unix user for one test: `useradd` with a name unique to this process, no home,
//! removed with its group when dropped, so a test passes when run twice.

use std::process::Command;

pub struct TempUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl TempUser {
    /// Creates `{prefix}{pid}` (a stale one from an earlier run is removed first). The caller
    /// checks for root and `useradd` beforehand.
    pub fn create(prefix: &str) -> TempUser {
        let name = format!("{prefix}{}", std::process::id() % 100_000);
        let _ = Command::new("userdel").arg(&name).output();
        let _ = Command::new("groupdel").arg(&name).output();
        let added = Command::new("useradd")
            .args(["--no-create-home", "--user-group", "--shell", "/bin/sh"])
            .arg(&name)
            .status()
            .is_ok_and(|s| s.success());
        assert!(added, "useradd {name}");
        let u = nix::unistd::User::from_name(&name)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no user {name} after useradd"));
        TempUser {
            name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        }
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
        let _ = Command::new("groupdel").arg(&self.name).output();
    }
}
