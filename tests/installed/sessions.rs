//! Interactive logins over `ssh -tt`, typed on a pseudo-terminal: the banner, the prompt, the
//! user's own startup files, the integration, and the GitLab line.

use crate::pty::Pty;
use crate::world::{Login, World, HOSTNAME, ROLE};

/// `ssh -tt` into `login`'s user, on a terminal.
pub fn interactive(login: &Login) -> Pty {
    let mut ssh = login.sshd.ssh(&["-tt"]);
    ssh.env("TERM", "xterm-256color");
    Pty::spawn(ssh)
}

/// The start of an interactive session up to the user's prompt: the banner says where this is.
pub fn logged_in(login: &Login) -> Pty {
    let mut t = interactive(login);
    let banner = t.expect("MYPROMPT");
    for want in ["PRODUCTION", HOSTNAME, ROLE] {
        assert!(banner.contains(want), "the banner lacks {want}:\n{banner}");
    }
    t
}

/// The session's own groups: the shell runs with the user's gid, real, effective and saved, and
/// not in the prodguard group older, setgid versions of the binary had.
pub fn no_audit_group(t: &mut Pty, gid: u32) {
    t.line("grep ^Gid: /proc/$$/status; id -Gn; echo GROUPS-$((1+1))END");
    let shown = t.expect(&format!("Gid:\t{gid}\t{gid}\t{gid}\t{gid}"));
    assert!(!shown.is_empty());
    let groups = t.expect("GROUPS-2END");
    let groups = groups.lines().map(str::trim).find(|l| !l.is_empty());
    assert!(
        groups.is_some_and(|g| !g.split_whitespace().any(|g| g == "prodguard")),
        "the session is in the prodguard group: {groups:?}"
    );
}

/// The last login of `records` ended on record: the shell's status, the integration loaded, and
/// as many commands judged as the session has decision records.
pub fn session_ended(records: &[serde_json::Value], shell: &str, exit: i64) {
    let end = records
        .iter()
        .rev()
        .find(|r| r["event"] == "session" && r["detail"] == "session ended")
        .unwrap_or_else(|| panic!("no end record: {records:#?}"));
    assert_eq!(end["outcome"], "exit", "{end:#}");
    assert_eq!(end["exit_status"], exit, "{end:#}");
    assert_eq!(end["integration"], shell, "{end:#}");
    assert_eq!(end["loaded"], true, "{end:#}");
    let decisions = records
        .iter()
        .filter(|r| {
            r["session"] == end["session"] && r["event"] == "command" && r["outcome"] != "exit"
        })
        .count() as u64;
    assert!(decisions >= 3, "{records:#?}");
    assert_eq!(end["commands"].as_u64(), Some(decisions), "{end:#}");
    // Every record of the login came from under the login process: the service confirms the
    // session of each one.
    for r in records.iter().filter(|r| r["session"] == end["session"]) {
        let advisory = r["advisory"].as_array().cloned().unwrap_or_default();
        assert!(
            !advisory.iter().any(|a| a == "session"),
            "a record of the login whose session the service did not confirm: {r:#}"
        );
    }
}

/// What bash and zsh sessions both show; `prompt_var` is the shell's prompt variable.
fn guarded(world: &World, login: &Login, shell: &str, prompt_var: &str, prompt: &str) {
    let mut t = logged_in(login);

    // The environment segment comes before the user's own prompt, coloured.
    t.line(&format!("printf '<%s>\\n' \"${prompt_var}\""));
    let shown = t.expect(&format!("{prompt}>"));
    let segment = shown.rsplit('<').next().unwrap_or_default().to_string();
    assert!(
        segment.contains(world.answer()),
        "no environment segment in the prompt: {shown:?}"
    );
    assert!(
        segment.contains("\x1b[") || segment.contains("\\e[") || segment.contains("\\033["),
        "the prompt segment is not coloured: {segment:?}"
    );
    t.expect("MYPROMPT");

    // The user's own startup file was read.
    t.line("hello_alias");
    t.expect("ALIAS-WORKS");
    t.expect("MYPROMPT");
    no_audit_group(&mut t, login.user.gid);

    // The GitLab line: asks for the host name; a wrong one runs nothing.
    let line = format!("sudo rm -rf {}", world.data.display());
    t.line(&line);
    t.expect("host name: ");
    t.line("db2");
    t.expect("refused");
    t.expect("MYPROMPT");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        world.data_intact(),
        "ran after a wrong answer:\n{}",
        t.screen()
    );
    // Kept in the editing buffer: clear it, type it again, answer right: it runs.
    t.send(b"\x15");
    t.line(&line);
    t.expect("host name: ");
    t.line(world.answer());
    t.expect("confirmed");
    assert!(
        world.data_gone(),
        "not run after the right answer:\n{}",
        t.screen()
    );
    t.line("echo $((7*7))done");
    t.expect("49done");
    t.expect("MYPROMPT");
    t.line("exit 4");
    let status = t.wait();
    assert_eq!(status.code(), Some(4), "screen:\n{}", t.screen());

    // On record, through the audit service, as this user: the session, both answers.
    let records = world.records_of(&login.user);
    session_ended(&records, shell, 4);
    assert!(
        records.iter().any(|r| r["event"] == "session"),
        "no session record for {}: {records:#?}",
        login.user.name
    );
    let answers: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["command"] == line.as_str())
        .collect();
    let outcomes: Vec<&str> = answers
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["denied", "confirmed"], "{answers:#?}");
    for r in &answers {
        assert_eq!(r["action"], "confirm", "{r:#}");
        assert_eq!(r["environment"], "production", "{r:#}");
        assert!(
            r["tty"]
                .as_str()
                .is_some_and(|t| t.starts_with("/dev/pts/")),
            "{r:#}"
        );
    }
}

pub fn bash_login(world: &World) {
    guarded(world, &world.bash, "bash", "PS1", "MYPROMPT\\$ ");
}

pub fn zsh_login(world: &World) {
    world.host_toml("/usr/bin/zsh");
    guarded(world, &world.zsh, "zsh", "PROMPT", "MYPROMPT%# ");
}
