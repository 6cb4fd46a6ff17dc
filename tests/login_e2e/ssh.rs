//! Over real ssh, into a user whose login shell is prodguard.

use super::common::{self, HOST_SHORT};
use super::pty::Pty;
use super::sshd::{self, Host, Sftp};
use super::stdin_feed::fed;

#[test]
fn commands_are_decided_before_they_run() {
    if !sshd::available("commands_are_decided_before_they_run") {
        return;
    }
    let host = Host::new(Sftp::Internal);
    let data = host.install.data_dir.display().to_string();

    let out = host.sshd.run("echo hello");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\n",
        "{}",
        host.explain(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", host.explain(&out));

    let out = host.sshd.run("exit 3");
    assert_eq!(out.status.code(), Some(3), "{}", host.explain(&out));

    // Refused: it needs the host name typed, and there is no terminal to type it on.
    let out = host.sshd.run(&format!("rm -rf {data}"));
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("e2e.rm-data-dir"),
        "{}",
        host.explain(&out)
    );
    assert!(host.install.data_dir.join("PG_VERSION").exists());

    // The whole line is decided on: the harmless part before does not run either.
    let marker = host.install.scratch.join("ran");
    let out = host
        .sshd
        .run(&format!("touch {}; rm -rf {data}", marker.display()));
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    assert!(!marker.exists(), "the first command of a refused line ran");
    assert!(host.install.data_dir.exists());

    // Both decisions are in the audit log, as the user, under one chain.
    let audit = host.install.audit();
    assert!(
        audit.matches("e2e.rm-data-dir").count() >= 2,
        "audit:\n{audit}"
    );
    assert!(audit.contains(&host.user.name), "audit:\n{audit}");
}

/// A command line that is not UTF-8 is judged (and run as given when allowed); the script on
/// stdin is never run in its place.
#[test]
fn a_command_that_is_not_utf8_is_judged_not_replaced_by_stdin() {
    use std::os::unix::ffi::OsStrExt;
    if !sshd::available("a_command_that_is_not_utf8_is_judged") {
        return;
    }
    let host = Host::new(Sftp::Internal);
    let marker = host.install.scratch.join("stdin-ran");
    let run = |cmd: Vec<u8>| {
        let mut ssh = host.sshd.ssh(&[]);
        ssh.arg(std::ffi::OsStr::from_bytes(&cmd));
        fed(ssh, format!("touch {}\n", marker.display()))
    };
    let data = host.install.data_dir.display().to_string();
    let mut rm = format!("rm -rf {data}/").into_bytes();
    rm.extend_from_slice(&[0xff, 0xfe]);
    let out = run(rm);
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("e2e.rm-data-dir"),
        "{}",
        host.explain(&out)
    );
    assert!(!marker.exists(), "stdin ran instead of the command");
    assert!(host.install.data_dir.join("PG_VERSION").exists());
    assert!(
        host.install.audit().contains("not UTF-8"),
        "{}",
        host.explain(&out)
    );
    // Allowed: run with its bytes as given.
    let mut echo = b"printf '%s' \"".to_vec();
    echo.extend_from_slice(&[b'a', 0xff, b'b']);
    echo.push(b'"');
    let out = run(echo);
    assert_eq!(out.status.code(), Some(0), "{}", host.explain(&out));
    assert_eq!(out.stdout, [b'a', 0xff, b'b'], "{}", host.explain(&out));
    assert!(!marker.exists(), "stdin ran instead of the command");
}

#[test]
fn a_script_on_stdin_is_decided_as_a_whole() {
    if !sshd::available("a_script_on_stdin_is_decided_as_a_whole") {
        return;
    }
    let host = Host::new(Sftp::Internal);
    let marker = host.install.scratch.join("stdin-ran");
    // `ssh host < script`: sshd starts the login shell with no command and the script on a pipe.
    let run = |script: String| fed(host.sshd.ssh(&[]), script);
    let out = run(format!(
        "touch {}\nrm -rf {}\n",
        marker.display(),
        host.install.data_dir.display()
    ));
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    assert!(!marker.exists(), "a line of a refused script ran");
    assert!(host.install.data_dir.join("PG_VERSION").exists());

    // More than the guard reads: refused as a whole, not cut short and run.
    let mut big = format!("touch {}\n", marker.display());
    while big.len() <= 1 << 20 {
        big.push_str("# a comment line to make the script long\n");
    }
    let out = run(big);
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("more than 1024 KiB"),
        "{}",
        host.explain(&out)
    );
    assert!(!marker.exists(), "a line of an oversized script ran");

    let out = run(format!("touch {}\necho done\n", marker.display()));
    assert_eq!(out.status.code(), Some(0), "{}", host.explain(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(marker.exists());
}

/// `ssh host 'bash -s' < script` reaches the login shell as `-c 'bash -s'` with the script on a
/// pipe: the script is judged, then bash gets it.
#[test]
fn an_interpreter_reading_stdin_is_judged_on_the_script() {
    if !sshd::available("an_interpreter_reading_stdin_is_judged_on_the_script") {
        return;
    }
    let host = Host::new(Sftp::Internal);
    let data = host.install.data_dir.display().to_string();
    let marker = host.install.scratch.join("bash-s-ran");
    let run = |cmd: &str, script: String| fed(host.sshd.ssh(&[cmd]), script);
    for cmd in ["bash -s", "sh -s", "bash", "cd / && sh"] {
        let out = run(cmd, format!("touch {}\nrm -rf {data}\n", marker.display()));
        assert_eq!(
            out.status.code(),
            Some(126),
            "{cmd}: {}",
            host.explain(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("e2e.rm-data-dir"),
            "{cmd}: {}",
            host.explain(&out)
        );
        assert!(!marker.exists(), "{cmd}: a line of a refused script ran");
        assert!(host.install.data_dir.join("PG_VERSION").exists());
    }
    let out = run(
        "python3 -",
        format!("import shutil\nshutil.rmtree({data:?})\n"),
    );
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    assert!(host.install.data_dir.join("PG_VERSION").exists());

    let out = run("bash -s", "echo hi\n".into());
    assert_eq!(out.status.code(), Some(0), "{}", host.explain(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");

    // The records name the script's commands, reached through `bash -s`, not only `bash -s`.
    let audit = host.install.audit();
    let records: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let refused = records
        .iter()
        .find(|r| r["command"] == "bash -s" && r["outcome"] == "denied")
        .unwrap_or_else(|| panic!("no refusal of bash -s: {audit}"));
    let invocations = refused["invocations"].to_string();
    assert!(invocations.contains("\"rm\""), "{refused}");
    assert!(invocations.contains("bash -s"), "{refused}");
    let allowed = records
        .iter()
        .find(|r| r["command"] == "bash -s" && r["outcome"] == "allowed")
        .unwrap_or_else(|| panic!("no bash -s allowed: {audit}"));
    assert!(
        allowed["invocations"].to_string().contains("\"echo\""),
        "{allowed}"
    );
}

fn transfers(sftp: Sftp) {
    let host = Host::new(sftp);
    sshd::transfers(&host.sshd, &host.user.home, &|out| host.explain(out));
}

#[test]
fn file_transfers_with_internal_sftp() {
    if sshd::available("file_transfers_with_internal_sftp") {
        transfers(Sftp::Internal);
    }
}

#[test]
fn file_transfers_with_sftp_server() {
    if sshd::available("file_transfers_with_sftp_server")
        && common::have(sshd::SFTP_SERVER, "file_transfers_with_sftp_server")
    {
        transfers(Sftp::Server);
    }
}

/// `ssh -tt` on a terminal: the banner, then bash with the integration.
fn interactive(host: &Host) -> Pty {
    let mut ssh = host.sshd.ssh(&["-tt"]);
    ssh.env("TERM", "xterm").env("NO_COLOR", "1");
    Pty::spawn(ssh)
}

#[test]
fn interactive_session_shows_the_banner_and_asks() {
    if !sshd::available("interactive_session_shows_the_banner_and_asks") {
        return;
    }
    let host = Host::new(Sftp::Internal);
    host.user.write(".profile", "PS1='SSHPROMPT\\$ '\n");
    let mut t = interactive(&host);
    t.expect("PRODUCTION");
    t.expect("db-primary");
    t.expect("SSHPROMPT");
    t.line("echo $((6*7))ok");
    t.expect("42ok");
    t.expect("SSHPROMPT");

    let data = host.install.data_dir.display().to_string();
    t.line(&format!("rm -rf {data}"));
    t.expect("host name: ");
    t.line("db2");
    t.expect("refused");
    t.expect("SSHPROMPT");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(host.install.data_dir.exists(), "ran after a wrong answer");
    // The refused line stays in the editing buffer: clear it (Ctrl-U).
    t.send(b"\x15");
    t.line(&format!("rm -rf {data}"));
    t.expect("host name: ");
    t.line(HOST_SHORT);
    // Typeahead during the question is not kept for the shell: wait for the answer to land.
    t.expect("confirmed");
    t.expect("SSHPROMPT");
    t.line("echo $((7*7))done");
    t.expect("49done");
    t.expect("SSHPROMPT");
    assert!(
        !host.install.data_dir.exists(),
        "not run after the right answer"
    );
    t.line("exit 5");
    let status = t.wait();
    assert_eq!(status.code(), Some(5), "screen:\n{}", t.screen());
}

#[test]
fn broken_policy_still_gives_a_shell_under_the_strict_fallback() {
    if !sshd::available("broken_policy_still_gives_a_shell_under_the_strict_fallback") {
        return;
    }
    let host = Host::new(Sftp::Internal);
    // A site pack that softens the default data-directory rule for /srv: honoured while the
    // policy loads...
    std::fs::write(
        host.install.policy_dir.join("05-soft.toml"),
        "disable = [\"fs.rm-data-dir\", \"fs.rm-system-subdir\"]\n[pack]\nname = \"soft\"\ndescription = \"x\"\n",
    )
    .expect("pack");
    let srv = "rm -rf /srv/prodguard-e2e-does-not-exist";
    let out = host.sshd.run(srv);
    assert_eq!(out.status.code(), Some(0), "{}", host.explain(&out));

    // ...and ignored, with every other site pack, once one of them is broken.
    host.install.break_policy();
    let out = host.sshd.run(srv);
    assert_eq!(out.status.code(), Some(126), "{}", host.explain(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("strict fallback"), "{}", host.explain(&out));
    assert!(err.contains("20-broken.toml"), "{}", host.explain(&out));
    // Harmless commands still run, with one line about the policy and no more.
    let out = host.sshd.run("echo still");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "still\n");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", host.explain(&out));
    assert!(
        lines[0].contains("strict fallback") && lines[0].contains("20-broken.toml:"),
        "{}",
        host.explain(&out)
    );
    // The whole error, with the line of the file it is on, is in `prodguard status`.
    let out = host
        .sshd
        .run(&format!("{} status", host.install.bin.display()));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("IN FORCE") && shown.contains("id = \"broken"),
        "{}",
        host.explain(&out)
    );

    // The login still gives a shell, and the banner says what is wrong.
    let mut t = interactive(&host);
    t.expect("the site policy failed to load");
    t.expect("20-broken.toml");
    t.line("echo $((6*7))ok");
    t.expect("42ok");
    t.line("exit");
    t.wait();
}
