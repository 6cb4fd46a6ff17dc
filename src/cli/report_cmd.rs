//! `prodguard report`: the shell integration reports how a command it let through ended.
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
    #[arg(long, allow_hyphen_values = true)]
    pub status: i32,
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
    let duration = match (
        args.started.as_deref().and_then(seconds),
        args.ended.as_deref().and_then(seconds),
    ) {
        (Some(a), Some(b)) if b >= a => Duration::from_secs_f64(b - a),
        _ => Duration::ZERO,
    };
    let rec = Record::new_for_current_process(Event::Command, &host)
        .with_outcome(Outcome::Exit)
        .with_exit(args.status, duration)
        .with_policy_digest(policy.digest.clone());
    let sinks = Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
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
