//! Shell command analysis: text → the simple commands it would run, unwrapped and normalised.
//!
//! `analyze` is the only entry point. It parses the text as bash would (brush-parser), walks every
//! simple command including those nested in `$( )`, backticks, `<( )`, `bash -c`, `ssh host '…'`,
//! `xargs`, `find -exec`, unwraps `sudo`/`env`/`nice`/… to the real program, normalises flags to
//! canonical names and resolves operands to absolute paths against the working directory.
//!
//! Anything that cannot be known statically is said so explicitly (`Target::Unknown`,
//! `dynamic_operands`, `Problem`), so that the policy can fail closed.

use serde::Serialize;
use std::collections::BTreeSet;

/// What the analyser needs to know about where the command runs.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Working directory the command starts in (absolute).
    pub cwd: String,
    /// The invoking user's home directory, for `~` expansion.
    pub home: Option<String>,
    /// Exported variables of the shell the command comes from (the checking process's
    /// environment). `$NAME` of one of these expands to its value; a variable that is only ever
    /// set in the environment (`TMPDIR`, `TMP`, `TEMP`) and is missing here expands to nothing,
    /// as bash would expand it. Any other unknown variable leaves the word unknown.
    /// `PRODGUARD_SHELL_VARS` among them is the shell integration's report of the shell's own
    /// variables that the line names (set, unset, or not known; see `shellvars`).
    pub env: Vec<(String, String)>,
    /// The command's own standard input is a pipe or file the guard cannot see (`prodguard --`
    /// or `ssh host CMD` with stdin not a terminal). A database client left reading stdin then
    /// reads unknown text rather than a human's typing.
    pub stdin_unknown: bool,
}

/// Variables that are set through the environment or not at all: when the environment lacks
/// them, the shell has them unset too.
pub const ENVIRONMENT_ONLY: &[&str] = &["TMPDIR", "TMP", "TEMP"];

/// The result of analysing one command line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    /// Every simple command the line would run, in source order, nested ones after their parent.
    pub invocations: Vec<Invocation>,
    /// Reasons the analysis is incomplete. Any problem makes the line at least `confirm`.
    pub problems: Vec<Problem>,
}

/// One program the shell would run, after unwrapping wrappers and normalising arguments.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Invocation {
    /// The program as policy sees it: the basename, without a leading backslash (`rm`).
    pub program: String,
    /// The program word as written (`/bin/rm`, `\rm`, `busybox rm`).
    pub program_word: String,
    /// The program word is not known before the command runs (`$X`, `$(cat f)`): it could be
    /// any program, and policy matches it as every one (`Invocation::as_program`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub program_unknown: bool,
    /// Arguments after quote removal, as the program would receive them. Words that are not
    /// statically known (`$VAR`, `$(cmd)`, globs) keep their source text.
    pub args: Vec<String>,
    /// Canonical flag names, long form without dashes (`rm -fr` → `force`, `recursive`).
    /// Unknown short flags keep their letter (`-Z` → `Z`); unknown long flags their name.
    pub flags: BTreeSet<String>,
    /// Values given to options that take one, by canonical name (`-n prod` → `namespace=prod`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
    /// Non-option arguments in order (subcommand words first for `kubectl delete ns x`).
    pub operands: Vec<String>,
    /// Operands that name files, resolved to absolute normalised paths where known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Wrappers this invocation was reached through, outermost first (`sudo`, `ssh db2`, `xargs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// The host the command runs on when reached through `ssh host …`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_host: Option<String>,
    /// The user it runs as when reached through `sudo -u`, `su`, `runuser`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
    /// `NAME=value` assignments in effect for this command.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
    /// Output redirections to files (`> /etc/passwd`, `>> log`), resolved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<Redirect>,
    /// Text that reaches the program's stdin when statically known: a heredoc body, a
    /// here-string, `echo "…" |`, or `< file` (the file name, see `stdin_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// A file redirected into stdin (`< dump.sql`), resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin_file: Option<String>,
    /// More operands are appended at run time (`xargs`, `find -exec … {}`, `parallel`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dynamic_operands: bool,
    /// What the operands supplied at run time are known to be: paths under these roots, the
    /// search roots of the `find` that produces them (`find ROOT -exec rm {} \;`, `find ROOT |
    /// xargs rm`). Each stands in [`Invocation::targets`] for what lies under it. Empty when the
    /// run-time operands could be anything.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtime_roots: Vec<Target>,
    /// The `find` expression that chooses, under `runtime_roots` (for `find` itself: under its
    /// targets), the files acted on (`-name '*.core'`); `None` when every file may be.
    #[serde(skip)]
    pub selects: Option<findexpr::FindExpr>,
    /// Statements of the payload this program hands to a data store, filled by `sql`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<crate::sql::Statement>,
    /// The Ansible module this runs (`python3 …/AnsiballZ_shell.py`), read from its file; what
    /// the module will run joins the analysis after it (see [`ansible`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ansible: Option<ansible::Module>,
    /// The source text of this command, for display.
    pub text: String,
}

impl Invocation {
    /// This invocation read as if its program were `program`: flags, options and operands as
    /// that program parses its arguments. Every operand stays a target (the program was not
    /// known, so any operand could name a file it changes).
    pub fn as_program(&self, program: &str) -> Invocation {
        let parsed = flags::parse(program, &self.args);
        Invocation {
            program: program.to_owned(),
            program_unknown: false,
            flags: parsed.flags,
            options: parsed.options,
            operands: parsed.operands,
            ..self.clone()
        }
    }
}

/// A file operand, resolved.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum Target {
    /// A statically known absolute, normalised path (`/var/lib/postgresql`). A glob operand that
    /// the shell would expand keeps its pattern (`/var/lib/*`).
    Path(String),
    /// Not known before run time (`$DIR/x`, `$(cat list)`): could be anything. The source text.
    Unknown(String),
}

/// A redirection of output to a file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Redirect {
    /// File descriptor redirected (1 for `>`, 2 for `2>`).
    pub fd: u32,
    /// The resolved target.
    pub target: Target,
    /// `>>` appends; `>` (and `>|`, `&>`) truncates.
    pub append: bool,
}

/// Why an analysis is incomplete.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// The text is not valid shell syntax, or is beyond the parser's bounds.
    Unparseable { reason: String },
    /// A wrapper's payload cannot be known (`bash -c "$CMD"`, `eval "$x"`, `ssh host "$C"`).
    UnknownPayload { program: String, reason: String },
    /// The parser rejected the line and so does the real shell it is meant for (`bash -n`):
    /// nothing of it runs, the shell prints its own error. Not a reason to ask; recorded so the
    /// record says why the line was let through. What the token scanner found in it is still
    /// judged (a line typed at a prompt may be the start of a longer command).
    ShellRejects { shell: String, message: String },
}

mod analyze;
pub mod ansible;
pub mod findexpr;
mod flags;
mod interp;
mod output;
mod paths;
mod scan;
mod shellvars;
mod syntax;
mod walk;
mod word;
mod wrappers;

pub mod quote;
pub use analyze::analyze;

#[cfg(test)]
mod tests;
