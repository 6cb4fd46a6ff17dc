//! `prodguard check CMD` (the hook entry) and `prodguard -- PROGRAM ARGS…` (command prefix):
//! both go the guard's one path (judge, pass, record) and differ only in what they do after.

use super::error::{Error, Status};
use super::{Global, EXIT_EXEC_REFUSED, EXIT_OK, EXIT_REFUSED};
use crate::guard::{stdin_script, stdin_unseen, Asking, Context, Guard, Judgement};
use clap::Args;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the verdict as JSON on stdout as well.
    #[arg(long)]
    pub json: bool,
    /// Called from the interactive shell integration (recorded as such).
    #[arg(long)]
    pub hook: bool,
    /// When CMD opens a root shell (`sudo -i`, `sudo su -`, `su -`, `sudo bash`), print on stdout
    /// the line that opens it with this binary as its shell, for the integration to run instead.
    #[arg(long)]
    pub guard_root_shell: bool,
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

/// Judge, pass and record `command` for a command line given to this process, printing the
/// verdict as JSON first when asked. The judgement is returned with whether the command may run.
pub(crate) fn guarded(
    guard: &Guard,
    command: &str,
    ctx: &Context,
    asking: Asking,
    json: bool,
) -> (Judgement, bool) {
    guard.warn_policy();
    let j = guard.judge(command, ctx);
    if json {
        println!(
            "{}",
            super::explain::json(command, j.analysis(), j.verdict(), j.host(), guard.policy())
        );
    }
    let decision = guard.pass(&j, asking);
    let ran = guard.record(&j, &decision).is_ok();
    (j, ran)
}

pub fn run_check(global: &Global, args: &CheckArgs) -> Status {
    let command = args.command.join(" ");
    let asking = Asking {
        interactive: !args.no_ask,
        ..Asking::default()
    };
    // The checked command runs in the caller's shell, on the caller's stdin, which this process
    // does not share.
    let guard = super::guard(global);
    let root_shell = args
        .guard_root_shell
        .then(crate::login::integration::current_bin)
        .flatten()
        .and_then(|bin| {
            let shell = std::env::var("SHELL").ok();
            crate::login::root::guarded(&command, &bin, shell.as_deref())
        });
    let ctx = Context {
        detail: root_shell.as_ref().map(|r| r.detail()),
        ..Context::here()
    };
    if !guarded(&guard, &command, &ctx, asking, args.json).1 {
        return Ok(EXIT_REFUSED);
    }
    if let Some(r) = root_shell {
        eprintln!(
            "prodguard: this root shell carries the guard: running `{}`",
            r.line
        );
        println!("{}", r.line);
    }
    Ok(EXIT_OK)
}

pub fn run_exec(global: &Global, argv: &[String]) -> Status {
    let command = crate::shell::quote::join(argv);
    let guard = super::guard(global);
    let ctx = Context {
        stdin_unseen: stdin_unseen(),
        ..Context::here()
    };
    let (j, ran) = guarded(&guard, &command, &ctx, Asking::default(), false);
    if !ran {
        return Ok(EXIT_EXEC_REFUSED);
    }
    Err(exec(argv, j.stdin()))
}

/// Replace this process with `argv`, exactly as given, its standard input `stdin` when the guard
/// read it. Returns only on failure, with what failed.
fn exec(argv: &[String], stdin: Option<&stdin_script::Feed>) -> Error {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        return Error::Usage("no program to run".into());
    };
    if let Some(feed) = stdin {
        if let Err(e) = stdin_script::hand_on(feed) {
            return Error::NotRun(format!(
                "not running {program}: cannot hand on its standard input: {e}"
            ));
        }
    }
    Error::Exec {
        program: program.clone(),
        source: std::process::Command::new(program).args(args).exec(),
    }
}
