//! `prodguard check CMD` (the hook entry) and `prodguard -- PROGRAM ARGS…` (command prefix).

use super::gate::{self, Asking};
use super::{
    load, shell_context, Global, EXIT_EXEC_FAILED, EXIT_EXEC_REFUSED, EXIT_OK, EXIT_REFUSED,
};
use crate::decide::decide;
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
    /// The command line to check (words are joined with spaces).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

fn warn_policy(policy: &crate::policy::PolicySet) {
    if policy.strict {
        for e in &policy.errors {
            eprint!("{e}");
        }
        eprintln!(
            "prodguard: warning: the site policy failed to load; the strict fallback is in force"
        );
    }
}

pub fn run_check(global: &Global, args: &CheckArgs) -> u8 {
    let (host, policy) = load(global);
    warn_policy(&policy);
    let command = args.command.join(" ");
    let analysis = analyze(&command, &shell_context());
    let verdict = decide(&analysis, &policy, &host);
    if args.json {
        println!(
            "{}",
            super::explain::json(&command, &analysis, &verdict, &host, &policy)
        );
    }
    let result = gate::pass(&command, &analysis, &verdict, &host, Asking::default());
    if result.run {
        EXIT_OK
    } else {
        EXIT_REFUSED
    }
}

pub fn run_exec(global: &Global, argv: &[String]) -> u8 {
    let (host, policy) = load(global);
    warn_policy(&policy);
    let command = crate::shell::quote::join(argv);
    let analysis = analyze(&command, &shell_context());
    let verdict = decide(&analysis, &policy, &host);
    let result = gate::pass(&command, &analysis, &verdict, &host, Asking::default());
    if result.run {
        exec(argv)
    } else {
        EXIT_EXEC_REFUSED
    }
}

/// Replace this process with `argv`, exactly as given. Returns only on failure.
fn exec(argv: &[String]) -> u8 {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        return EXIT_EXEC_FAILED;
    };
    let err = std::process::Command::new(program).args(args).exec();
    eprintln!("prodguard: cannot run {program}: {err}");
    EXIT_EXEC_FAILED
}
