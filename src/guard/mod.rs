//! The decision spine: the one place where a command becomes a decision that was acted on and
//! recorded. Every entry point (`check`, `--`, the login shell, the interactive hook, `prodguard
//! sql` sessions, `request`, the approver's screen, `explain`, `sudo-check`) goes through it:
//!
//! 1. [`Guard::load`] reads the host description, the policy, the audit sinks and what was
//!    declared for the session ([`declared`]: intent, break-glass), once.
//! 2. [`Guard::judge`] reads the command ([`crate::shell`], and a program on stdin through
//!    [`stdin_script`]), decides it with the declared intent ([`crate::decide`]), checks the
//!    preconditions the matching rules require ([`crate::precondition`], which settles the
//!    verdict), once. The [`Judgement`] it returns is immutable.
//! 3. [`Guard::pass`] acts on it — warn, ask the human ([`gate`]), find or file a second
//!    person's approval ([`approval`]), waive it under break-glass, or refuse — and says what
//!    happened as a [`Decision`].
//! 4. [`Guard::record`] writes the decision ([`journal`]) and says whether the command may run:
//!    a command that needs more than a warning never runs unrecorded.

pub mod approval;
pub mod declared;
pub mod gate;
pub mod grant_client;
pub mod journal;
pub mod origin;
pub mod report;
pub mod spool_client;
pub mod stdin_script;
pub mod tally;

pub use declared::{Declared, Grant};
pub use gate::Asking;

use crate::audit::{self, Record, Sinks};
use crate::decide::Verdict;
use crate::host::HostContext;
use crate::policy::{Action, LoadOptions, PolicySet};
use crate::prompt::Evidence;
use crate::shell::Analysis;
use std::path::PathBuf;

/// Where the guard's configuration and audit log are.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// Host description [default: /etc/prodguard/host.toml].
    pub host_file: Option<PathBuf>,
    /// Directory of site policy packs [default: /etc/prodguard/policies.d].
    pub policy_dir: Option<PathBuf>,
    /// Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl].
    pub audit_file: Option<PathBuf>,
}

/// What stops the guard from doing what it was asked, other than a refusal of the command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong (a bad host name, a reason too short).
    #[error("{0}")]
    Usage(String),
    /// A session declaration cannot be kept.
    #[error("cannot keep the declaration: {0}")]
    Declaration(std::io::Error),
    /// No audit sink took a record that must be written.
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    /// The approval spool refused an operation.
    #[error(transparent)]
    Approval(#[from] crate::approval::ApprovalError),
    /// The audit service did not start a break-glass grant.
    #[error("{0}")]
    BreakGlass(String),
    /// A request for approval could not be recorded, so it was not filed.
    #[error("the request cannot be recorded, so it is not filed: {0}")]
    NotFiled(#[source] audit::AuditError),
}

/// How the command reached the guard, beyond its text.
#[derive(Debug, Clone)]
pub struct Context {
    /// Working directory, home and environment the command is read in.
    pub shell: crate::shell::Context,
    /// The command reads this process's stdin and that is a pipe or a file nobody has seen
    /// ([`stdin_unseen`]): a program an interpreter reads from there is read and judged too.
    pub stdin_unseen: bool,
    /// What sudo's approval plugin said about a command sudo is about to run.
    pub sudo: Option<SudoFacts>,
    /// The audit session the record belongs to [default: this login's].
    pub session: Option<String>,
    /// The record's `detail`.
    pub detail: Option<String>,
}

impl Context {
    /// The context of this process: its working directory, home and environment.
    pub fn here() -> Context {
        Context {
            shell: shell_context(),
            stdin_unseen: false,
            sudo: None,
            session: None,
            detail: None,
        }
    }
}

/// The guard of this process: host, policy, sinks and declarations, loaded once.
pub struct Guard {
    host: HostContext,
    policy: PolicySet,
    /// Opened at load for a guard that acts; on first use for one that only judges (`explain`
    /// must not create an audit log).
    sinks: std::cell::OnceCell<Sinks>,
    audit_file: Option<PathBuf>,
    declared: Declared,
}

/// What the guard concluded about one command, before anyone was asked. Immutable.
#[derive(Debug)]
pub struct Judgement {
    command: String,
    analysis: Analysis,
    verdict: Verdict,
    host: HostContext,
    cwd: String,
    break_glass: Option<Grant>,
    stdin: Option<stdin_script::Feed>,
    sudo: Option<SudoFacts>,
    session: Option<String>,
    detail: Option<String>,
}

impl Judgement {
    /// The command as judged and recorded.
    pub fn command(&self) -> &str {
        &self.command
    }
    /// How it was read.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }
    /// The settled verdict: rules, intent and preconditions applied.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }
    /// What the verdict asks for.
    pub fn action(&self) -> Action {
        self.verdict.action
    }
    /// The host and subject it was judged for.
    pub fn host(&self) -> &HostContext {
        &self.host
    }
    /// The directory the command runs in.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }
    /// The break-glass grant that waives this verdict, when one is in force and the verdict
    /// asks for more than a warning.
    pub fn break_glass(&self) -> Option<&Grant> {
        self.break_glass.as_ref()
    }
    /// What the guard read of its stdin to judge the program an interpreter reads from there:
    /// the command must get it ([`stdin_script::hand_on`]).
    pub fn stdin(&self) -> Option<&stdin_script::Feed> {
        self.stdin.as_ref()
    }
}

/// What happened when the guard acted on a judgement.
#[must_use = "a decision says whether the command may run"]
#[derive(Debug, Clone)]
pub enum Decision {
    /// Allowed without a word.
    Allowed,
    /// Allowed after a warning.
    Warned,
    /// The human passed the challenge.
    Confirmed { evidence: Evidence },
    /// A second person approved (their names, comma-separated).
    Approved { by: String },
    /// The policy's demand was waived by a break-glass session.
    BreakGlass { reason: String },
    /// Refused by policy, or because the decision could not be recorded or approved.
    Denied { why: String },
    /// The human gave the wrong answer.
    Refused { why: String, evidence: Evidence },
    /// The human gave up at the question.
    Aborted { why: String },
    /// Nobody answered in time.
    TimedOut { why: String },
    /// A human was needed and there was no terminal to ask on.
    NoTerminal { why: String },
    /// A second person's approval is needed and not given yet.
    NeedsApproval { why: String },
}

impl Decision {
    /// Whether the command may run.
    pub fn runs(&self) -> bool {
        match self {
            Decision::Allowed
            | Decision::Warned
            | Decision::Confirmed { .. }
            | Decision::Approved { .. }
            | Decision::BreakGlass { .. } => true,
            Decision::Denied { .. }
            | Decision::Refused { .. }
            | Decision::Aborted { .. }
            | Decision::TimedOut { .. }
            | Decision::NoTerminal { .. }
            | Decision::NeedsApproval { .. } => false,
        }
    }

    /// One word for it: allowed, warned, confirmed, approved, break-glass, denied, refused,
    /// aborted, timed-out, no-terminal, needs-approval.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Warned => "warned",
            Decision::Confirmed { .. } => "confirmed",
            Decision::Approved { .. } => "approved",
            Decision::BreakGlass { .. } => "break-glass",
            Decision::Denied { .. } => "denied",
            Decision::Refused { .. } => "refused",
            Decision::Aborted { .. } => "aborted",
            Decision::TimedOut { .. } => "timed-out",
            Decision::NoTerminal { .. } => "no-terminal",
            Decision::NeedsApproval { .. } => "needs-approval",
        }
    }

    /// Why it was refused, or the break-glass reason.
    pub fn why(&self) -> Option<&str> {
        match self {
            Decision::Allowed
            | Decision::Warned
            | Decision::Confirmed { .. }
            | Decision::Approved { .. } => None,
            Decision::BreakGlass { reason: why }
            | Decision::Denied { why }
            | Decision::Refused { why, .. }
            | Decision::Aborted { why }
            | Decision::TimedOut { why }
            | Decision::NoTerminal { why }
            | Decision::NeedsApproval { why } => Some(why),
        }
    }
}

/// The command may run: its decision was recorded, or needs no record.
#[derive(Debug)]
pub struct Ran;

/// The command must not run.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Why, in words.
    pub why: String,
}

impl Guard {
    /// Load host, policy, sinks and declarations. The subject is this process's user, the time
    /// now.
    pub fn load(paths: &Paths) -> Guard {
        let (host, policy) = load_host_policy(paths);
        let declared = Declared::current(&host);
        let guard = Guard::new(host, policy, declared, paths.audit_file.clone());
        // Opened once, before anything runs.
        let _ = guard.sinks();
        guard
    }

    /// A guard from parts already loaded (a host or subject given on the command line, a test).
    /// The audit sinks (`audit_file`, else host.toml's) are opened when first needed.
    pub fn new(
        host: HostContext,
        policy: PolicySet,
        declared: Declared,
        audit_file: Option<PathBuf>,
    ) -> Guard {
        Guard {
            host,
            policy,
            sinks: std::cell::OnceCell::new(),
            audit_file,
            declared,
        }
    }

    /// The host described.
    pub fn host(&self) -> &HostContext {
        &self.host
    }
    /// The policy in force.
    pub fn policy(&self) -> &PolicySet {
        &self.policy
    }
    /// The audit sinks.
    pub fn sinks(&self) -> &Sinks {
        self.sinks
            .get_or_init(|| Sinks::for_host(&self.host, self.audit_file.as_deref(), Vec::new()))
    }
    /// What was declared for this session.
    pub fn declared(&self) -> &Declared {
        &self.declared
    }

    /// Say on stderr, in one line, that the strict fallback is in force and why, when it is. A
    /// broken site pack must not fill the output of every `ssh host cmd`, transfer and
    /// automation task: the whole error is in `prodguard status`, `policy lint` and the banner.
    pub fn warn_policy(&self) {
        if let Some(line) = policy_warning(&self.policy) {
            eprintln!("{line}");
        }
    }

    /// Judge the command line `command` read in `ctx`.
    pub fn judge(&self, command: &str, ctx: &Context) -> Judgement {
        let mut host = self.host.clone();
        let mut shell = crate::shell::Context {
            stdin_unknown: ctx.stdin_unseen,
            ..ctx.shell.clone()
        };
        if let Some(facts) = &ctx.sudo {
            facts.adjust(&mut shell, &mut host);
        }
        let mut analysis = crate::shell::analyze(command, &shell);
        if ctx.sudo.is_some() {
            for inv in &mut analysis.invocations {
                inv.via.insert(0, "sudo".to_string());
            }
        }
        // Under sudo the checker's stdin is the user's terminal, not what sudo's command reads:
        // that input stays unknown (`stdin_unknown`) and is never read here.
        let stdin = if ctx.stdin_unseen && ctx.sudo.is_none() {
            stdin_script::judge(&mut analysis, &shell, &mut stdin_script::RawStdin)
        } else {
            None
        };
        let mut j = self.settle(command, analysis, host, &shell.cwd, ctx);
        j.stdin = stdin;
        j
    }

    /// Judge a program and its arguments, as `prodguard -- PROGRAM ARGS…` runs them.
    pub fn judge_argv(&self, argv: &[String], ctx: &Context) -> Judgement {
        self.judge(&crate::shell::quote::join(argv), ctx)
    }

    /// Judge a command already read (a statement typed in a database session, as its client's
    /// invocation with the statement as its input).
    pub fn judge_analysis(&self, command: &str, analysis: Analysis, ctx: &Context) -> Judgement {
        self.settle(command, analysis, self.host.clone(), &ctx.shell.cwd, ctx)
    }

    fn settle(
        &self,
        command: &str,
        analysis: Analysis,
        host: HostContext,
        cwd: &str,
        ctx: &Context,
    ) -> Judgement {
        let mut verdict = crate::decide::decide_with(
            &analysis,
            &self.policy,
            &host,
            self.declared.intent.as_deref(),
        );
        crate::precondition::check(&mut verdict, &analysis, &self.policy, &host);
        let break_glass = self
            .declared
            .break_glass
            .clone()
            .filter(|_| verdict.action > Action::Warn);
        Judgement {
            command: command.to_string(),
            analysis,
            verdict,
            host,
            cwd: cwd.to_string(),
            break_glass,
            stdin: None,
            sudo: ctx.sudo.clone(),
            session: ctx.session.clone(),
            detail: ctx.detail.clone(),
        }
    }

    /// Act on `j`: print what the human must know, ask when the policy says so, find or file a
    /// second person's approval, or waive it all under break-glass. A verdict that needs a
    /// record is refused outright when no audit sink can take one.
    pub fn pass(&self, j: &Judgement, asking: Asking) -> Decision {
        // Asked only of what needs a record: a command allowed without a question never waits
        // for the service.
        let problem = if journal::may_run_unrecorded(&j.verdict) {
            None
        } else {
            journal::record_problem(self.sinks())
        };
        match &j.break_glass {
            Some(grant) if problem.is_none() => {
                let rules: Vec<&str> = j.verdict.matches.iter().map(|m| m.rule.as_str()).collect();
                eprintln!(
                    "prodguard: BREAK-GLASS: {} ({}) waived for this session; recorded",
                    j.verdict.action.as_str(),
                    rules.join(", ")
                );
                return Decision::BreakGlass {
                    reason: grant.reason.clone(),
                };
            }
            _ => {}
        }
        if let Some(why) = self
            .declared
            .ignored_marker
            .as_ref()
            .filter(|_| j.verdict.action > Action::Warn)
        {
            eprintln!("prodguard: {why}; the command is judged as usual");
        }
        if let Some(why) = problem {
            eprint!(
                "{}",
                report::refusal(
                    &j.command,
                    &j.verdict,
                    &j.host,
                    &format!(
                        "This needs a recorded decision and the audit log cannot be written: {why}"
                    )
                )
            );
            return Decision::Denied {
                why: format!("the audit log cannot be written: {why}"),
            };
        }
        gate::pass(j, asking.for_host(&j.host), self.sinks())
    }

    /// Record `decision` on `j`. `Ok` when the command may run: it was allowed and its record
    /// was written — or needs none, being allowed without a question.
    pub fn record(&self, j: &Judgement, decision: &Decision) -> Result<Ran, Refused> {
        let run = decision.runs();
        let durable = j.verdict.action > Action::Allow || !run;
        // A record of another session (an approver's screen) is not this session's command.
        if j.session.is_none() {
            tally::count_command();
        }
        let mut rec = journal::decision_record(j, decision, &self.policy);
        if let Some(facts) = &j.sudo {
            facts.stamp(&mut rec);
        }
        if let Some(s) = &j.session {
            rec.session = s.clone();
        }
        if j.detail.is_some() {
            rec.detail = j.detail.clone();
        }
        if let Some(why) = &self.declared.ignored_marker {
            rec.detail = Some(match rec.detail.take() {
                Some(d) => format!("{d}; {why}"),
                None => why.clone(),
            });
        }
        let refused = || Refused {
            why: decision.why().unwrap_or("refused").to_string(),
        };
        match journal::write(rec, self.sinks(), durable) {
            Ok(()) if run => Ok(Ran),
            Ok(()) => Err(refused()),
            Err(e) if run && !journal::may_run_unrecorded(&j.verdict) => {
                eprintln!("prodguard: refused: {}\n  the decision could not be recorded, and this command is not run unrecorded: {e}", j.command);
                Err(Refused {
                    why: format!("the decision could not be recorded: {e}"),
                })
            }
            Err(e) => {
                eprintln!("prodguard: warning: {e}");
                if run {
                    Ok(Ran)
                } else {
                    Err(refused())
                }
            }
        }
    }

    /// Judge, pass and record `command`: the whole path of a command line.
    pub fn guard(
        &self,
        command: &str,
        ctx: &Context,
        asking: Asking,
    ) -> (Judgement, Result<Ran, Refused>) {
        let j = self.judge(command, ctx);
        let decision = self.pass(&j, asking);
        let ran = self.record(&j, &decision);
        (j, ran)
    }
}

/// What `policy`'s rules alone say of a command read earlier, for `host`: no session
/// declarations and no preconditions. `policy replay` asks this of past commands under two
/// policies: the intent and break-glass of whoever replays, and the state of the host now (a
/// backup, a probe), say nothing about how those commands were decided then, and a probe must not
/// run once per line of history.
pub fn rules_verdict(analysis: &Analysis, policy: &PolicySet, host: &HostContext) -> Verdict {
    crate::decide::decide_with(analysis, policy, host, None)
}

/// Host context (this process's subject, the time now) and policy. Where the session comes
/// from is the audit service's word when a rule in force has an `ssh` condition.
pub fn load_host_policy(paths: &Paths) -> (HostContext, PolicySet) {
    let mut host = HostContext::load(paths.host_file.as_deref());
    host.subject = crate::subject::Subject::current();
    host.now = Some(jiff::Timestamp::now());
    let policy = PolicySet::load(&LoadOptions {
        policy_dir: paths.policy_dir.clone(),
        no_embedded: false,
    });
    origin::settle(&mut host, &policy);
    (host, policy)
}

/// The one line said on stderr when the strict fallback is in force, naming the first error.
pub fn policy_warning(policy: &PolicySet) -> Option<String> {
    if !policy.strict {
        return None;
    }
    let n = policy.errors.len();
    let first = policy
        .errors
        .first()
        .map(|e| format!(", first: {}", e.headline()))
        .unwrap_or_default();
    Some(format!(
        "prodguard: warning: the site policy failed to load ({n} error{}{first}); the strict fallback is in force; see `prodguard policy lint`",
        if n == 1 { "" } else { "s" }
    ).replace('\n', " "))
}

/// Warnings about policy loading worth a line in the banner (the host's own warnings are shown
/// by the banner itself).
pub fn banner_warnings(policy: &PolicySet) -> Vec<String> {
    let mut w = Vec::new();
    if policy.strict {
        w.push(format!(
            "the site policy failed to load ({} error{}): a strict fallback is in force; see `prodguard policy lint`",
            policy.errors.len(),
            if policy.errors.len() == 1 { "" } else { "s" }
        ));
        w.extend(policy.errors.iter().take(3).map(|e| e.headline()));
    }
    w.extend(policy.warnings.iter().take(3).map(|e| e.headline()));
    w
}

/// The analysis context of this process: working directory and home.
pub fn shell_context() -> crate::shell::Context {
    crate::shell::Context {
        cwd: std::env::current_dir()
            .ok()
            .and_then(|p| p.to_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string()),
        home: std::env::var("HOME").ok().filter(|h| h.starts_with('/')),
        env: std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| {
                k.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            })
            .collect(),
        stdin_unknown: false,
    }
}

/// Whether this process's stdin, which a command run by `--` or `login -c` inherits, carries
/// data nobody can see beforehand: anything but a terminal or `/dev/null` (`… | prodguard --
/// psql`, `ssh db1 psql < drop.sql`).
pub fn stdin_unseen() -> bool {
    use std::io::IsTerminal;
    use std::os::unix::fs::MetadataExt;
    if std::io::stdin().is_terminal() {
        return false;
    }
    match (
        std::fs::metadata("/proc/self/fd/0"),
        std::fs::metadata("/dev/null"),
    ) {
        (Ok(fd0), Ok(null)) => fd0.dev() != null.dev() || fd0.ino() != null.ino(),
        // stdin closed: the command reads nothing. Without /proc, assume the worst.
        (Err(e), _)
            if e.raw_os_error() == Some(libc::ENOENT)
                && std::path::Path::new("/proc/self").exists() =>
        {
            false
        }
        _ => true,
    }
}

/// What sudo said about the command and who asked for it.
#[derive(Debug, Clone, Default)]
pub struct SudoFacts {
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub runas: Option<String>,
    pub cwd: Option<String>,
    pub tty: Option<String>,
    /// No question may be asked (`sudo -n`).
    pub no_ask: bool,
}

impl SudoFacts {
    /// Analyse in the command's directory and judge the invoking user, not root.
    fn adjust(&self, ctx: &mut crate::shell::Context, host: &mut HostContext) {
        if let Some(cwd) = self.cwd.as_ref().filter(|c| c.starts_with('/')) {
            ctx.cwd = cwd.clone();
        }
        // The user's shell expanded `~` before sudo saw the words; sudo's HOME is not theirs.
        ctx.home = None;
        if let Some(user) = &self.user {
            let mut subject = crate::subject::Subject::for_user(user);
            subject.uid = subject.uid.or(self.uid);
            subject.interactive = Some(!self.no_ask && std::fs::File::open("/dev/tty").is_ok());
            subject.origin = crate::subject::Origin::Unknown;
            host.subject = subject;
        }
    }

    /// The record names the invoking user, their terminal and directory, and the run-as user.
    fn stamp(&self, rec: &mut Record) {
        if let Some(user) = &self.user {
            rec.user = user.clone();
            if let Some(uid) = self.uid {
                rec.uid = uid;
            }
            rec.login_user = rec.login_user.take().filter(|l| l != user);
        }
        if self.tty.is_some() {
            rec.tty = self.tty.clone();
        }
        if self.cwd.is_some() {
            rec.cwd = self.cwd.clone();
        }
        rec.detail = Some(format!(
            "sudo: run as {}",
            self.runas.as_deref().unwrap_or("root")
        ));
    }
}
