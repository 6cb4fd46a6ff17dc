//! What users install, end to end: the .deb built with `cargo deb`, installed with `dpkg -i`
//! (the binary root:root 0755, exactly as shipped), host.toml for a production database
//! primary, users whose login shell is `/usr/bin/prodguard` (one whose real shell is bash, one
//! zsh), a real sshd on 127.0.0.1 and real OpenSSH clients, under a pseudo-terminal where a person
//! would type.
//!
//! It changes the machine (a package, users, sudoers, sshd), so it is `#[ignore]`d and runs as
//! root: `cargo test --test installed -- --ignored` (scripts/test runs it). It never touches what
//! it did not create, waits for any other test installing the package (tests/packaging_deb.rs),
//! and purges everything at the end, on failure too, so it passes when run twice. Not root, or a
//! tool missing: skipped, saying why; under `CI=true` that fails instead.
//!
//! One install serves every step; each step runs even when an earlier one failed, and the test
//! fails at the end naming every step that did.

#[path = "../support/ansible.rs"]
mod ansible;
#[allow(dead_code)]
#[path = "../login_e2e/common.rs"]
mod common;
#[path = "../support/deb.rs"]
mod deb;
#[allow(dead_code)]
#[path = "../support/pty.rs"]
mod pty;
#[allow(dead_code)]
#[path = "../login_e2e/sshd.rs"]
mod sshd;
#[path = "../support/stdin.rs"]
mod stdin_feed;
#[path = "../support/mod.rs"]
mod support;

mod automation;
mod origin;
mod remote;
mod root;
mod sessions;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use world::World;

/// Whatever the suite needs on this machine, besides what installing the package needs.
fn tools_here() -> bool {
    let what = "installed";
    sshd::available(what)
        && [
            "zsh",
            "sudo",
            "scp",
            "sftp",
            "rsync",
            "python3",
            sshd::SFTP_SERVER,
        ]
        .iter()
        .all(|t| common::have(t, what))
}

fn message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

type Step = fn(&World);

const STEPS: &[(&str, Step)] = &[
    ("bash login over ssh -tt", sessions::bash_login),
    ("zsh login over ssh -tt", sessions::zsh_login),
    (
        "commands and stdin scripts over ssh",
        remote::commands_and_scripts,
    ),
    ("scp, sftp, rsync", remote::transfers),
    (
        "ssh -tt with nobody at the terminal",
        remote::nobody_at_a_forced_terminal,
    ),
    (
        "Ansible: ping, command, copy, shell, raw",
        automation::ansible_runs,
    ),
    ("root shells through sudo", root::root_shells),
    ("break-glass shell", root::break_glass),
    (
        "ssh conditions from the kernel, not SSH_CONNECTION",
        origin::ssh_conditions,
    ),
];

#[test]
#[ignore = "installs the .deb, creates users and starts sshd on this machine; run by scripts/test as root"]
fn the_installed_package_guards_every_way_in() {
    if let Some(why) = deb::skip_reason() {
        support::skip(&why);
        return;
    }
    if !tools_here() {
        return;
    }
    // tests/packaging_deb.rs installs the package too: one at a time.
    let _lock = deb::lock();
    if let Some(why) = deb::skip_reason() {
        support::skip(&why);
        return;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let pkg = deb::build_deb(out.path());
    let restore = deb::Restore::before_install();
    deb::ok(Command::new("dpkg").arg("-i").arg(&pkg));
    assert_eq!(
        deb::mode_owner(deb::BIN),
        (0o755, "root".into(), "root".into()),
        "the binary is not installed 0755 root:root (no privilege) as shipped"
    );
    let service = deb::start_service();
    let world = World::new();

    let mut failed = Vec::new();
    for (name, step) in STEPS {
        eprintln!("--- step: {name}");
        world.reset();
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| step(&world))) {
            failed.push(format!("{name}: {}", message(e.as_ref())));
        }
    }
    drop(world);
    drop(service);
    drop(restore);
    assert!(
        failed.is_empty(),
        "{} step(s) failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    assert!(
        deb::skip_reason().is_none(),
        "the machine was not left as found: {:?}",
        deb::skip_reason()
    );
}
