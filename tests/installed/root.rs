//! Root shells from a guarded login, and the break-glass shell of the installed binary.

use crate::sessions::{logged_in, no_audit_group};
use crate::world::World;

/// Type `line` at the user's prompt and wait for `until`; the text up to it.
fn at_prompt(t: &mut crate::pty::Pty, line: &str, until: &str) -> String {
    t.line(line);
    t.expect(until)
}

pub fn root_shells(world: &World) {
    let login = &world.bash;
    let data = world.data.display().to_string();
    let mut t = logged_in(login);

    // `sudo -i`: root's own login shell. On production the guard warns, says the shell is not
    // judged, and records it; the shell that follows is root's.
    let shown = at_prompt(&mut t, "sudo -i", "sys.root-shell-sudo");
    assert!(!shown.is_empty());
    t.line("echo ROOT-$(id -u)-SHELL");
    t.expect("ROOT-0-SHELL");
    t.line("exit");
    t.expect("MYPROMPT");

    // `sudo su -`: the same, warned about as a root shell.
    at_prompt(&mut t, "sudo su -", "sys.root-shell");
    t.line("echo ROOT-$(id -u)-SU");
    t.expect("ROOT-0-SU");
    t.line("exit");
    t.expect("MYPROMPT");

    // `sudo -s`: $SHELL, the guard itself, as root: the banner again, and every line judged.
    at_prompt(&mut t, "sudo -s", "sys.root-shell-sudo");
    t.expect("PRODUCTION");
    t.line("echo ROOT-$(id -u)-GUARDED");
    t.expect("ROOT-0-GUARDED");
    // Root's shell, not the audit group's.
    no_audit_group(&mut t, 0);
    t.line(&format!("rm -rf {data}"));
    t.expect("host name: ");
    t.line("db2");
    t.expect("refused");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        world.data_intact(),
        "ran in a root shell after a wrong answer:\n{}",
        t.screen()
    );
    t.send(b"\x15");
    t.line("exit");
    t.expect("MYPROMPT");
    t.line("exit");
    t.wait();

    let records = world.records();
    let mine = world.records_of(&login.user);
    for (cmd, rule) in [
        ("sudo -i", "sys.root-shell-sudo"),
        ("sudo su -", "sys.root-shell"),
        ("sudo -s", "sys.root-shell-sudo"),
    ] {
        let r = mine
            .iter()
            .find(|r| r["command"] == cmd)
            .unwrap_or_else(|| panic!("no record of {cmd}: {mine:#?}"));
        assert_eq!(r["action"], "warn", "{r:#}");
        assert!(
            r["rules"]
                .as_array()
                .is_some_and(|rules| rules.iter().any(|x| x == rule)),
            "{r:#}"
        );
    }
    let refused = records
        .iter()
        .find(|r| r["command"] == format!("rm -rf {data}").as_str())
        .unwrap_or_else(|| panic!("no record of the root shell's rm: {records:#?}"));
    assert_eq!(refused["user"], "root", "{refused:#}");
    assert_eq!(refused["outcome"], "denied", "{refused:#}");
    assert_eq!(
        refused["login_user"],
        login.user.name.as_str(),
        "{refused:#}"
    );
}

pub fn break_glass(world: &World) {
    let login = &world.bash;
    let data = world.data.display().to_string();
    let mut t = logged_in(login);
    let reason = "replica lag incident INC-4711, the primary must be rebuilt";
    t.line(&format!("prodguard --break-glass --reason '{reason}'"));
    // The installed binary's banner, in the shell it starts.
    t.expect("BREAK-GLASS SESSION");
    // The banner wraps the reason; its ticket number is on one line.
    t.expect("INC-4711");
    t.expect("MYPROMPT");
    no_audit_group(&mut t, login.user.gid);
    // What would have been asked runs, warned about and recorded.
    t.line(&format!("sudo rm -rf {data}"));
    // "prodguard: BREAK-GLASS: confirm (rule) waived …"
    t.expect("BREAK-GLASS: ");
    t.expect("MYPROMPT");
    assert!(
        world.data_gone(),
        "not run under break-glass:\n{}",
        t.screen()
    );
    t.line("echo $((8*8))bg");
    t.expect("64bg");
    t.expect("MYPROMPT");
    t.line("exit");
    t.expect("MYPROMPT");
    t.line("exit");
    t.wait();

    let mine = world.records_of(&login.user);
    assert!(
        mine.iter()
            .any(|r| r["reason"].as_str().is_some_and(|x| x.contains("INC-4711"))),
        "the break-glass reason is not on record: {mine:#?}"
    );
    // The last record of that command: the bash step ran it before, asked and answered.
    let waived = mine
        .iter()
        .rev()
        .find(|r| r["command"] == format!("sudo rm -rf {data}").as_str())
        .unwrap_or_else(|| panic!("the waived command is not on record: {mine:#?}"));
    assert_eq!(waived["outcome"], "break-glass", "{waived:#}");
    // The break-glass shell's end: the id check, the waived line, `echo` and `exit`.
    let ended = mine
        .iter()
        .rev()
        .find(|r| r["detail"] == "break-glass session ended")
        .unwrap_or_else(|| panic!("no end of the break-glass shell: {mine:#?}"));
    assert_eq!(ended["exit_status"], 0, "{ended:#}");
    assert_eq!(ended["commands"], 4, "{ended:#}");
    assert_eq!(ended["loaded"], true, "{ended:#}");
    crate::sessions::session_ended(&mine, "bash", 0);
}
