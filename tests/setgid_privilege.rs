//! A binary found setgid (an install from before the audit service) holds no privilege all the
//! same: a copy of the binary setgid to a fresh group, run as a fresh unprivileged user, gives
//! the group up as it starts, says so with the fix, and neither it nor what it runs keeps it.
//!
//! Needs root (CI is root), `useradd`/`groupadd` and `setpriv`; otherwise the test prints why and
//! passes (under `CI=true` it fails). The user and group get unique names and are removed on
//! every path.

use std::path::Path;
use std::process::Command;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

struct Account {
    user: String,
    group: String,
}

impl Drop for Account {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.user).output();
        let _ = Command::new("groupdel").arg(&self.user).output();
        let _ = Command::new("groupdel").arg(&self.group).output();
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn a_setgid_binary_gives_the_group_up_as_it_starts() {
    if !nix::unistd::geteuid().is_root() {
        support::skip("creating a user and a setgid binary needs root");
        return;
    }
    for tool in ["useradd", "groupadd", "setpriv", "findmnt"] {
        if !have(tool) {
            support::skip(&format!("{tool} is not installed"));
            return;
        }
    }
    let id = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() % 100_000)
            .unwrap_or(0)
    );
    let acct = Account {
        user: format!("pgtu{id}"),
        group: format!("pgtg{id}"),
    };
    let ok = |c: &mut Command| c.output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok(Command::new("groupadd").arg(&acct.group)), "groupadd");
    assert!(
        ok(Command::new("useradd")
            .args(["--no-create-home", "--user-group", "--shell", "/bin/sh"])
            .arg(&acct.user)),
        "useradd"
    );
    let gid_of = |name: &str| {
        nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
            .unwrap_or_else(|| panic!("no group {name}"))
    };
    let pg_gid = gid_of(&acct.group);
    let user_gid = gid_of(&acct.user);

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let findmnt = Command::new("findmnt")
        .args(["-n", "-o", "OPTIONS", "--target"])
        .arg(dir.path())
        .output();
    if findmnt
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("nosuid"))
        .unwrap_or(false)
    {
        support::skip("the temp directory is on a nosuid mount");
        return;
    }
    let bin = dir.path().join("prodguard");
    std::fs::copy(BIN, &bin).unwrap_or_else(|e| panic!("{e}"));
    let chmod = |p: &Path, mode: &str| assert!(ok(Command::new("chmod").arg(mode).arg(p)));
    chmod(dir.path(), "0755");
    assert!(ok(Command::new("chgrp").arg(&acct.group).arg(&bin)));
    chmod(&bin, "2755");
    // The user's own log, so that no audit service is needed.
    let log = dir.path().join("user.jsonl");
    std::fs::write(&log, "").unwrap_or_else(|e| panic!("{e}"));
    assert!(ok(Command::new("chown").arg(&acct.user).arg(&log)));
    chmod(&log, "0600");

    let as_user = |args: &[&str]| {
        let o = Command::new("setpriv")
            .arg(format!("--reuid={}", acct.user))
            .arg(format!("--regid={}", acct.user))
            .arg("--init-groups")
            .arg("--")
            .arg(&bin)
            .args(args)
            .current_dir("/")
            .output()
            .unwrap_or_else(|e| panic!("setpriv: {e}"));
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let log_arg = log.display().to_string();

    // What it runs has only the user's groups, in every one of real/effective/saved/fs.
    let (code, out, err) = as_user(&["--audit-file", &log_arg, "--", "id", "-G"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        err.contains(&format!("installed setgid {}", acct.group))
            && err.contains("dpkg-statoverride --remove /usr/bin/prodguard"),
        "no warning naming the group and the fix: {err}"
    );
    let groups: Vec<u32> = out
        .split_whitespace()
        .filter_map(|g| g.parse().ok())
        .collect();
    assert!(groups.contains(&user_gid), "{out}");
    assert!(
        !groups.contains(&pg_gid),
        "the command kept the group of the setgid binary: {out}"
    );
    let (code, out, err) = as_user(&[
        "--audit-file",
        &log_arg,
        "--",
        "grep",
        "^Gid:",
        "/proc/self/status",
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let gids: Vec<u32> = out
        .split_whitespace()
        .skip(1)
        .filter_map(|g| g.parse().ok())
        .collect();
    assert_eq!(gids, vec![user_gid; 4], "{out}");

    // prodguard itself gave the group up, and `status` says what to fix.
    let (_, out, err) = as_user(&["--audit-file", &log_arg, "status", "--json"]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(v["privilege"]["setgid_bit"], true, "{v}");
    assert_eq!(v["privilege"]["effective_group"], acct.user.as_str(), "{v}");
    assert!(
        v["problems"].to_string().contains("installed setgid"),
        "{v}"
    );

    // The records went to the file asked for, as the user.
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{e}"));
    let first = text.lines().next().unwrap_or("");
    let rec: serde_json::Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(rec["user"], acct.user.as_str(), "{text}");
}
