//! Command-line definitions and dispatch.

pub mod audit;

use std::path::PathBuf;
use std::process::ExitCode;

/// Temporary dispatcher for `prodguard audit …` until the main command line lands.
#[derive(Debug, clap::Parser)]
#[command(name = "prodguard", version)]
struct AuditCli {
    /// Audit log file (ignored when running setgid).
    #[arg(long, global = true, value_name = "PATH")]
    audit_file: Option<PathBuf>,
    /// Host description (ignored when running setgid).
    #[arg(long, global = true, value_name = "PATH", hide = true)]
    host_file: Option<PathBuf>,
    #[command(subcommand)]
    command: AuditTop,
}

#[derive(Debug, clap::Subcommand)]
enum AuditTop {
    /// Verify, search and summarise the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|a| a == "audit") {
        use clap::Parser;
        let cli = AuditCli::parse();
        let setgid = crate::audit::privilege::is_setgid();
        let host_file = cli.host_file.filter(|_| !setgid);
        let opts = audit::AuditOptions {
            audit_file: cli.audit_file,
            host: crate::host::HostContext::load(host_file.as_deref()),
            redactions: Vec::new(),
        };
        let AuditTop::Audit(cmd) = cli.command;
        return audit::run(cmd, &opts);
    }
    ExitCode::SUCCESS
}
