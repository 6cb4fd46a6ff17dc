//! Command-line definitions and dispatch. One list of options drives parsing, `--help`, the man
//! page and the completions.

mod approval_cmd;
pub mod audit;
mod breakglass;
mod check;
mod daemon_cmd;
mod error;
mod explain;
mod generate;
mod init;
mod install;
mod intent;
mod policy_cmd;
pub mod replay;
mod report_cmd;
mod show;
mod sql_cmd;
mod status;
mod sudo_check;
mod sudo_setup;
#[cfg(feature = "test-hooks")]
mod test_hooks;

use clap::{Args, Parser, Subcommand};
use error::{Error, Status};

/// The `audit` subcommands of the `test-hooks` feature (never in a shipped binary).
#[cfg(feature = "test-hooks")]
pub(crate) const TEST_HOOKS: &[&str] = &["append-test", "exec-test"];
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status: the command may run / ran nothing and all is well.
pub const EXIT_OK: u8 = 0;
/// Exit status of `check`: refused (denied, not confirmed, no terminal to ask on).
pub const EXIT_REFUSED: u8 = 1;
/// Exit status: bad usage or a configuration error that stops a subcommand.
pub const EXIT_USAGE: u8 = 2;
/// Exit status of `prodguard -- CMD` when the guard refused to run CMD.
pub const EXIT_EXEC_REFUSED: u8 = 126;
/// Exit status of `prodguard -- CMD` when CMD could not be executed.
pub const EXIT_EXEC_FAILED: u8 = 127;

/// Keeps humans from destroying production by accident: checks every command against policy,
/// shows where you are, asks, and records the decision.
#[derive(Debug, Parser)]
#[command(name = "prodguard", version, about, long_about = None)]
#[command(disable_help_subcommand = true)]
#[command(
    after_help = "Run a command under the guard:  prodguard [OPTIONS] -- PROGRAM [ARGS]...\nAs a login shell:                prodguard [-c CMD]   (also honours SSH_ORIGINAL_COMMAND)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Start an emergency session: asks a reason, has the audit service record it and grant it
    /// to this session for host.toml break_glass_minutes (default 60), and reduces the checks to
    /// warnings.
    #[arg(long, conflicts_with = "exec")]
    pub break_glass: bool,
    /// The reason for --break-glass (asked on the terminal when not given).
    #[arg(long, requires = "break_glass", value_name = "TEXT")]
    pub reason: Option<String>,
    /// The program to check, run and record (command-prefix mode), after `--`.
    #[arg(last = true, value_name = "PROGRAM [ARGS]...")]
    pub exec: Vec<String>,
}

/// Options every subcommand honours.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Host description (environment, role, fleet) [default: /etc/prodguard/host.toml].
    #[arg(long, global = true, value_name = "PATH")]
    pub host_file: Option<PathBuf>,
    /// Directory of site policy packs [default: /etc/prodguard/policies.d].
    #[arg(long, global = true, value_name = "DIR")]
    pub policy_dir: Option<PathBuf>,
    /// Audit log file [default: host.toml `[audit] file`, else /var/log/prodguard/audit.jsonl].
    #[arg(long, global = true, value_name = "PATH")]
    pub audit_file: Option<PathBuf>,
}

impl Global {
    /// The paths these options name.
    pub fn paths(&self) -> crate::guard::Paths {
        crate::guard::Paths {
            host_file: self.host_file.clone(),
            policy_dir: self.policy_dir.clone(),
            audit_file: self.audit_file.clone(),
        }
    }

    fn from_paths(p: crate::guard::Paths) -> Global {
        Global {
            host_file: p.host_file,
            policy_dir: p.policy_dir,
            audit_file: p.audit_file,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide on a command for a shell hook: exit 0 to run it, 1 to refuse (reason on stderr).
    Check(check::CheckArgs),
    /// Show how a command is parsed, which rules match and the verdict; asks and records nothing.
    Explain(explain::ExplainArgs),
    /// Tools for policy authors.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// A tour of the embedded default policy on real dangerous and safe commands.
    Demo(explain::DemoArgs),
    /// Print the shell integration for bash or zsh (`eval "$(prodguard init bash)"`).
    Init(init::InitArgs),
    /// Declare the host you mean to work on: risky commands on any other host are refused.
    Intent(intent::IntentArgs),
    /// Print the environment banner shown at login.
    Banner,
    /// Print the prompt segment (or terminal title) naming the environment and host, and
    /// BREAK-GLASS with its expiry in UTC while a break-glass grant covers the shell.
    Prompt(show::PromptArgs),
    /// Record how a command let through by the shell integration ended (exit status, duration).
    #[command(hide = true)]
    Report(report_cmd::ReportArgs),
    /// Ask for a second person's approval of a command (`prodguard request -- CMD`), or attach
    /// an approver's SSH signature (`--signature FILE`).
    Request(approval_cmd::RequestArgs),
    /// List the approval requests on this host (for approvers).
    Requests(approval_cmd::RequestsArgs),
    /// Approve a request after reading it in full and typing the host name; offline with
    /// `--blob … --sign KEY`.
    Approve(approval_cmd::ApproveArgs),
    /// Refuse a request, with the reason (the requester may withdraw their own).
    Deny(approval_cmd::DenyArgs),
    /// Verify, search and summarise the audit log (for the security team).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run a database client (psql, redis-cli) checking every statement before the server sees it.
    Sql(sql_cmd::SqlArgs),
    /// Show the host context, the policy files in force, the audit sinks' health and the binary's mode.
    Status(status::StatusArgs),
    /// Print the steps that install prodguard on a host without the Debian package.
    Install(install::InstallArgs),
    /// Run the audit service, the one writer of the audit log (as root, started by systemd
    /// through prodguard.socket).
    Daemon(daemon_cmd::DaemonArgs),
    /// Write the man page or the shell completions generated from this command line.
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
    /// Judge a command sudo is about to run (called by the sudo approval plugin, as root):
    /// exit 0 to approve, 1 to refuse (reason on stderr).
    #[command(hide = true)]
    SudoCheck(sudo_check::SudoCheckArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // Before anything else: a binary found setgid gives the group up (see crate::privilege).
    match crate::privilege::give_up_setgid() {
        Ok(None) => {}
        Ok(Some(gid)) => eprintln!("{}", crate::privilege::given_up_warning(gid)),
        Err(e) => {
            eprintln!(
                "prodguard: refusing to run: this binary is installed setgid and cannot give the group up: {e}. Fix: {}",
                crate::privilege::FIX
            );
            return ExitCode::from(EXIT_EXEC_REFUSED);
        }
    }
    let mut args = std::env::args_os();
    let argv0 = args
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest: Vec<std::ffi::OsString> = args.collect();
    #[cfg(feature = "test-hooks")]
    if let Some(code) = test_hooks::intercept(&rest) {
        return code;
    }
    let env_command = std::env::var_os("SSH_ORIGINAL_COMMAND");
    let stdin_tty = std::io::IsTerminal::is_terminal(&std::io::stdin());
    if let Some(entry) = crate::login::entry(&argv0, &rest, env_command, stdin_tty) {
        return ExitCode::from(crate::login::run(
            entry,
            &crate::login::with_install_paths(crate::guard::Paths::default()),
        ));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let global = Global::from_paths(crate::login::with_install_paths(cli.global.paths()));
    let cli = Cli { global, ..cli };
    let name = match cli.command {
        Some(Command::Daemon(_)) => "prodguard daemon",
        _ => "prodguard",
    };
    let status: Status = match cli.command {
        Some(Command::Check(args)) => check::run_check(&cli.global, &args),
        Some(Command::Explain(args)) => explain::run(&cli.global, &args),
        Some(Command::Policy(cmd)) => policy_cmd::run(&cli.global, &cmd),
        Some(Command::Demo(args)) => explain::demo(&args),
        Some(Command::Init(args)) => init::run(&args),
        Some(Command::Intent(args)) => intent::run(&cli.global, &args),
        Some(Command::Banner) => show::banner(&cli.global),
        Some(Command::Prompt(args)) => show::prompt(&cli.global, &args),
        Some(Command::Report(args)) => Ok(report_cmd::run(&cli.global, &args)),
        Some(Command::Request(args)) => approval_cmd::run_request(&cli.global, &args),
        Some(Command::Requests(args)) => approval_cmd::run_requests(&cli.global, &args),
        Some(Command::Approve(args)) => approval_cmd::run_approve(&cli.global, &args),
        Some(Command::Deny(args)) => approval_cmd::run_deny(&cli.global, &args),
        Some(Command::Sql(args)) => sql_cmd::run(&cli.global, &args),
        Some(Command::Status(args)) => status::run(&cli.global, &args),
        Some(Command::Install(args)) => install::run(&args),
        Some(Command::Daemon(args)) => daemon_cmd::run(&cli.global, &args),
        Some(Command::Generate(args)) => generate::run(&args),
        Some(Command::SudoCheck(args)) => sudo_check::run(&cli.global, &args),
        Some(Command::Audit(cmd)) => {
            let opts = audit::AuditOptions {
                audit_file: cli.global.audit_file.clone(),
                host: crate::host::HostContext::load(cli.global.host_file.as_deref()),
                redactions: Vec::new(),
            };
            audit::run(cmd, &opts)
        }
        None if cli.break_glass => breakglass::run(&cli.global, cli.reason.clone()),
        None if !cli.exec.is_empty() => check::run_exec(&cli.global, &cli.exec),
        None => Err(Error::Usage("nothing to do; see `prodguard --help`".into())),
    };
    ExitCode::from(error::report(name, status))
}

/// Load host context and policy, for the subcommands that decide nothing.
pub(crate) fn load(global: &Global) -> (crate::host::HostContext, crate::policy::PolicySet) {
    crate::guard::load_host_policy(&global.paths())
}

/// The guard, for the subcommands that judge commands.
pub(crate) fn guard(global: &Global) -> crate::guard::Guard {
    crate::guard::Guard::load(&global.paths())
}

pub(crate) use crate::guard::shell_context;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
