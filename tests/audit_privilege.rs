//! The setgid privilege drop, for real: a copy of the binary setgid to a fresh group that alone
//! may write the log directory, run as a fresh unprivileged user.
//!
//! Needs root (CI is root), `useradd`/`groupadd`, `setpriv` and `unshare`; otherwise the test
//! prints why and passes (under `CI=true` it fails). The log directory is the built-in default,
//! `/var/log/prodguard/audit.jsonl`, on a tmpfs mounted over `/var/log` in a private mount
//! namespace, so the machine's own `/var/log` is never touched. The user and group get unique
//! names and are removed on every path.

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

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn setgid_writer_drops_the_group_before_exec() {
    if !nix::unistd::geteuid().is_root() {
        support::skip("creating a user and a setgid binary needs root");
        return;
    }
    for tool in ["useradd", "groupadd", "setpriv", "unshare", "mount"] {
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
    let decoy = dir.path().join("decoy.jsonl");

    let as_user = format!(
        "setpriv --reuid={u} --regid={u} --init-groups",
        u = acct.user
    );
    let script = format!(
        r#"set -u
mount -t tmpfs -o mode=0755 prodguard-test /var/log
mkdir /var/log/prodguard
chgrp {group} /var/log/prodguard
chmod 2770 /var/log/prodguard
echo "== direct"
{as_user} sh -c 'echo forged >> /var/log/prodguard/audit.jsonl' 2>&1 && echo "direct write succeeded" || echo "direct write refused"
echo "== run"
st=0
{as_user} {bin} audit exec-test --audit-file {decoy} -- id -G 2>&1 || st=1
{as_user} {bin} audit exec-test -- grep Gid /proc/self/status 2>&1 || st=1
{as_user} {bin} audit exec-test -- ls -l /proc/self/fd/ 2>&1 || st=1
echo "== status $st"
echo "== log"
cat /var/log/prodguard/audit.jsonl
stat -c '%G %a' /var/log/prodguard/audit.jsonl
{bin} audit verify /var/log/prodguard/audit.jsonl
"#,
        group = acct.group,
        bin = sh_quote(&bin.display().to_string()),
        decoy = sh_quote(&decoy.display().to_string()),
    );
    let o = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("unshare: {e}"));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let section = |name: &str| -> String {
        out.split(&format!("== {name}\n"))
            .nth(1)
            .and_then(|s| s.split("\n== ").next())
            .unwrap_or("")
            .to_string()
    };

    // The user alone cannot write the log: the group is what grants it.
    assert!(
        section("direct").contains("direct write refused"),
        "{out}\n{err}"
    );

    // The child ran, as the user, without the group, in every one of real/effective/saved/fs.
    let run = section("run");
    assert!(out.contains("== status 0"), "{out}\n{err}");
    // `id -G` prints the first line made only of numbers (stderr may come first).
    let groups: Vec<u32> = run
        .lines()
        .find(|l| !l.is_empty() && l.split_whitespace().all(|w| w.parse::<u32>().is_ok()))
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|g| g.parse().ok())
        .collect();
    assert!(groups.contains(&user_gid), "{run}");
    assert!(
        !groups.contains(&pg_gid),
        "child still has the prodguard group: {run}"
    );
    let gid_line = run
        .lines()
        .find(|l| l.starts_with("Gid:"))
        .unwrap_or_else(|| panic!("no Gid line: {run}"));
    let gids: Vec<u32> = gid_line
        .split_whitespace()
        .skip(1)
        .filter_map(|g| g.parse().ok())
        .collect();
    assert_eq!(gids, vec![user_gid; 4], "{gid_line}");
    // No descriptor of the log (or any socket of ours) survived the exec.
    assert!(
        !run.contains("audit.jsonl"),
        "log fd leaked into the child: {run}"
    );
    assert!(
        !run.contains("socket:"),
        "socket leaked into the child: {run}"
    );

    // The record went to the configured (default) log, not to the --audit-file decoy, which a
    // setgid process must ignore; the file belongs to the group.
    assert!(!decoy.exists(), "--audit-file was honoured while setgid");
    let log = section("log");
    let first = log.lines().next().unwrap_or("");
    let rec: serde_json::Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {log}\n{err}"));
    assert_eq!(rec["user"], acct.user.as_str());
    assert_eq!(rec["command"], "id -G");
    assert_eq!(log.matches("\"event\":\"test\"").count(), 3, "{log}");
    assert!(log.contains(&format!("{} 640", acct.group)), "{log}");
    assert!(log.contains("ok: "), "verify: {log}");
}
