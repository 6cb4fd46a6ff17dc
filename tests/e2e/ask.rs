//! Issue "Show the environment, ask the human": the real binary on a real pseudo-terminal.

use crate::util::*;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

/// `prodguard -- sh -c SCRIPT` on db1 with the site pack that makes `exit` ask.
fn asking(world: &World, script: &str, stdin: Stdin) -> Pty {
    spawn(world.command(&["--", "sh", "-c", script]), stdin)
}

fn db1_asking() -> World {
    World::with_packs(DB1, &[ASKING_PACK])
}

fn last_record(world: &World) -> serde_json::Value {
    world.records().pop().expect("an audit record")
}

#[test]
fn right_hostname_runs_the_command_and_passes_its_exit_status() {
    let w = db1_asking();
    let mut p = asking(&w, "echo ran; exit 5", Stdin::Tty);
    p.expect("host name: ");
    p.send(b"db1\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(5), "{}\n{}", f.screen, f.stderr);
    assert_eq!(f.stdout, "ran\n");
    assert!(
        f.screen
            .contains("host name: db1\n\x1b[1;32mconfirmed\x1b[0m\n"),
        "{:?}",
        f.screen
    );
    let rec = last_record(&w);
    assert_eq!(rec["outcome"], "confirmed", "{rec}");
    assert_eq!(rec["challenge"]["passed"], true, "{rec}");
    assert_eq!(rec["rules"][0], "site.e2e-exit");
}

#[test]
fn the_full_hostname_in_any_case_is_accepted() {
    let w = db1_asking();
    let mut p = asking(&w, "exit 0", Stdin::Tty);
    p.expect("host name: ");
    p.send(b"DB1.example.com\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(0), "{}", f.screen);
}

#[test]
fn wrong_hostname_refuses_and_names_both_hosts() {
    let w = db1_asking();
    let mut p = asking(&w, "echo ran; exit 5", Stdin::Tty);
    p.expect("host name: ");
    p.send(b"db2\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(126), "{}", f.screen);
    assert_eq!(f.stdout, "", "the command must not have run");
    assert!(
        f.screen
            .contains("refused: you typed db2 (db-replica) \u{2014} this is db1 (db-primary)"),
        "{}",
        f.screen
    );
    // The audit log keeps the refusal, the failed challenge and the mismatch.
    let rec = last_record(&w);
    assert_eq!(rec["outcome"], "denied", "{rec}");
    assert_eq!(rec["challenge"]["kind"], "hostname", "{rec}");
    assert_eq!(rec["challenge"]["passed"], false, "{rec}");
    assert_eq!(
        rec["reason"],
        "you typed db2 (db-replica) \u{2014} this is db1 (db-primary)"
    );
}

#[test]
fn ctrl_c_refuses_without_killing_the_guard() {
    let w = db1_asking();
    let mut p = asking(&w, "echo ran; exit 5", Stdin::Tty);
    p.expect("host name: ");
    p.send(b"db\x03");
    let f = p.finish();
    assert_eq!(
        (f.status.code(), f.status.signal()),
        (Some(126), None),
        "{}",
        f.screen
    );
    assert_eq!(f.stdout, "");
    assert!(
        f.screen
            .contains("host name: db\n\x1b[1;31maborted: not confirmed"),
        "{:?}",
        f.screen
    );
    assert_eq!(last_record(&w)["outcome"], "aborted");
}

#[test]
fn silence_times_out_after_the_host_toml_timeout() {
    let w = World::with_packs(
        &format!("{DB1}[prompt]\ntimeout_secs = 1\n"),
        &[ASKING_PACK],
    );
    let started = Instant::now();
    let mut p = asking(&w, "echo ran; exit 5", Stdin::Tty);
    p.expect("1 s to answer");
    p.expect("host name: ");
    let f = p.finish();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(f.status.code(), Some(126), "{}", f.screen);
    assert_eq!(f.stdout, "");
    assert!(
        f.screen
            .contains("host name: \n\x1b[1;31mno answer within 1 s: not confirmed"),
        "{}",
        f.screen
    );
    assert_eq!(last_record(&w)["outcome"], "timed-out");
}

#[test]
fn the_default_timeout_is_sixty_seconds() {
    let w = db1_asking();
    let mut p = asking(&w, "exit 5", Stdin::Tty);
    p.expect("Anything else refuses; 60 s to");
    p.expect("host name: ");
    p.send(b"\x03");
    let _ = p.finish();
}

#[test]
fn without_a_terminal_it_refuses_and_says_how_to_get_approval() {
    let w = db1_asking();
    let o = w.run_detached(&["--", "sh", "-c", "echo ran; exit 5"]);
    assert_eq!(o.status.code(), Some(126));
    assert_eq!(text(&o.stdout), "");
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "refused: site.e2e-exit needs a typed confirmation (hostname) and there is no terminal to ask on"
        ),
        "{err}"
    );
    assert!(
        err.contains("prodguard request -- 'sh -c '\\''echo ran; exit 5'\\'''"),
        "{err}"
    );
    let rec = last_record(&w);
    assert_eq!(rec["outcome"], "denied", "{rec}");
    assert!(
        rec["reason"].as_str().unwrap_or("").contains("no terminal"),
        "{rec}"
    );
}

#[test]
fn check_without_a_terminal_exits_1() {
    let w = db1_asking();
    let o = w.run_detached(&["check", "sh -c 'exit 5'"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let safe = w.run_detached(&["check", "ls -la /var/lib/postgresql"]);
    assert_eq!(safe.status.code(), Some(0), "{}", text(&safe.stderr));
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let w = db1_asking();
    let mut p = asking(&w, "exit 5", Stdin::Tty);
    p.expect("host name: ");
    p.send(b"\x03");
    let coloured = p.finish().screen;
    assert!(
        coloured.contains("\x1b[1;97;41m  PRODUCTION \u{b7} db1 \u{b7} db-primary"),
        "production is white on red: {coloured:?}"
    );

    for (name, value) in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let mut cmd = w.command(&["--", "sh", "-c", "exit 5"]);
        cmd.env(name, value);
        let mut p = spawn(cmd, Stdin::Tty);
        p.expect("host name: ");
        p.send(b"\x03");
        let plain = p.finish().screen;
        assert!(!plain.contains('\x1b'), "{name}={value}: {plain:?}");
        assert!(
            plain.contains("  PRODUCTION \u{b7} db1 \u{b7} db-primary\n"),
            "{plain}"
        );
    }
    // An empty NO_COLOR does not count (no-color.org).
    let mut cmd = w.command(&["--", "sh", "-c", "exit 5"]);
    cmd.env("NO_COLOR", "");
    let mut p = spawn(cmd, Stdin::Tty);
    p.expect("host name: ");
    p.send(b"\x03");
    assert!(p.finish().screen.contains('\x1b'));
}

#[test]
fn piped_stdin_reaches_a_safe_command() {
    let w = db1_asking();
    let mut cmd = w.command(&["--", "cat"]);
    cmd.stdin(std::process::Stdio::piped());
    detach(&mut cmd);
    cmd.stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"data\n").expect("write");
    }
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout), "data\n");
}

#[test]
fn piped_stdin_reaches_a_confirmed_command_after_the_typed_answer() {
    let w = db1_asking();
    let mut p = asking(
        &w,
        "cat; exit 5",
        Stdin::Pipe(b"data from the pipe\nsecond line\n".to_vec()),
    );
    p.expect("host name: ");
    p.send(b"db1\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(5), "{}\n{}", f.screen, f.stderr);
    assert_eq!(f.stdout, "data from the pipe\nsecond line\n");
    assert!(!f.screen.contains("data from the pipe"), "{}", f.screen);
}

#[test]
fn typeahead_before_the_question_does_not_answer_it() {
    let w = World::with_packs(
        &format!("{DB1}[prompt]\ntimeout_secs = 1\n"),
        &[ASKING_PACK],
    );
    // A shell holds the terminal for half a second before it becomes prodguard; what is typed
    // meanwhile waits in the terminal's input queue when the question opens.
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "sleep 0.5; exec \"$@\"", "sh"])
        .arg(bin())
        .args(w.global_args())
        .args(["--", "sh", "-c", "echo ran; exit 5"]);
    let mut p = spawn(cmd, Stdin::Tty);
    p.send(b"db1\r");
    p.expect("host name: ");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(126), "{}", f.screen);
    assert_eq!(f.stdout, "");
    assert!(f.screen.contains("no answer within 1 s"), "{}", f.screen);
}

/// `ssh -tt` from a script (Ansible's `raw`) makes a terminal of no size that nobody is at: the
/// question is not asked there, the refusal comes at once with the no-terminal advice, and no
/// colour escape reaches the script's output.
#[test]
fn a_terminal_of_no_size_is_nobody_at_it_and_refuses_at_once() {
    let w = db1_asking();
    let start = Instant::now();
    let p = spawn_sized(
        w.command(&["--", "sh", "-c", "echo ran; exit 5"]),
        Stdin::Tty,
        0,
        0,
    );
    let f = p.finish();
    let took = start.elapsed();
    assert_eq!(f.status.code(), Some(126), "{}\n{}", f.screen, f.stderr);
    assert_eq!(f.stdout, "", "the command must not have run");
    assert!(
        took < Duration::from_secs(20),
        "waited {took:?} for an answer nobody can give"
    );
    assert!(!f.screen.contains("host name: "), "asked: {:?}", f.screen);
    assert!(f.stderr.contains("no terminal"), "{}", f.stderr);
    assert!(!f.stderr.contains('\x1b'), "colour escapes: {:?}", f.stderr);
    let rec = last_record(&w);
    assert_eq!(rec["action"], "confirm", "{rec}");
    assert_ne!(rec["outcome"], "confirmed", "{rec}");
}
