//! `prodguard report`: the shell integration reports how a command it let through ended, and
//! (`--integration SHELL`) that it loaded in a shell of the session.
//!
//! Only the exit status and the duration: the record carries no command text (the decision
//! record written by `check` has it), so this cannot be used to put made-up commands in the log,
//! and the audit service stamps the caller's identity from the kernel.

use super::{load, Global, EXIT_OK};
use crate::audit::{self, Event, Outcome, Record, Sinks};
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Exit status of the command.
    #[arg(
        long,
        allow_hyphen_values = true,
        required_unless_present = "integration"
    )]
    pub status: Option<i32>,
    /// The shell integration loaded in this shell (bash, zsh): recorded once per shell, for the
    /// session's records.
    #[arg(long, value_name = "SHELL", value_parser = ["bash", "zsh"], conflicts_with_all = ["status", "started", "ended"])]
    pub integration: Option<String>,
    /// When it started ($EPOCHREALTIME: seconds since the epoch, with a fraction).
    #[arg(long)]
    pub started: Option<String>,
    /// When it ended.
    #[arg(long)]
    pub ended: Option<String>,
}

/// Seconds in `$EPOCHREALTIME` form; a locale may use a comma.
fn seconds(s: &str) -> Option<f64> {
    s.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

pub fn run(global: &Global, args: &ReportArgs) -> u8 {
    let (host, policy) = load(global);
    let sinks = Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
    let Some(status) = args.status else {
        // `--integration`: the integration's first run in a shell of this session.
        crate::guard::tally::mark_loaded();
        let mut rec = Record::new_for_current_process(Event::Session, &host)
            .with_policy_digest(policy.digest.clone());
        rec.detail = Some("integration loaded".to_string());
        rec.integration = args.integration.clone();
        rec.loaded = Some(true);
        if let Err(e) = audit::record_with(rec, &sinks, false) {
            eprintln!("prodguard: report: {e}");
        }
        return EXIT_OK;
    };
    let duration = match (
        args.started.as_deref().and_then(seconds),
        args.ended.as_deref().and_then(seconds),
    ) {
        (Some(a), Some(b)) if b >= a => Duration::from_secs_f64(b - a),
        _ => Duration::ZERO,
    };
    let rec = Record::new_for_current_process(Event::Command, &host)
        .with_outcome(Outcome::Exit)
        .with_exit(status, duration)
        .with_policy_digest(policy.digest.clone());
    if let Err(e) = audit::record_with(rec, &sinks, false) {
        eprintln!("prodguard: report: {e}");
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    #[test]
    fn epochrealtime_forms() {
        assert_eq!(super::seconds("1700000000.250000"), Some(1_700_000_000.25));
        assert_eq!(super::seconds("1700000000,5"), Some(1_700_000_000.5));
        assert_eq!(super::seconds("x"), None);
    }
}
