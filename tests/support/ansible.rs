//! Ansible for the tests that drive a host with it (tests/sudo_plugin.rs, tests/installed/):
//! ansible-core as found on PATH, or installed from PyPI into a virtualenv under target/ the first
//! time it is needed, and the environment every run of it gets.
//!
//! Included by path: `#[path = "support/ansible.rs"] mod ansible;` from `tests/*.rs`,
//! `#[path = "../support/ansible.rs"] mod ansible;` from the directory harnesses.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tool` as found in a directory of `$PATH`.
fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// The Ansible program `tool` (`ansible`, `ansible-playbook`): on PATH, or in the virtualenv
/// `target/ansible-venv`, which is made with `python3 -m venv` and given ansible-core from PyPI
/// when it is missing. None when neither works (no python3-venv, no network).
pub fn bin(tool: &str) -> Option<PathBuf> {
    if let Some(found) = on_path(tool) {
        return Some(found);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ansible-venv");
    let bin = venv.join("bin").join(tool);
    if !bin.exists() {
        let ok = Command::new("/usr/bin/python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "ansible-core"])
                .status()
                .is_ok_and(|s| s.success());
        if !ok || !bin.exists() {
            return None;
        }
    }
    Some(bin)
}

/// `tool` run from the control directory `control` (its home, its local temp files): no host key
/// checks, no colour, nothing read from the invoking user's configuration.
pub fn command(tool: &Path, control: &Path) -> Command {
    let mut cmd = Command::new(tool);
    cmd.env("HOME", control)
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env(
            "ANSIBLE_SSH_ARGS",
            "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no",
        )
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", control.join("tmp"));
    cmd
}
