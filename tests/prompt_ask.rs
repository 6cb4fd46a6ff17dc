//! `prompt::ask` driven through a scripted terminal: every challenge and every outcome.

use prodguard::host::HostContext;
use prodguard::prompt::{
    ask, Challenge, Outcome, Question, ReadOutcome, Reason, TicketPattern, TtyIo, PHRASE_WORDS,
};
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

/// One thing the fake terminal does when read.
enum Step {
    Type(&'static [u8]),
    Eof,
    Signal,
    Fail,
    /// Type the word the question showed (`word: …`) followed by Enter.
    TypeShownWord,
}

/// A terminal whose keyboard follows a script; after the script it is silent (and the read waits
/// out its timeout, as a real terminal would).
struct FakeTty {
    script: VecDeque<Step>,
    screen: Vec<u8>,
}

impl FakeTty {
    fn new(script: Vec<Step>) -> FakeTty {
        FakeTty {
            script: script.into(),
            screen: Vec::new(),
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen).into_owned()
    }
}

impl TtyIo for FakeTty {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<ReadOutcome> {
        let bytes: Vec<u8> = match self.script.pop_front() {
            None => {
                std::thread::sleep(timeout);
                return Ok(ReadOutcome::TimedOut);
            }
            Some(Step::Eof) => return Ok(ReadOutcome::Eof),
            Some(Step::Signal) => return Ok(ReadOutcome::Interrupted),
            Some(Step::Fail) => return Err(io::Error::from_raw_os_error(libc::EIO)),
            Some(Step::Type(b)) => b.to_vec(),
            Some(Step::TypeShownWord) => {
                let screen = self.screen();
                let word = screen
                    .split("word: ")
                    .nth(1)
                    .and_then(|rest| rest.lines().next())
                    .unwrap_or("")
                    .to_string();
                format!("{word}\r").into_bytes()
            }
        };
        buf[..bytes.len()].copy_from_slice(&bytes);
        Ok(ReadOutcome::Data(bytes.len()))
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.screen.extend_from_slice(bytes);
        Ok(())
    }
}

fn db1() -> HostContext {
    HostContext::from_toml(
        r#"
hostname = "db1.example.com"
environment = "production"
role = "db-primary"
cluster = "main"
fleet = [{ name = "db2.example.com", role = "db-replica" }, "web1"]
"#,
        None,
    )
}

fn question(host: &HostContext, challenge: Challenge) -> Question<'_> {
    let mut q = Question::new(host, "rm -rf /var/lib/postgresql/15/main", challenge);
    q.parsed = vec!["rm  flags: force,recursive  targets: /var/lib/postgresql/15/main".into()];
    q.reasons = vec![Reason {
        id: "fs.rm-recursive-data-dir".into(),
        severity: "critical".into(),
        message: "Recursive delete of a data directory on db1 (db-primary).".into(),
        why: Some("GitLab 2017-01-31.".into()),
        instead: None,
    }];
    q.timeout = Duration::from_millis(200);
    q
}

fn run(challenge: Challenge, script: Vec<Step>) -> (Outcome, String) {
    let host = db1();
    let q = question(&host, challenge);
    let mut tty = FakeTty::new(script);
    let outcome = ask(&q, &mut tty);
    (outcome, tty.screen())
}

fn refused_reason(o: &Outcome) -> &str {
    match o {
        Outcome::Refused { reason, evidence } => {
            assert!(!evidence.passed);
            reason
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn hostname_right_short_name_confirms() {
    let (o, screen) = run(Challenge::Hostname, vec![Step::Type(b"db1\r")]);
    assert!(o.is_confirmed(), "{o:?}");
    let ev = o.evidence().expect("evidence");
    assert_eq!(
        (ev.challenge, ev.passed, &ev.ticket, &ev.reason),
        ("hostname", true, &None, &None)
    );
    assert!(
        screen.contains("PRODUCTION \u{b7} db1 \u{b7} db-primary"),
        "{screen}"
    );
    assert!(
        screen.ends_with("host name: db1\r\nconfirmed\n"),
        "{screen:?}"
    );
}

#[test]
fn hostname_is_case_insensitive_trimmed_and_takes_the_full_name() {
    for typed in [
        &b"  DB1 \r"[..],
        b"db1.example.com\n",
        b"Db1.Example.Com.\r",
    ] {
        let (o, _) = run(Challenge::Hostname, vec![Step::Type(typed)]);
        assert!(
            o.is_confirmed(),
            "{:?}: {o:?}",
            String::from_utf8_lossy(typed)
        );
    }
}

#[test]
fn hostname_wrong_fleet_host_is_refused_naming_both() {
    let (o, screen) = run(Challenge::Hostname, vec![Step::Type(b"db2\r")]);
    assert_eq!(
        refused_reason(&o),
        "you typed db2 (db-replica) \u{2014} this is db1 (db-primary)"
    );
    assert!(screen.contains("refused: you typed db2"), "{screen}");
}

#[test]
fn hostname_wrong_unknown_word_is_not_repeated() {
    let (o, _) = run(Challenge::Hostname, vec![Step::Type(b"hunter2\r")]);
    let reason = refused_reason(&o);
    assert!(!reason.contains("hunter2"), "{reason}");
    assert!(reason.ends_with("this is db1 (db-primary)"), "{reason}");
}

#[test]
fn hostname_localhost_and_empty_are_refused() {
    for typed in [&b"localhost\r"[..], b"\r", b"db\r"] {
        let (o, _) = run(Challenge::Hostname, vec![Step::Type(typed)]);
        refused_reason(&o);
    }
}

#[test]
fn one_attempt_only() {
    // The right name after a wrong one is never read.
    let (o, _) = run(
        Challenge::Hostname,
        vec![Step::Type(b"db2\r"), Step::Type(b"db1\r")],
    );
    refused_reason(&o);
}

#[test]
fn target_must_match_exactly() {
    let t = || Challenge::Target("orders_prod".into());
    assert!(run(t(), vec![Step::Type(b"orders_prod\r")])
        .0
        .is_confirmed());
    let (o, _) = run(t(), vec![Step::Type(b"ORDERS_PROD\r")]);
    assert!(refused_reason(&o).contains("orders_prod"));
    let ev = o.evidence().expect("evidence");
    assert_eq!(
        (ev.challenge, &ev.ticket, &ev.reason),
        ("target", &None, &None)
    );
}

#[test]
fn empty_target_refuses_without_asking() {
    let (o, screen) = run(Challenge::Target(" ".into()), vec![Step::Type(b"\r")]);
    assert!(refused_reason(&o).contains("no target"));
    assert!(!screen.contains("target: "), "{screen}");
}

#[test]
fn phrase_typed_back_confirms_and_a_wrong_word_refuses() {
    let (o, screen) = run(Challenge::Phrase, vec![Step::TypeShownWord]);
    assert!(o.is_confirmed(), "{o:?}\n{screen}");
    let shown = screen
        .split("word: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .unwrap_or("");
    assert!(PHRASE_WORDS.contains(&shown), "{shown:?}");

    let (o, _) = run(Challenge::Phrase, vec![Step::Type(b"not-a-listed-word\r")]);
    refused_reason(&o);
}

#[test]
fn phrase_is_drawn_at_random() {
    let words: std::collections::HashSet<String> = (0..20)
        .map(|_| {
            let (_, screen) = run(Challenge::Phrase, vec![Step::Type(b"\r")]);
            screen
                .split("word: ")
                .nth(1)
                .and_then(|r| r.lines().next())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(words.len() > 1, "20 questions all drew {words:?}");
}

#[test]
fn ticket_and_reason_are_recorded() {
    let pattern = TicketPattern::new(r"[A-Z]+-\d+|#\d+").expect("pattern");
    let (o, _) = run(
        Challenge::Ticket(pattern),
        vec![
            Step::Type(b"OPS-1234\r"),
            Step::Type(b"disk full, moving the WAL\r"),
        ],
    );
    let ev = o.evidence().expect("evidence");
    assert!(o.is_confirmed(), "{o:?}");
    assert_eq!(ev.ticket.as_deref(), Some("OPS-1234"));
    assert_eq!(ev.reason.as_deref(), Some("disk full, moving the WAL"));
}

#[test]
fn ticket_default_pattern_takes_any_token() {
    let (o, _) = run(
        Challenge::Ticket(TicketPattern::any()),
        vec![Step::Type(b"inc42\rplanned maintenance\r")],
    );
    assert!(o.is_confirmed(), "{o:?}");
}

#[test]
fn ticket_bad_id_or_short_reason_refuses() {
    let pattern = || TicketPattern::new(r"[A-Z]+-\d+").expect("pattern");
    let (o, screen) = run(Challenge::Ticket(pattern()), vec![Step::Type(b"later\r")]);
    assert!(refused_reason(&o).contains("[A-Z]+-\\d+"), "{o:?}");
    assert!(
        !screen.contains("reason: "),
        "no reason asked after a bad ticket: {screen}"
    );

    let (o, _) = run(
        Challenge::Ticket(pattern()),
        vec![Step::Type(b"OPS-1\rfix\r")],
    );
    assert!(refused_reason(&o).contains("at least"), "{o:?}");
    assert_eq!(
        o.evidence().and_then(|e| e.ticket.as_deref()),
        Some("OPS-1")
    );

    let (o, _) = run(
        Challenge::Ticket(TicketPattern::any()),
        vec![Step::Type(b"two words\r")],
    );
    refused_reason(&o);
    assert!(TicketPattern::new("(").is_err());
}

#[test]
fn yes_defaults_to_no() {
    assert!(run(Challenge::Yes, vec![Step::Type(b"y\r")])
        .0
        .is_confirmed());
    assert!(run(Challenge::Yes, vec![Step::Type(b"YES\r")])
        .0
        .is_confirmed());
    for typed in [&b"\r"[..], b"n\r", b"yep\r"] {
        let (o, _) = run(Challenge::Yes, vec![Step::Type(typed)]);
        refused_reason(&o);
    }
}

#[test]
fn ctrl_c_is_aborted() {
    let (o, screen) = run(Challenge::Hostname, vec![Step::Type(b"db\x03")]);
    assert_eq!(o, Outcome::Aborted);
    assert!(screen.ends_with("aborted: not confirmed\n"), "{screen:?}");
    assert_eq!(
        run(Challenge::Hostname, vec![Step::Type(b"\x1c")]).0,
        Outcome::Aborted
    );
    assert_eq!(
        run(Challenge::Hostname, vec![Step::Signal]).0,
        Outcome::Aborted
    );
}

#[test]
fn ctrl_d_and_hangup_are_eof() {
    assert_eq!(
        run(Challenge::Hostname, vec![Step::Type(b"\x04")]).0,
        Outcome::Eof
    );
    assert_eq!(run(Challenge::Hostname, vec![Step::Eof]).0, Outcome::Eof);
    // Ctrl-D on a non-empty line does nothing.
    assert!(run(Challenge::Hostname, vec![Step::Type(b"db\x041\r")])
        .0
        .is_confirmed());
    // Between the ticket's two answers too.
    let (o, _) = run(
        Challenge::Ticket(TicketPattern::any()),
        vec![Step::Type(b"T-1\r\x04")],
    );
    assert_eq!(o, Outcome::Eof);
}

#[test]
fn silence_times_out() {
    let started = Instant::now();
    let (o, screen) = run(Challenge::Hostname, vec![]);
    assert_eq!(o, Outcome::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        screen.ends_with("no answer within 200 ms: not confirmed\n"),
        "{screen:?}"
    );
    // A partial answer does not count.
    assert_eq!(
        run(Challenge::Hostname, vec![Step::Type(b"db1")]).0,
        Outcome::TimedOut
    );
}

#[test]
fn terminal_failure_is_its_own_outcome() {
    let (o, _) = run(Challenge::Hostname, vec![Step::Fail]);
    assert!(matches!(o, Outcome::TerminalError(_)), "{o:?}");
    assert_eq!(o.label(), "terminal-error");
}

#[test]
fn labels_are_stable() {
    let labels: Vec<&str> = [
        Outcome::Aborted,
        Outcome::Eof,
        Outcome::TimedOut,
        Outcome::NoTerminal,
    ]
    .iter()
    .map(Outcome::label)
    .collect();
    assert_eq!(labels, ["aborted", "eof", "timed-out", "no-terminal"]);
}

#[test]
fn hostile_command_text_is_shown_escaped() {
    let host = db1();
    let mut q = question(&host, Challenge::Hostname);
    q.command = "rm -rf /tmp/x\x1b[1A\x1b[2K\u{202e}niam/51";
    let mut tty = FakeTty::new(vec![Step::Type(b"db1\r")]);
    let _ = ask(&q, &mut tty);
    let screen = tty.screen();
    assert!(!screen.contains('\x1b'), "{screen:?}");
    assert!(
        screen.contains("/tmp/x\\x1b[1A\\x1b[2K\\u{202e}niam/51"),
        "{screen}"
    );
}
