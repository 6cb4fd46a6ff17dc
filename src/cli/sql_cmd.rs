//! `prodguard sql -- CLIENT ARGS…`: an interactive database client whose every statement is
//! checked before the server sees it (the proxy is `session`), and its non-interactive twin
//! (stdin not a terminal) that judges the whole input before the client gets the first byte.
//!
//! Each complete input is classified as the command line would be — the client's invocation with
//! the input as its stdin payload — then the guard judges, passes and records it exactly as for
//! `prodguard -- …` (intent, preconditions and break-glass included). Input that the policy lets through without a word is counted, not recorded
//! one by one; the session ends with one summary record carrying the counts.

use super::error::{Error, Status};
use super::{check, shell_context, Global};
use super::{EXIT_EXEC_FAILED, EXIT_EXEC_REFUSED, EXIT_OK};
use crate::audit::{self, Event, Outcome, Record};
use crate::guard::{journal, Asking, Context, Guard, Judgement};
use crate::policy::Action;
use crate::session::{self, Client, Judge, Pause};
use crate::shell::{Analysis, Invocation};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// Print shell functions that route psql and redis-cli through `prodguard sql`, and exit.
    #[arg(long, value_name = "SHELL", num_args = 0..=1, default_missing_value = "bash")]
    pub aliases: Option<AliasShell>,
    /// The client and its arguments, after `--` (psql, redis-cli, valkey-cli, keydb-cli).
    #[arg(last = true, value_name = "CLIENT [ARGS]...")]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AliasShell {
    Bash,
    Zsh,
}

/// Clients the aliases cover.
const ALIASED: &[&str] = &["psql", "redis-cli", "valkey-cli", "keydb-cli"];

/// Most bytes of piped input judged and passed on.
const MAX_PIPED: u64 = 64 * 1024 * 1024;

/// Longest command text kept in a question or record.
const MAX_SHOWN: usize = 4096;

/// The shell functions printed by `--aliases`, calling the binary at `bin`.
pub fn aliases(bin: &str) -> String {
    let bin = crate::shell::quote::quote(bin);
    let mut s = String::from(
        "# prodguard: database clients run statement by statement under the guard.\n# `command psql …` runs the bare client.\n",
    );
    for c in ALIASED {
        s.push_str(&format!("{c}() {{ {bin} sql -- {c} \"$@\"; }}\n"));
    }
    s
}

fn cap(text: &str) -> String {
    if text.len() <= MAX_SHOWN {
        return text.to_owned();
    }
    let mut end = MAX_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Judges input for one client session and keeps the session's counts.
struct SqlJudge {
    guard: Guard,
    /// The client's invocation as the command line analysed it; each input becomes its stdin.
    template: Invocation,
    cwd: String,
    session: String,
    /// Statements sent without a question, by kind.
    counts: BTreeMap<String, u64>,
    /// Inputs that needed a decision and were sent.
    decided: u64,
    /// Inputs not sent.
    refused: u64,
}

impl SqlJudge {
    fn assess(&self, text: &str, detail: &str) -> Judgement {
        let mut inv = self.template.clone();
        inv.statements = crate::sql::classify(&crate::sql::ClientCall {
            program: &inv.program,
            args: &inv.args,
            stdin: Some(text),
            stdin_file: None,
            stdin_unknown: false,
            cwd: &self.cwd,
        });
        let analysis = Analysis {
            invocations: vec![inv],
            problems: Vec::new(),
        };
        let ctx = Context {
            session: Some(self.session.clone()),
            detail: Some(detail.to_owned()),
            ..Context::here()
        };
        self.guard.judge_analysis(&cap(text), analysis, &ctx)
    }

    fn count(&mut self, analysis: &Analysis) {
        for st in analysis.invocations.iter().flat_map(|i| &i.statements) {
            *self.counts.entry(st.kind.clone()).or_default() += 1;
        }
    }

    /// Act on a judgement that needs more than silence: warn, ask or refuse, and record it with
    /// the session's id. Returns whether the input may be sent.
    fn gate(&mut self, j: &Judgement, asking: Asking) -> bool {
        let decision = self.guard.pass(j, asking);
        let run = self.guard.record(j, &decision).is_ok();
        if run {
            self.decided += 1;
            self.count(j.analysis());
        } else {
            self.refused += 1;
        }
        run
    }

    fn summary(&self) -> String {
        let sent: u64 = self.counts.values().sum();
        let kinds: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        format!(
            "statements sent: {sent}{}; inputs that needed a decision and were sent: {}; inputs not sent: {}",
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            },
            self.decided,
            self.refused
        )
    }

    fn record_session(
        &self,
        command: &str,
        detail: String,
        exit: Option<(i32, std::time::Duration)>,
    ) {
        let mut rec = Record::new_for_current_process(Event::Session, self.guard.host())
            .with_command(command)
            .with_policy_digest(self.guard.policy().digest.clone());
        rec.session = self.session.clone();
        rec.detail = Some(detail);
        if let Some((status, took)) = exit {
            rec = rec.with_outcome(Outcome::Exit).with_exit(status, took);
        }
        if let Err(e) = journal::write(rec, self.guard.sinks(), true) {
            eprintln!("prodguard: warning: {e}");
        }
    }
}

impl Judge for SqlJudge {
    fn judge(&mut self, text: &str, client: &Client, term: &mut dyn Pause) -> bool {
        let detail = format!("{} session: {}", client.program, client.target);
        let j = self.assess(text, &detail);
        if j.action() == Action::Allow {
            self.count(j.analysis());
            return true;
        }
        term.cooked();
        if j.action() > Action::Warn {
            eprintln!("\nprodguard: {detail}");
        }
        self.gate(&j, Asking::default())
    }
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

pub fn run(global: &Global, args: &SqlArgs) -> Status {
    if let Some(shell) = args.aliases {
        let bin = crate::login::integration::current_bin().ok_or_else(|| {
            Error::Usage("sql: cannot tell where this binary is installed".into())
        })?;
        let _ = shell; // the functions are the same in bash and zsh
        std::io::stdout()
            .write_all(aliases(&bin).as_bytes())
            .map_err(Error::io("cannot write the functions"))?;
        return Ok(EXIT_OK);
    }
    let argv = &args.command;
    if argv.is_empty() {
        return Err(Error::Usage(
            "sql: usage: prodguard sql -- CLIENT [ARGS]...".into(),
        ));
    }
    let command = crate::shell::quote::join(argv);
    let ctx = shell_context();
    let analysis = crate::shell::analyze(&command, &ctx);
    let program = basename(&argv[0]);
    let template = analysis
        .invocations
        .iter()
        .find(|i| i.program == program)
        .cloned();
    // A client handed its payload on the command line (`psql -c …`, `redis-cli GET k`) is not a
    // session: it is judged and run like any other command.
    if template.as_ref().is_some_and(|t| !t.statements.is_empty()) {
        return check::run_exec(global, argv);
    }
    let mut client = session::prepare(argv, &|k| std::env::var(k).ok())
        .map_err(|e| Error::Usage(format!("sql: {e}")))?;
    let template =
        template.ok_or_else(|| Error::Usage(format!("sql: cannot read the command {command}")))?;
    // Starting the client is a command like any other (a production host, another host).
    let guard = super::guard(global);
    if !check::guarded(&guard, &command, &Context::here(), Asking::default(), false).1 {
        return Ok(EXIT_EXEC_REFUSED);
    }
    let login_session = audit::record::session_id();
    let mut judge = SqlJudge {
        guard,
        template,
        cwd: ctx.cwd.clone(),
        session: audit::record::new_session_id(),
        counts: BTreeMap::new(),
        decided: 0,
        refused: 0,
    };
    let started = Instant::now();
    if !std::io::stdin().is_terminal() {
        return piped(&mut judge, argv, &client, &command, started);
    }
    judge.record_session(
        &command,
        format!(
            "sql session started: {} {} (login session {login_session})",
            client.program, client.target
        ),
        None,
    );
    let end = session::run(&mut client, &mut judge);
    let (status, code) = match end {
        Ok(end) => (end.status, u8::try_from(end.status).unwrap_or(1)),
        Err(e) => {
            eprintln!("prodguard: sql: cannot run {}: {e}", client.program);
            (-1, EXIT_EXEC_FAILED)
        }
    };
    judge.record_session(
        &command,
        format!(
            "sql session ended: {} {}; {}",
            client.program,
            client.target,
            judge.summary()
        ),
        Some((status, started.elapsed())),
    );
    Ok(code)
}

/// Stdin is not a terminal: read it all, judge it as one payload, and hand it to the client only
/// if nothing in it needs a human — or a human on the controlling terminal said yes.
fn piped(
    judge: &mut SqlJudge,
    argv: &[String],
    client: &Client,
    command: &str,
    started: Instant,
) -> Status {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_PIPED + 1)
        .read_to_end(&mut input)
        .map_err(|e| Error::NotRun(format!("sql: cannot read stdin: {e}")))?;
    if input.len() as u64 > MAX_PIPED {
        return Err(Error::NotRun(format!(
            "refused: the input is larger than {MAX_PIPED} bytes; split it, or run the client on a file"
        )));
    }
    let text = String::from_utf8_lossy(&input);
    let detail = format!("{} input: {}", client.program, client.target);
    let j = judge.assess(&text, &detail);
    let send = if j.action() == Action::Allow {
        judge.count(j.analysis());
        true
    } else {
        judge.gate(&j, Asking::default())
    };
    if !send {
        judge.record_session(
            command,
            format!(
                "sql input refused before the first statement; {}",
                judge.summary()
            ),
            None,
        );
        return Ok(EXIT_EXEC_REFUSED);
    }
    // The user's own command: the options that switch line editing off matter only on a pty.
    let mut child = session::spawn_piped(argv).map_err(|source| Error::Exec {
        program: argv[0].clone(),
        source,
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A client that exits early closes the pipe; its exit status says why.
        let _ = stdin.write_all(&input);
    }
    let status = match child.wait() {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            s.code()
                .or_else(|| s.signal().map(|n| 128 + n))
                .unwrap_or(1)
        }
        Err(e) => {
            eprintln!("prodguard: sql: {e}");
            -1
        }
    };
    judge.record_session(
        command,
        format!("sql input: {}; {}", client.target, judge.summary()),
        Some((status, started.elapsed())),
    );
    Ok(u8::try_from(status).unwrap_or(EXIT_EXEC_FAILED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_call_the_binary() {
        let s = aliases("/opt/pg guard/prodguard");
        assert!(s.contains("psql() { '/opt/pg guard/prodguard' sql -- psql \"$@\"; }"));
        assert!(s.contains("redis-cli() {"));
    }
}
