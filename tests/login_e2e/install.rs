//! The install-local `prodguard-paths.toml`: honoured when it is as trustworthy as the binary,
//! ignored otherwise and by a setgid install.

use super::common::{self, Install};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

fn banner(install: &Install) -> Output {
    Command::new(&install.bin)
        .arg("banner")
        .env("NO_COLOR", "1")
        .output()
        .expect("prodguard banner")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn paths_file_is_used_when_trusted_and_ignored_when_writable_by_others() {
    let install = Install::new("/bin/bash");
    let (out, err) = text(&banner(&install));
    assert!(out.contains("db1.example.com"), "{out}{err}");
    assert!(err.is_empty(), "{err}");

    let file = install.bin.with_file_name("prodguard-paths.toml");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let (out, err) = text(&banner(&install));
    assert!(!out.contains("db1.example.com"), "{out}");
    assert!(
        err.contains("ignoring") && err.contains("writable"),
        "{err}"
    );

    // A directory above it writable by others is as bad.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let dir = install.bin.parent().expect("bin dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (out, err) = text(&banner(&install));
    assert!(!out.contains("db1.example.com"), "{out}");
    assert!(err.contains("ignoring"), "{err}");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The binary holds no privilege; one found setgid (an old install) gives the group up as it
/// starts, says how to fix the install, and otherwise runs as shipped: the paths file counts.
#[test]
fn a_setgid_install_gives_the_group_up_warns_and_keeps_the_paths_file() {
    if !common::root_or_skip("a_setgid_install_gives_the_group_up_warns_and_keeps_the_paths_file") {
        return;
    }
    let install = Install::new("/bin/bash");
    // Any group other than root's makes the run setgid for root.
    let nogroup = nix::unistd::Group::from_name("nogroup")
        .ok()
        .flatten()
        .or_else(|| nix::unistd::Group::from_gid(65534.into()).ok().flatten());
    let Some(group) = nogroup else {
        crate::support::skip(
            "a_setgid_install_gives_the_group_up_warns_and_keeps_the_paths_file: no nogroup group",
        );
        return;
    };
    std::os::unix::fs::chown(&install.bin, None, Some(group.gid.as_raw())).expect("chgrp");
    std::fs::set_permissions(&install.bin, std::fs::Permissions::from_mode(0o2755))
        .expect("chmod g+s");
    let (out, err) = text(&banner(&install));
    assert!(err.contains("setgid"), "{err}");
    assert!(err.contains("dpkg-statoverride --remove"), "{err}");
    assert!(out.contains("db1.example.com"), "{out}");
}
