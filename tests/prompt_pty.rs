//! The real `/dev/tty` path, under a pseudo-terminal: `examples/ask.rs` runs as the session
//! leader of a new session whose controlling terminal is a pty we hold the master of.
//!
//! The terminal is the shared harness (tests/support/pty.rs): stdin and stdout can be pipes while
//! the terminal is separate (the point of several tests), and the test reads its termios.

#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;

use nix::sys::termios::{LocalFlags, Termios};
use pty::{Options, Pty, Stdin};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The example binary, built once if `cargo test` did not build it already.
fn example() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target dir");
        let path = profile_dir.join("examples").join("ask");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--example", "ask"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --example ask");
        assert!(status.success(), "cargo build --example ask failed");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
    .clone()
}

/// Start the example with `args` on a fresh 24×80 terminal holding stdin (unless `stdin` is a
/// pipe) and stderr; `typeahead` is queued on the terminal before the example starts.
fn spawn(args: &[&str], stdin: Stdin, typeahead: &[u8]) -> Pty {
    let mut cmd = Command::new(example());
    cmd.args(args).env_remove("NO_COLOR").env("TERM", "dumb");
    Pty::with(
        cmd,
        Options {
            stdin,
            typeahead: typeahead.to_vec(),
            ..Options::stderr_on_tty()
        },
    )
}

/// Wait for the example: status, stdout, screen, the terminal's modes after it.
fn finish(c: Pty) -> (ExitStatus, String, String, Termios) {
    let f = c.finish();
    (f.status, f.stdout, f.screen, f.termios)
}

const COOKED: LocalFlags = LocalFlags::ICANON
    .union(LocalFlags::ECHO)
    .union(LocalFlags::ISIG);

fn assert_cooked(t: &Termios) {
    assert!(
        t.local_flags.contains(COOKED),
        "terminal left in {:?}",
        t.local_flags
    );
}

#[test]
fn right_hostname_confirms_and_modes_are_switched_then_restored() {
    let mut c = spawn(&[], Stdin::Tty, b"");
    let before = c.initial().clone();
    assert_cooked(&before);
    c.expect("host name: ");
    let during = c.termios();
    assert!(
        !during.local_flags.intersects(COOKED),
        "during: {:?}",
        during.local_flags
    );
    c.send(b"db1\r");
    let (status, out, screen, after) = finish(c);
    assert_eq!(
        out.lines().next(),
        Some("outcome: confirmed"),
        "{out}\n{screen}"
    );
    assert!(
        out.contains(r#""challenge":"hostname","passed":true"#),
        "{out}"
    );
    assert!(
        screen.contains("PRODUCTION \u{b7} db1 \u{b7} db-primary"),
        "{screen}"
    );
    assert!(
        screen.contains("host name: db1"),
        "the answer is echoed: {screen}"
    );
    assert!(status.success());
    assert_eq!(after.local_flags, before.local_flags);
    assert_eq!(after.input_flags, before.input_flags);
    assert_eq!(after.output_flags, before.output_flags);
}

#[test]
fn wrong_hostname_is_refused_naming_both() {
    let mut c = spawn(&[], Stdin::Tty, b"");
    c.expect("host name: ");
    c.send(b"db2\r");
    let (status, out, _, after) = finish(c);
    assert_eq!(
        out.lines().next(),
        Some("outcome: refused: you typed db2 (db-replica) \u{2014} this is db1 (db-primary)")
    );
    assert_eq!(status.code(), Some(1));
    assert_cooked(&after);
}

#[test]
fn ctrl_c_aborts_without_a_signal_and_restores_the_terminal() {
    let mut c = spawn(&[], Stdin::Tty, b"");
    let before = c.initial().clone();
    c.expect("host name: ");
    c.send(b"db\x03");
    let (status, out, screen, after) = finish(c);
    assert_eq!(out.lines().next(), Some("outcome: aborted"), "{screen}");
    // The process was not killed by SIGINT: it returned and printed its outcome.
    assert_eq!((status.code(), status.signal()), (Some(1), None));
    assert!(screen.contains("aborted: not confirmed"), "{screen}");
    assert_eq!(after.local_flags, before.local_flags);
}

#[test]
fn ctrl_d_is_end_of_input() {
    let mut c = spawn(&[], Stdin::Tty, b"");
    c.expect("host name: ");
    c.send(b"\x04");
    let (_, out, _, after) = finish(c);
    assert_eq!(out.lines().next(), Some("outcome: eof"));
    assert_cooked(&after);
}

#[test]
fn silence_times_out() {
    let started = Instant::now();
    let mut c = spawn(&["--timeout-ms", "400"], Stdin::Tty, b"");
    c.expect("host name: ");
    let (_, out, screen, after) = finish(c);
    assert_eq!(out.lines().next(), Some("outcome: timed-out"), "{screen}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(screen.contains("no answer within 400 ms"), "{screen}");
    assert_cooked(&after);
}

#[test]
fn typeahead_before_the_question_is_discarded() {
    // "db1\r" is already waiting on the terminal when the question opens: it must not answer.
    let mut c = spawn(&["--timeout-ms", "600"], Stdin::Tty, b"db1\r");
    c.expect("host name: ");
    let (_, out, screen, _) = finish(c);
    assert_eq!(out.lines().next(), Some("outcome: timed-out"), "{screen}");
}

#[test]
fn piped_stdin_is_left_alone() {
    let mut c = spawn(
        &["--read-stdin"],
        Stdin::Pipe(b"data from the pipe\n".to_vec()),
        b"",
    );
    c.expect("host name: ");
    c.send(b"DB1\r");
    let (status, out, screen, _) = finish(c);
    assert!(status.success(), "{out}\n{screen}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"outcome: confirmed"), "{out}");
    assert_eq!(
        lines.last(),
        Some(&r#"stdin: "data from the pipe\n""#),
        "{out}"
    );
    assert!(
        !out.contains("PRODUCTION"),
        "the question went to stdout: {out}"
    );
}

#[test]
fn sigterm_while_asking_restores_the_terminal_then_terminates() {
    let mut c = spawn(&[], Stdin::Tty, b"");
    let before = c.initial().clone();
    c.expect("host name: ");
    c.signal(nix::sys::signal::Signal::SIGTERM);
    let (status, out, _, after) = finish(c);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?} {out}");
    assert_eq!(after.local_flags, before.local_flags);
}

#[test]
fn phrase_shown_on_the_terminal_confirms() {
    let mut c = spawn(&["--challenge", "phrase"], Stdin::Tty, b"");
    c.expect("type it: ");
    let screen = c.screen();
    let word = screen
        .split("word: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .map(|w| w.trim().to_string())
        .expect("word shown");
    c.send(format!("{word}\r").as_bytes());
    let (_, out, _, _) = finish(c);
    assert_eq!(
        out.lines().next(),
        Some("outcome: confirmed"),
        "word {word:?}"
    );
}

#[test]
fn no_controlling_terminal_is_no_terminal() {
    let mut cmd = Command::new(example());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe; it detaches the child from our controlling
    // terminal (if any), so /dev/tty cannot be opened.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("run example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some("outcome: no-terminal"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}
