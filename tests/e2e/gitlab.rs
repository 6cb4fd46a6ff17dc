//! GitLab, 2017-01-31: an engineer meant to wipe the PostgreSQL data directory of the replica,
//! db2, and ran `rm -rf` on the primary, db1. With `prodguard intent db2` declared, the same
//! command on db1 is refused before anyone is asked; on db2 it asks for the host name, and the
//! name of the other host does not pass.
//!
//! Nothing here ever confirms the `rm -rf`: every question is answered wrongly or aborted. As a
//! second safety, `rm` on the PATH of these runs is a stub that only says it ran.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

pub(crate) const DATA_DIR: &str = "/var/opt/gitlab/postgresql/data";

/// `prodguard -- rm -rf DATA_DIR` in `world`, with `rm` a stub that deletes nothing.
pub(crate) fn rm_rf(world: &World) -> Command {
    let stubs = world.dir.path().join("stubs");
    if !stubs.exists() {
        std::fs::create_dir(&stubs).expect("stub dir");
        let rm = stubs.join("rm");
        std::fs::write(&rm, "#!/bin/sh\necho \"stub rm ran: $*\"\n").expect("stub rm");
        std::fs::set_permissions(&rm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![stubs];
    dirs.extend(std::env::split_paths(&path));
    let mut cmd = world.command(&["--", "rm", "-rf", DATA_DIR]);
    cmd.env("PATH", std::env::join_paths(dirs).expect("PATH"));
    cmd
}

fn declare(world: &World, host: &str) {
    let o = world.run_detached(&["intent", host, "--reason", "rebuild the replica"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn on_the_primary_with_intent_db2_rm_rf_is_refused_without_a_prompt() {
    let db1 = World::new(DB1);
    declare(&db1, "db2");
    // It must end on its own: were it to ask, finish() would give up waiting and fail.
    let f = spawn(rm_rf(&db1), Stdin::Tty).finish();
    assert_eq!(f.stdout, "", "rm ran");
    assert_eq!(f.status.code(), Some(126), "{}\n{}", f.screen, f.stderr);
    assert!(
        !f.screen.contains("host name:"),
        "it asked instead of refusing: {}",
        f.screen
    );
    assert!(
        f.stderr
            .contains("you declared db2; this is db1 (db-primary)"),
        "{}",
        f.stderr
    );
    assert!(f.stderr.contains("prodguard intent db1"), "{}", f.stderr);
    let rec = db1.records().pop().expect("recorded");
    assert_eq!(rec["outcome"], "denied", "{rec}");
    assert_eq!(rec["action"], "deny", "{rec}");
    let rules: Vec<&str> = rec["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(rules.contains(&"fs.rm-data-dir"), "{rec}");
}

#[test]
fn on_the_replica_it_asks_for_the_host_name_and_db1_does_not_pass() {
    let db2 = World::new(DB2);
    declare(&db2, "db2");
    let mut p = spawn(rm_rf(&db2), Stdin::Tty);
    p.expect("PRODUCTION \u{b7} db2 \u{b7} db-replica");
    p.expect("fs.rm-data-dir");
    p.expect("host name: ");
    p.send(b"db1\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(126), "{}", f.screen);
    assert_eq!(f.stdout, "", "rm ran");
    assert!(
        f.screen
            .contains("refused: you typed db1 (db-primary) \u{2014} this is db2 (db-replica)"),
        "{}",
        f.screen
    );
}

#[test]
fn without_an_intent_the_primary_still_asks() {
    let db1 = World::new(DB1);
    let mut p = spawn(rm_rf(&db1), Stdin::Tty);
    p.expect("PRODUCTION \u{b7} db1 \u{b7} db-primary");
    p.expect("host name: ");
    p.send(b"\x03");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(126), "{}", f.screen);
    assert_eq!(f.stdout, "", "rm ran");
    assert!(f.screen.contains("aborted: not confirmed"), "{}", f.screen);
}
