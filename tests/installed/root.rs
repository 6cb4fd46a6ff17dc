//! Root shells from a guarded login, and the break-glass shell of the installed binary.

use crate::sessions::{logged_in, no_audit_group};
use crate::world::World;

/// Type `line` at the user's prompt and wait for `until`; the text up to it.
fn at_prompt(t: &mut crate::pty::Pty, line: &str, until: &str) -> String {
    t.line(line);
    t.expect(until)
}

/// In a root shell that carries the guard, up to its exit: the banner, root's id, and the
/// GitLab line asked and refused on a wrong host name, the data left in place.
fn guarded_root_shell(world: &World, t: &mut crate::pty::Pty, tag: &str) {
    t.expect("PRODUCTION");
    t.line(&format!("echo ROOT-$(id -u)-{tag}"));
    t.expect(&format!("ROOT-0-{tag}"));
    // Root's shell, not the audit group's.
    no_audit_group(t, 0);
    t.line(&format!("rm -rf {}", world.data.display()));
    t.expect("host name: ");
    t.line("db2");
    t.expect("refused");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        world.data_intact(),
        "ran in a root shell ({tag}) after a wrong answer:\n{}",
        t.screen()
    );
    t.send(b"\x15");
    t.line("exit");
    t.expect("MYPROMPT");
}

pub fn root_shells(world: &World) {
    let login = &world.bash;
    let data = world.data.display().to_string();
    let mut t = logged_in(login);

    // `sudo -i`, `sudo su -`, `sudo bash`: each a root shell of its own, started with the guard as
    // its shell (root's login environment for the first two): warned about, then guarded.
    for (line, tag) in [("sudo -i", "I"), ("sudo su -", "SU"), ("sudo bash", "BASH")] {
        at_prompt(&mut t, line, "this root shell carries the guard");
        guarded_root_shell(world, &mut t, tag);
    }

    // `sudo -s`: $SHELL, the guard itself, as root, run as typed: the banner again, and every
    // line judged.
    at_prompt(&mut t, "sudo -s", "sys.root-shell-sudo");
    guarded_root_shell(world, &mut t, "S");
    t.line("exit");
    t.wait();

    let records = world.records();
    let mine = world.records_of(&login.user);
    for (cmd, rule, guarded_as) in [
        (
            "sudo -i",
            "sys.root-shell-sudo",
            Some("sudo -i /usr/bin/prodguard"),
        ),
        (
            "sudo su -",
            "sys.root-shell",
            Some("sudo su - -s /usr/bin/prodguard"),
        ),
        (
            "sudo bash",
            "sys.root-shell",
            Some("sudo /usr/bin/prodguard"),
        ),
        ("sudo -s", "sys.root-shell-sudo", None),
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
        // Which root shell was started, and that it carries the guard.
        if let Some(run) = guarded_as {
            let detail = r["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains(&format!("root shell `{cmd}` started guarded"))
                    && detail.contains(run),
                "{r:#}"
            );
        }
    }
    // Each root shell's refusal, on record as root's; the login user is named where sudo
    // passes it on (`su -` starts a clean environment).
    let refused: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["command"] == format!("rm -rf {data}").as_str() && r["user"] == "root")
        .collect();
    assert_eq!(refused.len(), 4, "{refused:#?}");
    for r in &refused {
        assert_eq!(r["outcome"], "denied", "{r:#}");
    }
    assert!(
        refused
            .iter()
            .filter(|r| r["login_user"] == login.user.name.as_str())
            .count()
            >= 2,
        "{refused:#?}"
    );
    // The guard's session in each root shell, as root.
    let sessions = records
        .iter()
        .filter(|r| r["event"] == "session" && r["user"] == "root")
        .count();
    assert!(sessions >= 4, "{records:#?}");
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
