//! The Debian package, built with `cargo deb`, inspected with `dpkg-deb`, installed for real on
//! this machine with `dpkg -i`, checked, and purged again.
//!
//! It changes the machine while it runs, so it is `#[ignore]`d: `scripts/test` runs it once,
//! as root, with `cargo test --test packaging_deb -- --ignored`. It skips (saying why) when not
//! root, when dpkg or cargo-deb is missing, or when anything it would create already exists (an
//! installed prodguard, the group, its directories): it never touches what it did not create, and
//! leaves the machine as it found it, on failure too. Under `CI=true` it fails instead of
//! skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/deb.rs"]
mod deb;
mod support;

use deb::{build_deb, mode_owner, ok, run, shells, skip_reason, BIN, PKG};

#[test]
#[ignore = "builds a release .deb and installs it on this machine; run by scripts/test as root"]
fn deb_installs_sets_up_and_purges_cleanly() {
    if let Some(why) = skip_reason() {
        support::skip(&why);
        return;
    }
    // Another test installing the package (tests/installed) waits until this one has purged.
    let _lock = deb::lock();
    if let Some(why) = skip_reason() {
        support::skip(&why);
        return;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let deb = build_deb(out.path());

    // What is in it.
    let contents = ok(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for path in [
        "./usr/bin/prodguard",
        "./usr/lib/prodguard/sudo_approval.so",
        "./usr/share/man/man1/prodguard.1",
        "./usr/share/man/man5/prodguard-policy.5",
        "./usr/share/man/man5/prodguard-host.5",
        "./usr/share/man/man5/prodguard-audit.5",
        "./usr/share/bash-completion/completions/prodguard",
        "./usr/share/zsh/vendor-completions/_prodguard",
        "./usr/share/fish/vendor_completions.d/prodguard.fish",
        "./usr/share/prodguard/policies/filesystem.toml",
        "./usr/share/prodguard/policies/databases.toml",
        "./usr/share/prodguard/shell-integration/prodguard.bash",
        "./usr/share/prodguard/shell-integration/prodguard.zsh",
        "./etc/prodguard/host.toml",
        "./etc/logrotate.d/prodguard",
        "./usr/share/doc/prodguard/examples/rsyslog/60-prodguard-forward.conf",
    ] {
        assert!(
            contents
                .lines()
                .any(|l| l.ends_with(path) || l.ends_with(&format!("{path}.gz"))),
            "{path} is not in the package:\n{contents}"
        );
    }
    let info = ok(Command::new("dpkg-deb").arg("-I").arg(&deb));
    for want in [
        "Package: prodguard",
        "postinst",
        "postrm",
        "prerm",
        "conffiles",
    ] {
        assert!(info.contains(want), "dpkg-deb -I lacks {want}:\n{info}");
    }
    let ctrl = tempfile::tempdir().expect("temp dir");
    ok(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(ctrl.path()));
    let conffiles = std::fs::read_to_string(ctrl.path().join("conffiles")).expect("conffiles");
    assert!(
        conffiles.lines().any(|l| l == "/etc/prodguard/host.toml"),
        "{conffiles}"
    );

    // Install it for real.
    let restore = deb::Restore::before_install();
    ok(Command::new("dpkg").arg("-i").arg(&deb));
    assert!(
        !deb::group_exists("prodguard"),
        "the package created a prodguard group, which nothing uses"
    );
    assert_unprivileged("binary as installed");
    assert_eq!(
        mode_owner("/usr/lib/prodguard/sudo_approval.so"),
        (0o644, "root".into(), "root".into()),
        "sudo plugin (sudo loads only root-owned, not group- or world-writable plugins)"
    );
    assert!(
        !std::fs::read_to_string("/etc/sudo.conf")
            .unwrap_or_default()
            .contains("prodguard_approval"),
        "the package must leave /etc/sudo.conf to the admin"
    );
    assert_eq!(
        mode_owner("/var/log/prodguard"),
        (0o2750, "root".into(), "adm".into()),
        "log dir"
    );
    assert_eq!(
        mode_owner("/var/log/prodguard/audit.jsonl"),
        (0o640, "root".into(), "adm".into()),
        "log file"
    );
    // The audit service: through its unit where systemd runs, else started by hand.
    let service = deb::start_service();
    assert_eq!(
        mode_owner("/var/lib/prodguard/requests"),
        (0o700, "root".into(), "root".into()),
        "spool"
    );
    assert_eq!(
        shells().lines().filter(|l| l.trim() == BIN).count(),
        1,
        "/etc/shells"
    );

    // Installed files work: the embedded policy tests pass, the shipped packs lint.
    ok(Command::new(BIN).args(["policy", "test"]));
    let shipped: Vec<PathBuf> = std::fs::read_dir("/usr/share/prodguard/policies")
        .expect("policies")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert!(!shipped.is_empty());
    ok(Command::new(BIN).args(["policy", "lint"]).args(&shipped));

    // The shipped binary has none of the test-only subcommands (feature `test-hooks`).
    for hook in [
        &["audit", "append-test", "--count", "1"][..],
        &["audit", "exec-test", "--", "true"][..],
    ] {
        let o = run(Command::new(BIN).args(hook));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{hook:?} is in the shipped binary: {err}"
        );
        assert!(err.contains("unrecognized subcommand"), "{hook:?}: {err}");
    }
    let o = run(Command::new(BIN).args(["report", "--status", "0", "--command", "x"]));
    assert_eq!(o.status.code(), Some(2), "report takes command text");

    // An unprivileged user's decision reaches the root-owned log through the audit service.
    if deb::has("setpriv") {
        ok(&mut as_nobody(&["check", "--no-ask", "ls"]));
        let log = std::fs::read_to_string("/var/log/prodguard/audit.jsonl").expect("log");
        assert!(
            log.lines().any(|l| l.contains("\"uid\":65534")),
            "no record from uid 65534:\n{log}"
        );
        ok(Command::new(BIN).args(["audit", "verify"]));
    }
    let status = run(Command::new(BIN).args(["status", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status --json");
    assert_eq!(v["privilege"]["setgid_bit"], false, "{v}");
    assert_eq!(v["audit"]["service"]["state"], "ok", "{v}");

    // As an older version left it: setgid prodguard, registered with dpkg. The binary gives
    // the group up as it starts, and says how to fix the install.
    ok(Command::new("groupadd").args(["--system", "prodguard"]));
    ok(Command::new("dpkg-statoverride").args([
        "--update",
        "--add",
        "root",
        "prodguard",
        "2755",
        BIN,
    ]));
    assert_eq!(mode_owner(BIN), (0o2755, "root".into(), "prodguard".into()));
    let as_nobody = run(&mut as_nobody(&["--", "id"]));
    let (out, err) = (
        String::from_utf8_lossy(&as_nobody.stdout),
        String::from_utf8_lossy(&as_nobody.stderr),
    );
    assert!(as_nobody.status.success(), "{out}\n{err}");
    assert!(
        err.contains("installed setgid prodguard") && err.contains("dpkg-statoverride --remove"),
        "no warning with the fix: {err}"
    );
    assert!(
        !out.contains("prodguard"),
        "the command ran with the group of a setgid binary: {out}"
    );
    let status = run(Command::new(BIN).args(["status", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status --json");
    assert_eq!(v["privilege"]["setgid_bit"], true, "{v}");
    assert!(
        v["problems"].to_string().contains("installed setgid"),
        "status does not report the setgid bit: {v}"
    );

    // Installing again (as an upgrade from that version would): the override goes, the binary
    // is 0755 root:root, the shell entry is not doubled; the old group stays until purge.
    ok(Command::new("dpkg").arg("-i").arg(&deb));
    assert_eq!(
        shells().lines().filter(|l| l.trim() == BIN).count(),
        1,
        "/etc/shells after reinstall"
    );
    assert_unprivileged("binary after an upgrade from a setgid install");
    assert!(deb::group_exists("prodguard"));

    drop(service);
    // Purge: the old group, shell entry and spool go; the audit logs stay, out of reach.
    ok(Command::new("dpkg").args(["--purge", PKG]));
    assert!(!deb::group_exists("prodguard"), "the group is still there");
    assert!(
        !shells().lines().any(|l| l.trim() == BIN),
        "/etc/shells still lists {BIN}"
    );
    assert!(!Path::new(BIN).exists());
    assert!(!Path::new("/var/lib/prodguard").exists());
    assert!(!Path::new("/etc/prodguard").exists(), "/etc/prodguard kept");
    let overrides = ok(Command::new("dpkg-statoverride").arg("--list"));
    assert!(!overrides.contains(BIN), "{overrides}");
    assert!(
        Path::new("/var/log/prodguard/audit.jsonl").exists(),
        "the audit log was deleted"
    );
    let (mode, user, _group) = mode_owner("/var/log/prodguard");
    assert_eq!(user, "root");
    assert_eq!(
        mode & 0o7020,
        0,
        "kept log dir is still group-writable or setgid: {mode:o}"
    );
    let (mode, _, _) = mode_owner("/var/log/prodguard/audit.jsonl");
    assert_eq!(
        mode & 0o020,
        0,
        "kept log is still group-writable: {mode:o}"
    );

    // A run killed with the package installed: scripts/clean-test-leftovers puts the machine
    // back before the next run, but only when a test installed it (or under CI=true).
    ok(Command::new("dpkg").arg("-i").arg(&deb));
    assert!(Path::new(deb::MARKER).exists(), "no marker while installed");
    let clean = || {
        let mut c = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/clean-test-leftovers"
        ));
        c.env_remove("CI");
        deb::run(&mut c)
    };
    let marker = std::fs::read(deb::MARKER).expect("marker");
    std::fs::remove_file(deb::MARKER).expect("remove marker");
    let o = clean();
    assert!(
        !o.status.success()
            && String::from_utf8_lossy(&o.stderr).contains("prodguard is installed"),
        "a package installed on purpose was not left alone: {o:?}"
    );
    assert!(
        deb::installed(),
        "a package installed on purpose was removed"
    );
    std::fs::write(deb::MARKER, marker).expect("marker");
    let o = clean();
    assert!(o.status.success(), "{o:?}");
    assert!(
        !Path::new(deb::MARKER).exists(),
        "the marker is still there"
    );
    assert!(
        skip_reason().is_none(),
        "leftovers not cleaned: {:?}",
        skip_reason()
    );

    drop(restore);
    assert!(skip_reason().is_none(), "the machine was not left as found");
}

/// The binary holds no privilege: root:root 0755, and no dpkg override that would make it setgid.
fn assert_unprivileged(what: &str) {
    assert_eq!(
        mode_owner(BIN),
        (0o755, "root".into(), "root".into()),
        "{what}"
    );
    let overrides = ok(Command::new("dpkg-statoverride").arg("--list"));
    assert!(
        !overrides.contains(BIN),
        "{what}: override kept: {overrides}"
    );
}

/// `prodguard ARGS` as nobody, with no supplementary group.
fn as_nobody(args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        BIN,
    ])
    .args(args)
    .current_dir("/");
    c
}
