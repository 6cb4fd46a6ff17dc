//! Real bash and zsh under a pseudo-terminal, started through the login path (`-prodguard`, as
//! login(1) and sshd start a login shell), with the user's own startup files.

use super::common::{self, Install, HOST_SHORT};
use super::pty::Pty;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// Start `install`'s binary as a login shell on a terminal, as root, with `home` as HOME.
fn login(install: &Install, home: &Path) -> Pty {
    let mut c = Command::new(&install.bin);
    c.arg0("-prodguard")
        .env_clear()
        .env("HOME", home)
        .env("USER", "root")
        .env("LOGNAME", "root")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("SHELL", &install.bin)
        .current_dir(home);
    Pty::spawn(c)
}

fn home(install: &Install, files: &[(&str, &str)]) -> std::path::PathBuf {
    let home = install.home("root");
    std::fs::create_dir_all(&home).expect("home");
    for (name, text) in files {
        std::fs::write(home.join(name), text).expect("rc file");
    }
    home
}

/// What both shells must do, once the user's prompt is on the screen. Each line is typed at a
/// prompt: what is typed ahead while the guard asks is not kept for the shell.
fn guarded_session(install: &Install, t: &mut Pty, shell: &str) {
    // The user's alias works.
    t.line("hello_alias");
    t.expect("ALIAS-WORKS");
    t.expect("MYPROMPT");

    // A safe line runs.
    t.line("echo $((6*7))ok");
    t.expect("42ok");
    t.expect("MYPROMPT");

    // A dangerous line is refused as a whole: nothing in it runs, not even the harmless part
    // before the dangerous one.
    let marker = install.scratch.join("ran");
    let line = format!(
        "uptime >/dev/null; touch {}; rm -rf {}",
        marker.display(),
        install.data_dir.display()
    );
    t.line(&line);
    t.expect("host name: ");
    t.line("db2");
    t.expect("refused");
    t.expect("MYPROMPT");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!marker.exists(), "part of a refused line ran");
    assert!(install.data_dir.exists(), "a refused line ran");

    // Kept in the buffer: clear it, type it again, answer right: it runs, all of it.
    t.send(b"\x15");
    t.line(&line);
    t.expect("host name: ");
    t.line(HOST_SHORT);
    t.expect("confirmed");
    t.expect("MYPROMPT");
    t.line("echo $((7*7))done");
    t.expect("49done");
    t.expect("MYPROMPT");
    assert!(marker.exists(), "{}", t.screen());
    assert!(!install.data_dir.exists(), "{}", t.screen());

    // Keys for the running command reach it, not the login: Ctrl-C ends a command and the
    // session goes on; Ctrl-Z stops one and `fg` brings it back (job control works).
    t.line("sleep 100");
    std::thread::sleep(std::time::Duration::from_millis(500));
    t.send(b"\x03");
    t.expect("MYPROMPT");
    t.line("sleep 100");
    std::thread::sleep(std::time::Duration::from_millis(500));
    t.send(b"\x1a");
    t.expect("MYPROMPT");
    t.line("fg");
    t.expect("sleep 100");
    std::thread::sleep(std::time::Duration::from_millis(500));
    t.send(b"\x03");
    t.expect("MYPROMPT");
    t.line("echo $((8*8))alive");
    t.expect("64alive");
    t.expect("MYPROMPT");

    // The shell's own variables, set on earlier lines and not exported, decide as their values:
    // one that names scratch space runs without a question, one that names the data directory
    // is asked about, and an unset one is empty (`"$unset"/` is `/`).
    let keep = install.scratch.join("keep-me-not");
    std::fs::create_dir_all(keep.join("sub")).expect("scratch dir");
    t.line(&format!("pg_scratch={}", keep.display()));
    t.expect("MYPROMPT");
    t.line("rm -rf \"$pg_scratch\"; echo $((9*9))gone");
    t.expect("81gone");
    t.expect("MYPROMPT");
    assert!(!keep.exists(), "{}", t.screen());
    t.line(&format!("pg_data={}", install.data_dir.display()));
    t.expect("MYPROMPT");
    t.line("rm -rf \"$pg_data\"");
    t.expect("host name: ");
    t.line("db2");
    t.expect("refused");
    t.expect("MYPROMPT");
    t.send(b"\x15");
    t.line("rm -rf \"$pg_never_set\"/");
    t.expect("refused");
    t.expect("MYPROMPT");
    t.send(b"\x15");

    t.line("exit 4");
    let status = t.wait();
    assert_eq!(status.code(), Some(4), "screen:\n{}", t.screen());
    let mine = session_records(install, shell, 4, 10);
    // The session lasted at least as long as the waits above.
    let end = mine.iter().find(|r| is(r, "detail", "session ended"));
    let ms = end.and_then(|r| r["duration_ms"].as_u64()).unwrap_or(0);
    assert!(ms >= 1800, "{end:?}");
    // Both answers are on record, with the line as typed.
    let audit = install.audit();
    let records: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("e2e.rm-data-dir") && l.contains("touch "))
        .collect();
    assert_eq!(records.len(), 2, "audit:\n{audit}");
    // On the terminal's own name, as the session record.
    assert!(records[0].contains("\"tty\":\"/dev/pts/"), "{}", records[0]);
    assert!(
        records[0].contains("\"outcome\":\"denied\""),
        "{}",
        records[0]
    );
    assert!(
        records[1].contains("\"outcome\":\"confirmed\""),
        "{}",
        records[1]
    );
}

/// The login's session records: the start says which integration was set up, the integration
/// says it loaded, and the end has the shell's exit status, the duration and as many commands
/// judged as the log has decisions for the session (at least `min`). Returns the session's
/// records.
fn session_records(install: &Install, shell: &str, exit: i64, min: u64) -> Vec<serde_json::Value> {
    let audit = install.audit();
    let records: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record"))
        .collect();
    let start = records
        .iter()
        .find(|r| is(r, "event", "session") && r["outcome"].is_null())
        .unwrap_or_else(|| panic!("no session record:\n{audit}"));
    assert!(is(start, "integration", shell), "{start}");
    let session = start["session"].as_str().expect("session id").to_string();
    let mine: Vec<serde_json::Value> = records
        .into_iter()
        .filter(|r| is(r, "session", &session))
        .collect();
    assert!(
        mine.iter().any(|r| is(r, "detail", "integration loaded")
            && is(r, "integration", shell)
            && r["loaded"] == true),
        "no `integration loaded` record:\n{audit}"
    );
    let end: Vec<&serde_json::Value> = mine
        .iter()
        .filter(|r| is(r, "outcome", "exit") && is(r, "detail", "session ended"))
        .collect();
    assert_eq!(end.len(), 1, "one end record:\n{audit}");
    let end = end[0];
    assert_eq!(end["event"], "session", "{end}");
    assert_eq!(end["exit_status"].as_i64(), Some(exit), "{end}");
    assert!(end["duration_ms"].as_u64().is_some(), "{end}");
    assert_eq!(end["loaded"], true, "{end}");
    assert_eq!(end["integration"], shell, "{end}");
    let decisions = mine
        .iter()
        .filter(|r| is(r, "event", "command") && !is(r, "outcome", "exit"))
        .count() as u64;
    assert!(decisions >= min, "decisions recorded:\n{audit}");
    assert_eq!(end["commands"].as_u64(), Some(decisions), "{end}\n{audit}");
    mine
}

fn is(r: &serde_json::Value, k: &str, v: &str) -> bool {
    r[k].as_str() == Some(v)
}

#[test]
fn bash_login_keeps_the_users_prompt_and_checks_whole_lines() {
    if !common::root_or_skip("bash_login") || !common::have("bash", "bash_login") {
        return;
    }
    let install = Install::new("/bin/bash");
    let home = home(
        &install,
        &[
            (
                ".profile",
                "[ -n \"$BASH_VERSION\" ] && [ -r ~/.bashrc ] && . ~/.bashrc\n",
            ),
            (
                ".bashrc",
                "PS1='MYPROMPT\\$ '\nalias hello_alias='echo ALIAS-WORKS'\n",
            ),
            (".bash_logout", "touch \"$LOGOUT_MARKER\"\n"),
        ],
    );
    let mut t = login(&install, &home);
    t.expect("PRODUCTION");
    t.expect("MYPROMPT");
    // The integration's segment comes before the user's prompt.
    t.line("printf '<%s>\\n' \"$PS1\"");
    let shown = t.expect("MYPROMPT\\$ >");
    assert!(
        shown.contains(HOST_SHORT),
        "no environment segment: {shown}"
    );
    t.expect("MYPROMPT");
    t.line(&format!(
        "export LOGOUT_MARKER={}/logout",
        install.scratch.display()
    ));
    t.expect("MYPROMPT");
    guarded_session(&install, &mut t, "bash");
    // What a login bash does at the end, although it runs as a non-login bash.
    assert!(
        install.scratch.join("logout").exists(),
        "~/.bash_logout not read"
    );
}

#[test]
fn zsh_login_keeps_the_users_prompt_and_checks_whole_lines() {
    if !common::root_or_skip("zsh_login") || !common::have("zsh", "zsh_login") {
        return;
    }
    let install = Install::new("/bin/zsh");
    let home = home(
        &install,
        &[
            (
                ".zshrc",
                "PROMPT='MYPROMPT%# '\nalias hello_alias='echo ALIAS-WORKS'\n",
            ),
            (".zlogin", "echo ZLOGIN-READ\n"),
        ],
    );
    let mut t = login(&install, &home);
    t.expect("PRODUCTION");
    t.expect("ZLOGIN-READ");
    t.expect("MYPROMPT");
    // The private startup directory is gone once zsh has read it.
    let private = Path::new("/tmp").join(format!("prodguard-zsh-0-{}", t.pid()));
    assert!(!private.exists(), "{} left behind", private.display());
    t.line("printf '<%s>\\n' \"$PROMPT\"");
    let shown = t.expect("MYPROMPT%# >");
    assert!(
        shown.contains(HOST_SHORT),
        "no environment segment: {shown}"
    );
    guarded_session(&install, &mut t, "zsh");
}

/// A bash login with a plain prompt, at its first prompt (`None`: skipped).
fn plain_bash_login(what: &str) -> Option<(Install, Pty)> {
    bash_login_with(what, ". ~/.bashrc\n", "PS1='MYPROMPT\\$ '\n")
}

/// A bash login with these `.profile` and `.bashrc`, at its first prompt (`None`: skipped).
fn bash_login_with(what: &str, profile: &str, bashrc: &str) -> Option<(Install, Pty)> {
    if !common::root_or_skip(what) || !common::have("bash", what) {
        return None;
    }
    let install = Install::new("/bin/bash");
    let home = home(&install, &[(".profile", profile), (".bashrc", bashrc)]);
    let mut t = login(&install, &home);
    t.expect("MYPROMPT");
    Some((install, t))
}

/// A login to `shell` (bash or zsh) whose install has an audit service of its own (writing the
/// install's log, so that it can hold break-glass grants), `top` put at the head of its
/// host.toml; at its first prompt (`None`: skipped).
fn break_glass_login(
    what: &str,
    shell: &str,
    top: &str,
) -> Option<(Install, super::daemon::Daemon, Pty)> {
    if !common::root_or_skip(what) || !common::have(shell, what) {
        return None;
    }
    let install = common::Install::new(&format!("/bin/{shell}"));
    let host_file = install.root.path().join("etc/host.toml");
    let socket = install.root.path().join("service/audit.sock");
    let mut host = std::fs::read_to_string(&host_file).expect("host.toml");
    host.insert_str(0, top);
    host.push_str(&format!(
        "socket = \"{}\"\nfile = \"{}\"\n",
        socket.display(),
        install.audit_file.display()
    ));
    std::fs::write(&host_file, host).expect("host.toml");
    let service = super::daemon::Daemon::start(
        &install.bin,
        &host_file,
        &socket,
        &install.root.path().join("service/state"),
    );
    let files: &[(&str, &str)] = if shell == "zsh" {
        &[(".zshrc", "PROMPT='MYPROMPT%# '\n")]
    } else {
        &[
            (".profile", ". ~/.bashrc\n"),
            (".bashrc", "PS1='MYPROMPT\\$ '\n"),
        ]
    };
    let home = home(&install, files);
    let mut t = login(&install, &home);
    t.expect("MYPROMPT");
    Some((install, service, t))
}

/// Start a break-glass shell at the prompt of `t`.
fn start_break_glass(install: &Install, t: &mut Pty) {
    t.line(&format!(
        "{} --break-glass --reason 'replica lag incident INC-4711'",
        install.bin.display()
    ));
    t.expect("BREAK-GLASS SESSION");
}

#[test]
fn break_glass_shell_has_its_own_end_record() {
    let Some((install, _service, mut t)) = break_glass_login("break_glass_end", "bash", "") else {
        return;
    };
    start_break_glass(&install, &mut t);
    t.expect("MYPROMPT");
    t.line("echo $((5*5))bg");
    t.expect("25bg");
    t.expect("MYPROMPT");
    t.line("exit 3");
    t.expect("MYPROMPT");
    t.line("echo $((6*6))out");
    t.expect("36out");
    t.expect("MYPROMPT");
    t.line("exit");
    assert_eq!(t.wait().code(), Some(0), "{}", t.screen());
    // The login's end counts every decision of the session, the break-glass shell's too.
    let mine = session_records(&install, "bash", 0, 5);
    let ended: Vec<&serde_json::Value> = mine
        .iter()
        .filter(|r| is(r, "detail", "break-glass session ended"))
        .collect();
    assert_eq!(ended.len(), 1, "{mine:#?}");
    let bg = ended[0];
    assert_eq!(bg["outcome"], "exit", "{bg}");
    assert_eq!(bg["exit_status"], 3, "{bg}");
    // `echo` and `exit 3`, typed in the break-glass shell.
    assert_eq!(bg["commands"], 2, "{bg}");
    assert_eq!(bg["loaded"], true, "{bg}");
    assert!(bg["duration_ms"].as_u64().is_some(), "{bg}");
}

#[test]
fn a_break_glass_prompt_carries_the_marker_until_the_grant_lapses_bash() {
    break_glass_prompt_lapses("bash");
}

#[test]
fn a_break_glass_prompt_carries_the_marker_until_the_grant_lapses_zsh() {
    break_glass_prompt_lapses("zsh");
}

/// In a break-glass shell of `shell`, the prompt's segment carries the marker while the grant
/// holds, and not after it lapses nor once the shell is left.
fn break_glass_prompt_lapses(shell: &str) {
    // 0.05 minutes: 3 seconds.
    let Some((install, _service, mut t)) = break_glass_login(
        &format!("break_glass_prompt ({shell})"),
        shell,
        "break_glass_minutes = 0.05\n",
    ) else {
        return;
    };
    start_break_glass(&install, &mut t);
    let first = t.expect("MYPROMPT");
    assert!(
        first.contains(" BREAK-GLASS until ") && first.contains(" UTC]MYPROMPT"),
        "no marker in the break-glass shell's prompt: {first:?}"
    );
    t.line("echo $((8*8))bg");
    t.expect("64bg");
    let still = t.expect("MYPROMPT");
    assert!(still.contains(" BREAK-GLASS until "), "{still:?}");
    // The grant lapses; the next prompt says so by no longer carrying the marker.
    std::thread::sleep(std::time::Duration::from_secs(4));
    t.line("echo $((7*7))late");
    t.expect("49late");
    let late = t.expect("MYPROMPT");
    assert!(
        !late.contains("BREAK-GLASS") && late.contains("]MYPROMPT"),
        "the marker outlived the grant: {late:?}"
    );
    t.line("exit");
    let outside = t.expect("MYPROMPT");
    assert!(!outside.contains("BREAK-GLASS"), "{outside:?}");
    t.line("exit");
    assert_eq!(t.wait().code(), Some(0), "{}", t.screen());
}

#[test]
fn a_hangup_ends_the_shell_and_the_session_on_record() {
    let Some((install, mut t)) = plain_bash_login("hangup_end") else {
        return;
    };
    t.line("echo $((9*9))up");
    t.expect("81up");
    t.expect("MYPROMPT");
    // Let readline reach its read of the terminal: bash notes a SIGHUP that lands between the
    // prompt and that read and acts on it only at the next key, while a real hangup also ends the
    // read. Without this the test races bash under load.
    t.settle(std::time::Duration::from_millis(500));
    // What the kernel sends the login when the connection drops: the login passes it on, the
    // shell ends, and the login still writes the end record before it exits.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(t.pid()).expect("pid")),
        nix::sys::signal::Signal::SIGHUP,
    )
    .expect("kill -HUP");
    let status = t.wait();
    assert_eq!(status.code(), Some(128 + 1), "{status:?} {}", t.screen());
    session_records(&install, "bash", -1, 1);
}

#[test]
fn a_login_whose_integration_never_loaded_is_found() {
    // The user's own startup file switches the integration off.
    let Some((install, mut t)) = bash_login_with(
        "unguarded_login",
        "export PRODGUARD_NO_BIND=1\nPS1='MYPROMPT\\$ '\n",
        "",
    ) else {
        return;
    };
    t.line("echo $((3*3))unchecked");
    t.expect("9unchecked");
    t.line("exit");
    t.wait();
    let out = Command::new(&install.bin)
        .args(["audit", "search", "--unguarded"])
        .arg(&install.audit_file)
        .output()
        .expect("audit search");
    let shown = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 1, "{shown}");
    assert!(
        lines[0].contains("commands=0 integration=not-loaded")
            && lines[0].contains("session ended"),
        "{shown}"
    );
}

#[test]
fn broken_policy_login_gives_a_shell_and_warns() {
    if !common::root_or_skip("broken_policy_login") {
        return;
    }
    let install = Install::new("/bin/bash");
    install.break_policy();
    let home = home(&install, &[]);
    let mut t = login(&install, &home);
    t.expect("the site policy failed to load");
    t.expect("20-broken.toml");
    t.line("echo $((6*7))ok");
    t.expect("42ok");
    t.line("exit");
    t.wait();
}

fn init(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_prodguard"))
        .args(["init", shell])
        .output()
        .expect("prodguard init");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn syntax_ok(shell: &str, text: &str) {
    use std::io::Write;
    let mut child = Command::new(shell)
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect(shell);
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{shell} -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_scripts_are_clean() {
    if common::have("bash", "init_scripts_are_clean (bash)") {
        syntax_ok("bash", &init("bash"));
    }
    if common::have("zsh", "init_scripts_are_clean (zsh)") {
        syntax_ok("zsh", &init("zsh"));
    }
    if common::have("shellcheck", "init_scripts_are_clean (shellcheck)") {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/shell-integration/prodguard.bash"
        );
        let out = Command::new("shellcheck")
            .args(["--shell=bash", file])
            .output()
            .expect("shellcheck");
        assert!(
            out.status.success(),
            "shellcheck:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
