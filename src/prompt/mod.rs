//! Asking a human: the login banner, the prompt segment and terminal title, and the typed
//! confirmation read from `/dev/tty`.
//!
//! This module sits below `policy` and `decide` and knows nothing of them: the caller turns a
//! verdict into a [`Question`] (plain strings and a [`Challenge`]) and gets back an [`Outcome`]
//! carrying [`Evidence`] for the audit record.
//!
//! Rules of the conversation (documented in `docs/prompt.md`):
//! - The question always shows the environment in capitals on its colour, the host, role and
//!   cluster, the command as typed and as parsed, and every matching rule's message and why.
//! - One attempt: a wrong answer refuses, and the user runs the command again. A retry loop would
//!   teach people to type until it works.
//! - Input typed before the question appeared, and anything typed after the answer, is discarded,
//!   so neither a paste nor type-ahead can answer it.
//! - Ctrl-C, Ctrl-D, timeout and a missing terminal are distinct outcomes; the terminal's modes
//!   are restored on every path.
//! - What was typed for `hostname`, `target` and `phrase` is not kept: the evidence says only
//!   whether it matched. Ticket and reason are kept, since recording them is their purpose.
#![deny(unsafe_code)]

mod challenge;
mod line;
mod render;
#[allow(unsafe_code)]
mod tty;

pub use challenge::{TicketPattern, MIN_REASON_CHARS, PHRASE_WORDS};
pub use render::{
    display_safe, render_banner, render_outcome, render_prompt_segment, render_question,
    render_refusal, render_title, title_escape, Shell,
};
pub use tty::{colour_enabled, DevTty, ReadOutcome, TtyIo};

use crate::host::HostContext;
use serde::Serialize;
use std::time::Duration;

/// How long a question waits for each answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything the question shows and asks.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    /// Where we are.
    pub host: &'a HostContext,
    /// The command as typed (may span several lines).
    pub command: &'a str,
    /// One line per parsed invocation, e.g. `rm  flags: force,recursive  targets: /var/lib/pg`.
    pub parsed: Vec<String>,
    /// Each matching rule, most severe first.
    pub reasons: Vec<Reason>,
    /// What the human must type.
    pub challenge: Challenge,
    /// How long to wait for each answer line (the `ticket` challenge asks two lines).
    pub timeout: Duration,
}

impl<'a> Question<'a> {
    /// A question with no parsed lines or reasons yet and the default timeout.
    pub fn new(host: &'a HostContext, command: &'a str, challenge: Challenge) -> Question<'a> {
        Question {
            host,
            command,
            parsed: Vec::new(),
            reasons: Vec::new(),
            challenge,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// One matching rule, as shown to the human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Rule id, e.g. `fs.rm-recursive-data-dir`.
    pub id: String,
    /// `info`, `warning`, `high` or `critical` (any other word is shown as given).
    pub severity: String,
    /// The rule's message, placeholders already filled in.
    pub message: String,
    /// Why the rule exists.
    pub why: Option<String>,
    /// What to do instead.
    pub instead: Option<String>,
}

/// What the human must type to go ahead.
#[derive(Debug, Clone)]
pub enum Challenge {
    /// This host's short name (or its full name), case-insensitive.
    Hostname,
    /// Exactly this target: the database, namespace or path being destroyed.
    Target(String),
    /// A word drawn at random from [`PHRASE_WORDS`] for this question.
    Phrase,
    /// A ticket id matching the pattern, and a reason of at least [`MIN_REASON_CHARS`].
    Ticket(TicketPattern),
    /// A plain `y/N`; anything but `y` or `yes` refuses.
    Yes,
}

impl Challenge {
    /// The name used in policies and audit records.
    pub fn name(&self) -> &'static str {
        match self {
            Challenge::Hostname => "hostname",
            Challenge::Target(_) => "target",
            Challenge::Phrase => "phrase",
            Challenge::Ticket(_) => "ticket",
            Challenge::Yes => "yes",
        }
    }
}

/// What the human answered, fit for the audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// [`Challenge::name`].
    pub challenge: &'static str,
    /// Whether the answer was right.
    pub passed: bool,
    /// The ticket id given (the `ticket` challenge only).
    pub ticket: Option<String>,
    /// The reason given (the `ticket` challenge only).
    pub reason: Option<String>,
}

impl Evidence {
    fn new(challenge: &Challenge, passed: bool) -> Evidence {
        Evidence {
            challenge: challenge.name(),
            passed,
            ticket: None,
            reason: None,
        }
    }
}

/// How the question ended. Anything but `Confirmed` means: do not run the command.
#[must_use = "an unconfirmed command must not run"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The human typed the right answer.
    Confirmed { evidence: Evidence },
    /// The answer was wrong; `reason` names the mismatch without repeating a possible secret.
    Refused { reason: String, evidence: Evidence },
    /// Ctrl-C or Ctrl-\ (or a terminating signal while asking).
    Aborted,
    /// Ctrl-D on an empty line, or the terminal went away.
    Eof,
    /// No answer within the question's timeout.
    TimedOut,
    /// There is no controlling terminal to ask on.
    NoTerminal,
    /// The terminal failed while asking (the OS error).
    TerminalError(String),
}

impl Outcome {
    /// Whether the command may run.
    pub fn is_confirmed(&self) -> bool {
        matches!(self, Outcome::Confirmed { .. })
    }

    /// A stable one-word name for audit records and `--json`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Confirmed { .. } => "confirmed",
            Outcome::Refused { .. } => "refused",
            Outcome::Aborted => "aborted",
            Outcome::Eof => "eof",
            Outcome::TimedOut => "timed-out",
            Outcome::NoTerminal => "no-terminal",
            Outcome::TerminalError(_) => "terminal-error",
        }
    }

    /// The evidence, when an answer was judged.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            Outcome::Confirmed { evidence } | Outcome::Refused { evidence, .. } => Some(evidence),
            _ => None,
        }
    }
}

/// Ask `q` on `tty`: show the question, read the answer, judge it, and say the result.
pub fn ask(q: &Question<'_>, tty: &mut impl TtyIo) -> Outcome {
    challenge::ask_with(q, tty, &mut challenge::os_random)
}

/// Ask `q` on the controlling terminal, `/dev/tty` (never stdin or stdout, which may be pipes).
/// Without a controlling terminal, or on one nobody is at ([`DevTty::unattended`]: a
/// pseudo-terminal of no size, as `ssh -tt` makes for a script), the answer is
/// [`Outcome::NoTerminal`] at once; the caller then prints
/// [`render_refusal`].
pub fn ask_on_dev_tty(q: &Question<'_>) -> Outcome {
    let mut tty = match DevTty::open() {
        Ok(tty) => tty,
        Err(e) if is_no_terminal(&e) => return Outcome::NoTerminal,
        Err(e) => return Outcome::TerminalError(format!("/dev/tty: {e}")),
    };
    // `ssh -tt` from a script: a terminal nobody is at. Waiting for an answer would hold the
    // script for the whole timeout and print the question into its output.
    if tty.unattended() {
        return Outcome::NoTerminal;
    }
    ask(q, &mut tty)
}

fn is_no_terminal(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENXIO | libc::ENOTTY | libc::ENOENT | libc::ENODEV | libc::EIO)
    )
}
