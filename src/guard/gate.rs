//! Acting on a verdict: run, warn, ask the human, or refuse — and say which, as a [`Decision`].

use super::{report, Decision, Judgement};
use crate::decide::Verdict;
use crate::host::HostContext;
use crate::policy::{Action, ConfirmKind};
use crate::prompt::{self, Challenge, Outcome, Question, Reason};
use crate::shell::Analysis;
use std::time::Duration;

/// How the gate may reach a human.
#[derive(Debug, Clone, Copy)]
pub struct Asking {
    /// Ask on /dev/tty when a confirmation is needed (false: refuse, as for a batch job).
    pub interactive: bool,
    /// How long to wait for an answer. host.toml's `[prompt] timeout_secs` replaces it (see
    /// [`Asking::for_host`]).
    pub timeout: Duration,
    /// The longest the caller itself will wait, whatever host.toml says (sudo's approval plugin
    /// gives up on the checker after its own limit, and a question still open then must not
    /// outlive it).
    pub limit: Option<Duration>,
}

impl Asking {
    /// This way of asking, with the answer timeout host.toml sets, if it sets one, within
    /// [`Asking::limit`].
    pub fn for_host(self, host: &HostContext) -> Asking {
        let timeout = host.prompt_timeout.unwrap_or(self.timeout);
        Asking {
            timeout: self.limit.map_or(timeout, |l| timeout.min(l)),
            ..self
        }
    }
}

impl Default for Asking {
    fn default() -> Self {
        Asking {
            interactive: true,
            timeout: prompt::DEFAULT_TIMEOUT,
            limit: None,
        }
    }
}

fn challenge(verdict: &Verdict) -> Challenge {
    match verdict
        .challenge
        .as_ref()
        .map(|c| (c.kind, c.target.clone()))
    {
        Some((ConfirmKind::Target, Some(t))) => Challenge::Target(t),
        Some((ConfirmKind::Phrase, _)) => Challenge::Phrase,
        Some((ConfirmKind::Ticket, _)) => Challenge::Ticket(prompt::TicketPattern::any()),
        Some((ConfirmKind::Yes, _)) => Challenge::Yes,
        _ => Challenge::Hostname,
    }
}

/// The question for a verdict: the command as parsed and every rule that asks something.
pub fn question<'a>(
    command: &'a str,
    analysis: &Analysis,
    verdict: &Verdict,
    host: &'a HostContext,
) -> Question<'a> {
    let mut q = Question::new(host, command, challenge(verdict));
    q.parsed = analysis
        .invocations
        .iter()
        .map(report::invocation_line)
        .collect();
    q.reasons = verdict
        .matches
        .iter()
        .filter(|m| m.action > Action::Allow)
        .map(|m| Reason {
            id: m.rule.clone(),
            severity: m.severity.as_str().to_string(),
            message: match crate::precondition::summary(m) {
                Some(s) => format!("{} {s}", m.message),
                None => m.message.clone(),
            },
            why: m.why.clone(),
            instead: m.instead.clone(),
        })
        .collect();
    q
}

/// Act on the verdict of `j`: print what the human must know, ask when the policy says so, and
/// for `approve` find or file a request for a second person's approval (recorded in `sinks`).
pub fn pass(j: &Judgement, asking: Asking, sinks: &crate::audit::Sinks) -> Decision {
    let (command, verdict, host) = (j.command(), j.verdict(), j.host());
    match verdict.action {
        Action::Allow => Decision::Allowed,
        Action::Warn => {
            eprint!("{}", report::warning(verdict, host));
            Decision::Warned
        }
        Action::Confirm => {
            let mut q = question(command, j.analysis(), verdict, host);
            q.timeout = asking.timeout;
            let outcome = if asking.interactive {
                prompt::ask_on_dev_tty(&q)
            } else {
                Outcome::NoTerminal
            };
            match outcome {
                Outcome::Confirmed { evidence } => Decision::Confirmed { evidence },
                Outcome::Refused { reason, evidence } => Decision::Refused {
                    why: reason,
                    evidence,
                },
                Outcome::NoTerminal => {
                    // A second person's approval of exactly this command stands in, once.
                    if let Some(d) = super::approval::stand_in(j, sinks) {
                        return d;
                    }
                    eprint!("{}", prompt::render_refusal(&q));
                    Decision::NoTerminal {
                        why: "a typed confirmation is needed and there is no terminal".into(),
                    }
                }
                Outcome::Aborted => Decision::Aborted {
                    why: "aborted at the question".into(),
                },
                Outcome::Eof => Decision::Aborted {
                    why: "end of input at the question".into(),
                },
                Outcome::TimedOut => Decision::TimedOut {
                    why: "no answer in time".into(),
                },
                Outcome::TerminalError(e) => {
                    eprintln!("prodguard: cannot ask on the terminal: {e}");
                    Decision::Aborted {
                        why: format!("terminal error: {e}"),
                    }
                }
            }
        }
        Action::Approve => super::approval::gate(j, asking.interactive, sinks),
        Action::Deny => {
            eprint!(
                "{}",
                report::refusal(command, verdict, host, "This is denied by policy.")
            );
            Decision::Denied {
                why: "denied by policy".into(),
            }
        }
    }
}
