//! `prodguard check CMD` (the hook entry) and `prodguard -- PROGRAM ARGS…` (command prefix),
//! and the one path both take: decide, ask, record.

use super::gate::{self, Asking, GateResult};
use super::stdin_script;
use super::{
    journal, load, report, shell_context, Global, EXIT_EXEC_FAILED, EXIT_EXEC_REFUSED, EXIT_OK,
    EXIT_REFUSED,
};
use crate::audit::{self, Sinks};
use crate::decide::decide_with;
use crate::host::HostContext;
use crate::policy::{Action, PolicySet};
use crate::shell::analyze;
use clap::Args;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the verdict as JSON on stdout as well.
    #[arg(long)]
    pub json: bool,
    /// Called from the interactive shell integration (recorded as such).
    #[arg(long)]
    pub hook: bool,
    /// Never ask: refuse anything that needs a human (for scripts and CI).
    #[arg(long)]
    pub no_ask: bool,
    /// The command line to check (words are joined with spaces).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// What the guard concluded, with what the caller needs to go on.
pub(crate) struct Guarded {
    /// Whether the command may run.
    pub run: bool,
    pub host: HostContext,
    /// What the guard read of its standard input to judge the program an interpreter reads
    /// from there (`bash -s`, `python3 -`): the command must get it ([`stdin_script::hand_on`]).
    pub stdin: Option<stdin_script::Feed>,
}

pub(crate) fn warn_policy(policy: &PolicySet) {
    if policy.strict {
        for e in &policy.errors {
            eprint!("{e}");
        }
        eprintln!(
            "prodguard: warning: the site policy failed to load; the strict fallback is in force"
        );
    }
}

/// Whether this process's stdin, which a command run by `--` or `login -c` inherits, carries
/// data nobody can see beforehand: anything but a terminal or `/dev/null` (`… | prodguard --
/// psql`, `ssh db1 psql < drop.sql`).
pub(crate) fn stdin_unseen() -> bool {
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

/// Decide on `command`, ask whoever must be asked, and record the decision. A command that needs
/// more than a warning runs only if its record was written. `stdin_unseen`: the command reads
/// this process's stdin and that is a pipe or file ([`stdin_unseen`]); when the command is an
/// interpreter reading its program from there, the program is read and judged too
/// ([`stdin_script::judge`]) and returned in [`Guarded::stdin`].
pub(crate) fn guard(
    global: &Global,
    command: &str,
    asking: Asking,
    json: bool,
    stdin_unseen: bool,
) -> Guarded {
    guard_via(global, command, asking, json, stdin_unseen, None)
}

/// [`guard`] for a command another program is about to run on someone's behalf: `sudo` is what
/// sudo's approval plugin said about it. The command is analysed in the invoking user's working
/// directory, reached `via` sudo, judged for the invoking user, and recorded under their name.
pub(crate) fn guard_via(
    global: &Global,
    command: &str,
    asking: Asking,
    json: bool,
    stdin_unseen: bool,
    sudo: Option<&super::sudo_check::SudoFacts>,
) -> Guarded {
    let (mut host, policy) = load(global);
    warn_policy(&policy);
    let sinks = Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
    let mut ctx = crate::shell::Context {
        stdin_unknown: stdin_unseen,
        ..shell_context()
    };
    if let Some(facts) = sudo {
        facts.adjust(&mut ctx, &mut host);
    }
    let mut analysis = analyze(command, &ctx);
    if sudo.is_some() {
        for inv in &mut analysis.invocations {
            inv.via.insert(0, "sudo".to_string());
        }
    }
    // Under sudo the checker's stdin is the user's terminal, not what sudo's command reads:
    // that input stays unknown (`stdin_unknown`) and is never read here.
    let stdin = if stdin_unseen && sudo.is_none() {
        stdin_script::judge(&mut analysis, &ctx, &mut stdin_script::RawStdin)
    } else {
        None
    };
    let mut verdict = decide_with(
        &analysis,
        &policy,
        &host,
        super::intent::current().as_deref(),
    );
    crate::precondition::check(&mut verdict, &analysis, &policy, &host);
    if json {
        println!(
            "{}",
            super::explain::json(command, &analysis, &verdict, &host, &policy)
        );
    }
    let break_glass = super::breakglass::active().filter(|_| verdict.action > Action::Warn);
    let result = if let (Some(reason), true) = (&break_glass, journal::sinks_usable(&sinks)) {
        let rules: Vec<&str> = verdict.matches.iter().map(|m| m.rule.as_str()).collect();
        eprintln!(
            "prodguard: BREAK-GLASS: {} ({}) waived for this session; recorded",
            verdict.action.as_str(),
            rules.join(", ")
        );
        GateResult::break_glass(reason.clone())
    } else if !journal::may_run_unrecorded(&verdict) && !journal::sinks_usable(&sinks) {
        let why = journal::sinks_problem(&sinks);
        eprint!(
            "{}",
            report::refusal(
                command,
                &verdict,
                &host,
                &format!(
                    "This needs a recorded decision and the audit log cannot be written: {why}"
                )
            )
        );
        GateResult::refused("denied", format!("the audit log cannot be written: {why}"))
    } else {
        gate::pass(
            command,
            &analysis,
            &verdict,
            &host,
            asking.for_host(&host),
            &sinks,
        )
    };
    let durable = verdict.action > Action::Allow || !result.run;
    let mut rec = journal::decision_record(command, &analysis, &verdict, &result, &host, &policy);
    if let Some(facts) = sudo {
        facts.stamp(&mut rec);
    }
    let run = match journal::write(rec, &sinks, durable) {
        Ok(()) => result.run,
        Err(e) if result.run && !journal::may_run_unrecorded(&verdict) => {
            eprintln!("prodguard: refused: {command}\n  the decision could not be recorded, and this command is not run unrecorded: {e}");
            false
        }
        Err(e) => {
            eprintln!("prodguard: warning: {e}");
            result.run
        }
    };
    Guarded { run, host, stdin }
}

pub fn run_check(global: &Global, args: &CheckArgs) -> u8 {
    let command = args.command.join(" ");
    let asking = Asking {
        interactive: !args.no_ask,
        ..Asking::default()
    };
    // The checked command runs in the caller's shell, on the caller's stdin, which this process
    // does not share.
    if guard(global, &command, asking, args.json, false).run {
        EXIT_OK
    } else {
        EXIT_REFUSED
    }
}

pub fn run_exec(global: &Global, argv: &[String]) -> u8 {
    let command = crate::shell::quote::join(argv);
    let guarded = guard(global, &command, Asking::default(), false, stdin_unseen());
    if !guarded.run {
        return EXIT_EXEC_REFUSED;
    }
    exec(argv, guarded.stdin.as_ref())
}

/// Give up the guard's privileges for good. Anything exec'd must not keep the audit group.
pub(crate) fn drop_privileges() -> Result<(), String> {
    if audit::privilege::is_setgid() {
        audit::privilege::drop_group_permanently().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Replace this process with `argv`, exactly as given, its standard input `stdin` when the guard
/// read it. Returns only on failure.
fn exec(argv: &[String], stdin: Option<&stdin_script::Feed>) -> u8 {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        return EXIT_EXEC_FAILED;
    };
    let setgid = audit::privilege::is_setgid();
    if let Err(e) = drop_privileges() {
        eprintln!("prodguard: not running {program}: cannot give up the audit group: {e}");
        return EXIT_EXEC_REFUSED;
    }
    if let Some(feed) = stdin {
        if let Err(e) = stdin_script::hand_on(feed) {
            eprintln!("prodguard: not running {program}: cannot hand on its standard input: {e}");
            return EXIT_EXEC_FAILED;
        }
    }
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    if setgid {
        cmd.env_clear()
            .envs(audit::privilege::sanitized_env(std::env::vars_os(), true));
    }
    let err = cmd.exec();
    eprintln!("prodguard: cannot run {program}: {err}");
    EXIT_EXEC_FAILED
}
