//! Golden tests: every text the prompt module shows a human, compared byte for byte with
//! `tests/golden/*.txt`. In the coloured goldens ESC is written as `\e` (and BEL as `\a`) so the codes are visible.
//!
//! To accept a deliberate change: `PRODGUARD_BLESS=1 cargo test --test prompt_golden`, then
//! review the diff of `tests/golden/`.

#[allow(dead_code)]
#[path = "support/golden.rs"]
mod golden_file;

use prodguard::host::HostContext;
use prodguard::prompt::{
    ask, render_banner, render_outcome, render_prompt_segment, render_question, render_refusal,
    render_title, title_escape, Challenge, Outcome, Question, ReadOutcome, Reason, Shell,
    TicketPattern, TtyIo,
};
use std::time::Duration;

/// Compare with `tests/golden/NAME`, ESC and BEL made visible.
fn golden(name: &str, actual: &str) {
    golden_file::golden(name, &golden_file::visible(actual));
}

fn db1() -> HostContext {
    HostContext::from_toml(
        r#"
hostname = "db1.example.com"
environment = "production"
role = "db-primary"
cluster = "pg-main"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
motd = ["On call: #dba-oncall. Failover runbook: https://wiki.example.com/pg-failover"]
"#,
        None,
    )
}

fn staging() -> HostContext {
    HostContext::from_toml(
        "hostname = \"web3.stg.example.com\"\nenvironment = \"staging\"\nrole = \"web\"\n",
        None,
    )
}

/// A host without host.toml, its system hostname masked.
fn unknown() -> HostContext {
    let mut h = HostContext::load(Some(std::path::Path::new(
        "/nonexistent/prodguard/host.toml",
    )));
    h.hostname = "HOST".to_string();
    h
}

fn rm_reason() -> Reason {
    Reason {
        id: "fs.rm-recursive-data-dir".into(),
        severity: "critical".into(),
        message: "Recursive delete of a data directory on db1 (db-primary).".into(),
        why: Some(
            "GitLab 2017-01-31: an engineer ran rm -rf on the PostgreSQL data directory of the \
             primary, believing he was on the replica; 300 GB were gone before he stopped it."
                .into(),
        ),
        instead: Some("stop PostgreSQL and move the directory aside: mv main main.old".into()),
    }
}

fn rm_question(host: &HostContext, challenge: Challenge) -> Question<'_> {
    let mut q = Question::new(host, "sudo rm -rf /var/lib/postgresql/15/main", challenge);
    q.parsed =
        vec!["rm  flags: force,recursive  targets: /var/lib/postgresql/15/main  via: sudo".into()];
    q.reasons = vec![rm_reason()];
    q
}

fn drop_question(host: &HostContext, challenge: Challenge) -> Question<'_> {
    let mut q = Question::new(host, "psql -c 'DROP DATABASE orders_prod'", challenge);
    q.parsed = vec!["psql  sql: drop-database orders_prod".into()];
    q.reasons = vec![
        Reason {
            id: "sql.drop-database".into(),
            severity: "critical".into(),
            message: "DROP DATABASE orders_prod on db1.".into(),
            why: Some("A dropped database is only as recoverable as the last backup.".into()),
            instead: None,
        },
        Reason {
            id: "sql.any-ddl-on-primary".into(),
            severity: "warning".into(),
            message: "DDL on the primary.".into(),
            why: None,
            instead: Some("run migrations through the deploy pipeline".into()),
        },
    ];
    q
}

#[test]
fn banner_production() {
    golden(
        "banner_production.txt",
        &render_banner(&db1(), &digest(), &[], false),
    );
}

#[test]
fn banner_production_colour() {
    golden(
        "banner_production_colour.txt",
        &render_banner(&db1(), &digest(), &[], true),
    );
}

#[test]
fn banner_unknown_environment_with_policy_warning() {
    let warnings = vec![
        "/etc/prodguard/policies.d/10-db.toml:12:9: unknown field `confrim`, expected one of \
         `id`, `severity`, `action`, `confirm` (did you mean `confirm`?); using the built-in \
         strict policy"
            .to_string(),
    ];
    golden(
        "banner_unknown.txt",
        &render_banner(&unknown(), "", &warnings, false),
    );
}

#[test]
fn banner_staging() {
    golden(
        "banner_staging.txt",
        &render_banner(&staging(), &digest(), &[], false),
    );
}

fn digest() -> String {
    format!("sha256:{}", "0123456789abcdef".repeat(4))
}

#[test]
fn question_hostname() {
    let host = db1();
    golden(
        "question_hostname.txt",
        &render_question(&rm_question(&host, Challenge::Hostname), false),
    );
}

#[test]
fn question_hostname_colour() {
    let host = db1();
    golden(
        "question_hostname_colour.txt",
        &render_question(&rm_question(&host, Challenge::Hostname), true),
    );
}

#[test]
fn question_target() {
    let host = db1();
    let q = drop_question(&host, Challenge::Target("orders_prod".into()));
    golden("question_target.txt", &render_question(&q, false));
}

#[test]
fn question_phrase_unknown_environment() {
    let host = unknown();
    let mut q = rm_question(&host, Challenge::Phrase);
    q.command = "rm -rf /srv/data \\\n  /srv/backup";
    golden("question_phrase.txt", &render_question(&q, false));
}

#[test]
fn question_ticket() {
    let host = db1();
    let pattern = TicketPattern::new(r"[A-Z]+-\d+").expect("pattern");
    let mut q = drop_question(&host, Challenge::Ticket(pattern));
    q.timeout = Duration::from_secs(120);
    golden("question_ticket.txt", &render_question(&q, false));
}

#[test]
fn question_yes_staging() {
    let host = staging();
    let mut q = Question::new(&host, "systemctl restart nginx", Challenge::Yes);
    q.parsed = vec!["systemctl  subcommand: restart  units: nginx".into()];
    q.reasons = vec![Reason {
        id: "svc.restart".into(),
        severity: "warning".into(),
        message: "Restarting nginx drops open connections.".into(),
        why: None,
        instead: Some("systemctl reload nginx".into()),
    }];
    golden("question_yes.txt", &render_question(&q, false));
}

/// A terminal that types one line, then records what was shown.
struct OneLine(Option<&'static [u8]>, Vec<u8>);

impl TtyIo for OneLine {
    fn read(&mut self, buf: &mut [u8], _timeout: Duration) -> std::io::Result<ReadOutcome> {
        match self.0.take() {
            Some(b) => {
                buf[..b.len()].copy_from_slice(b);
                Ok(ReadOutcome::Data(b.len()))
            }
            None => Ok(ReadOutcome::TimedOut),
        }
    }
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.1.extend_from_slice(bytes);
        Ok(())
    }
}

#[test]
fn transcript_hostname_refused() {
    let host = db1();
    let q = rm_question(&host, Challenge::Hostname);
    let mut tty = OneLine(Some(b"db2\r"), Vec::new());
    let outcome = ask(&q, &mut tty);
    assert_eq!(outcome.label(), "refused");
    golden(
        "transcript_hostname_refused.txt",
        &String::from_utf8_lossy(&tty.1),
    );
}

#[test]
fn outcome_lines() {
    let host = db1();
    let q = rm_question(&host, Challenge::Hostname);
    let mut all = String::new();
    for o in [
        Outcome::Aborted,
        Outcome::Eof,
        Outcome::TimedOut,
        Outcome::TerminalError("EIO".into()),
    ] {
        all.push_str(&render_outcome(&q, &o, false));
    }
    golden("outcome_lines.txt", &all);
}

#[test]
fn refusal_no_terminal() {
    let host = db1();
    let q = rm_question(&host, Challenge::Hostname);
    let mut text = render_refusal(&q);
    let q = drop_question(&host, Challenge::Target("orders_prod".into()));
    text.push_str(&render_refusal(&q));
    golden("refusal_no_terminal.txt", &text);
}

#[test]
fn prompt_segments_and_title() {
    let host = db1();
    let mut text = String::new();
    for (shell, name) in [
        (Shell::Bash, "bash"),
        (Shell::Zsh, "zsh"),
        (Shell::Plain, "plain"),
    ] {
        text.push_str(&format!(
            "{name}: {}\n",
            render_prompt_segment(&host, shell, true, None)
        ));
    }
    text.push_str(&format!(
        "no colour: {}\n",
        render_prompt_segment(&host, Shell::Bash, false, None)
    ));
    text.push_str(&format!(
        "staging: {}\n",
        render_prompt_segment(&staging(), Shell::Zsh, true, None)
    ));
    text.push_str(&format!("title: {}\n", render_title(&host, None)));
    text.push_str(&format!(
        "title escape: {}\n",
        title_escape(&render_title(&host, None))
    ));
    golden("prompt_segments.txt", &text);
}
