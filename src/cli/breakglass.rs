//! `prodguard --break-glass`: an emergency session in which the guard's checks are reduced to
//! warnings. It asks for a reason, records it as a critical `break-glass` event, and starts a
//! shell whose banner says so; every command run in it that the policy would have asked about
//! or refused is recorded with the outcome `break-glass` and that reason.
//!
//! The marker is an environment variable, so anyone with a shell can set it: that is not a
//! hole the guard could close (a user can always run commands without it), and every command it
//! waives is recorded as waived, naming the user.

use super::{login, Global, EXIT_REFUSED, EXIT_USAGE};
use crate::audit::{self, Event, Outcome, Record, Sinks};
use std::io::{BufRead, Write};

/// The variable that marks a break-glass session; its value is the recorded reason.
pub const ENV: &str = "PRODGUARD_BREAK_GLASS";
/// The shortest reason accepted.
pub const MIN_REASON: usize = 10;

/// The reason of the break-glass session this process runs in, if any.
pub fn active() -> Option<String> {
    let v = std::env::var(ENV).ok()?;
    let v: String = v.chars().filter(|c| !c.is_control()).take(500).collect();
    (!v.trim().is_empty()).then(|| v.trim().to_string())
}

/// The banner line of a break-glass session.
pub fn banner_line(reason: &str) -> String {
    format!("BREAK-GLASS SESSION: checks are reduced to warnings and every waived command is recorded (reason: {reason})")
}

fn ask_reason() -> Option<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = &tty;
    let _ = write!(
        out,
        "Break-glass: the guard's checks will be reduced to warnings for this session.\nReason (recorded, at least {MIN_REASON} characters): "
    );
    let _ = out.flush();
    let mut line = String::new();
    std::io::BufReader::new(&tty).read_line(&mut line).ok()?;
    Some(line.trim().to_string())
}

/// Start a break-glass session. Returns only on failure.
pub fn run(global: &Global, reason: Option<String>) -> u8 {
    let reason = match reason.or_else(ask_reason) {
        Some(r) if r.chars().count() >= MIN_REASON => r,
        Some(_) => {
            eprintln!("prodguard: break-glass needs a reason of at least {MIN_REASON} characters");
            return EXIT_USAGE;
        }
        None => {
            eprintln!(
                "prodguard: break-glass needs a reason: --reason TEXT, or run it at a terminal"
            );
            return EXIT_USAGE;
        }
    };
    login::ensure_session();
    let (host, policy) = super::load(global);
    let sinks = Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
    let mut rec = Record::new_for_current_process(Event::Session, &host)
        .with_outcome(Outcome::BreakGlass)
        .with_policy_digest(policy.digest.clone());
    rec.reason = Some(reason.clone());
    rec.detail = Some("break-glass session started".to_string());
    // An emergency session that leaves no trace is exactly what the audit log must not allow.
    if let Err(e) = audit::record(rec, &sinks) {
        eprintln!("prodguard: break-glass refused: it cannot be recorded: {e}");
        return EXIT_REFUSED;
    }
    std::env::set_var(ENV, &reason);
    login::run(login::Entry::Interactive, global.clone())
}
