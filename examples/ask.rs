//! Ask one question on the controlling terminal and print the outcome on stdout.
//!
//! ```text
//! cargo run --example ask -- [--challenge hostname|yes|phrase|ticket|target=NAME]
//!                            [--timeout-ms N] [--read-stdin]
//! ```
//! The host is `db1.example.com`, production, `db-primary`, with `db2` in its fleet. With
//! `--read-stdin`, stdin is read to the end after the question and printed, to show that the
//! question never touches it. The pty tests in `tests/prompt_pty.rs` drive this program.

use prodguard::host::HostContext;
use prodguard::prompt::{ask_on_dev_tty, Challenge, Outcome, Question, Reason, TicketPattern};
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let mut challenge = Challenge::Hostname;
    let mut timeout = Duration::from_secs(60);
    let mut read_stdin = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--challenge" => {
                challenge = match args.next().as_deref() {
                    Some("hostname") => Challenge::Hostname,
                    Some("yes") => Challenge::Yes,
                    Some("phrase") => Challenge::Phrase,
                    Some("ticket") => Challenge::Ticket(TicketPattern::any()),
                    Some(t) if t.starts_with("target=") => {
                        Challenge::Target(t.trim_start_matches("target=").to_string())
                    }
                    other => return usage(&format!("unknown challenge {other:?}")),
                }
            }
            "--timeout-ms" => match args.next().and_then(|t| t.parse().ok()) {
                Some(ms) => timeout = Duration::from_millis(ms),
                None => return usage("--timeout-ms needs a number"),
            },
            "--read-stdin" => read_stdin = true,
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }

    let host = HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n\
         fleet = [{ name = \"db2.example.com\", role = \"db-replica\" }]\n",
        None,
    );
    let mut q = Question::new(&host, "rm -rf /var/lib/postgresql/15/main", challenge);
    q.parsed = vec!["rm  flags: force,recursive  targets: /var/lib/postgresql/15/main".into()];
    q.reasons = vec![Reason {
        id: "fs.rm-recursive-data-dir".into(),
        severity: "critical".into(),
        message: "Recursive delete of a data directory on db1 (db-primary).".into(),
        why: Some("GitLab 2017-01-31.".into()),
        instead: None,
    }];
    q.timeout = timeout;

    let outcome = ask_on_dev_tty(&q);
    match &outcome {
        Outcome::Refused { reason, .. } => println!("outcome: refused: {reason}"),
        Outcome::TerminalError(e) => println!("outcome: terminal-error: {e}"),
        other => println!("outcome: {}", other.label()),
    }
    if let Some(ev) = outcome.evidence() {
        println!(
            "evidence: {}",
            serde_json::to_string(ev).unwrap_or_default()
        );
    }
    if read_stdin {
        let mut data = String::new();
        match std::io::stdin().read_to_string(&mut data) {
            Ok(_) => println!("stdin: {data:?}"),
            Err(e) => println!("stdin: error: {e}"),
        }
    }
    if outcome.is_confirmed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ask: {problem}");
    eprintln!(
        "usage: ask [--challenge hostname|yes|phrase|ticket|target=NAME] [--timeout-ms N] \
         [--read-stdin]"
    );
    ExitCode::from(2)
}
