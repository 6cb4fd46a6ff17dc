//! `prodguard intent HOST`: declare which host you mean to work on in this session. Any command
//! that needs a confirmation and acts on another host is then refused outright.
//!
//! The declaration lives in a private per-user directory, keyed by the login session
//! (`PRODGUARD_SESSION`, exported by the login shell) or, outside a guarded login, by the shell
//! that ran `prodguard` (the parent process). It lapses after twelve hours.

use super::{load, Global, EXIT_OK, EXIT_USAGE};
use crate::audit::{self, Event, Record, Sinks};
use clap::Args;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How long a declaration holds.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Args)]
pub struct IntentArgs {
    /// The host you mean to work on (short or full name). Without it, show the declaration.
    pub host: Option<String>,
    /// Why (recorded in the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Forget the declaration.
    #[arg(long, conflicts_with = "host")]
    pub clear: bool,
}

fn session_key() -> String {
    match std::env::var("PRODGUARD_SESSION") {
        Ok(s)
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            s
        }
        _ => format!("ppid-{}", nix::unistd::getppid()),
    }
}

fn intent_file() -> std::io::Result<PathBuf> {
    let uid = nix::unistd::getuid().as_raw();
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("prodguard-{uid}"));
    super::login::private_dir(&dir, uid)?;
    Ok(dir.join(format!("intent-{}", session_key())))
}

/// The host declared for this session, if any and still current.
pub fn current() -> Option<String> {
    let path = intent_file().ok()?;
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let age = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())?;
    if age > LIFETIME {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(&path)
        .ok()?
        .take(4096)
        .read_to_string(&mut text)
        .ok()?;
    let host = text.lines().next()?.trim().to_string();
    (!host.is_empty()).then_some(host)
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

pub fn run(global: &Global, args: &IntentArgs) -> u8 {
    if args.host.is_none() && !args.clear {
        match current() {
            Some(h) => println!("declared intent: {h}"),
            None => println!("no intent declared in this session"),
        }
        return EXIT_OK;
    }
    let path = match intent_file() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("prodguard: intent: cannot keep the declaration: {e}");
            return EXIT_USAGE;
        }
    };
    let (host, policy) = load(global);
    let detail = if args.clear {
        let _ = std::fs::remove_file(&path);
        println!("intent cleared");
        "intent cleared".to_string()
    } else {
        let declared = args.host.clone().unwrap_or_default();
        if !valid_host(&declared) {
            eprintln!("prodguard: intent: `{declared}` is not a host name");
            return EXIT_USAGE;
        }
        let text = format!("{declared}\n{}\n", args.reason.as_deref().unwrap_or(""));
        if let Err(e) = super::login::write_private(&path, &text) {
            eprintln!("prodguard: intent: cannot keep the declaration: {e}");
            return EXIT_USAGE;
        }
        if host.is_this_host(&declared) {
            println!("declared intent: {declared} (this host)");
        } else {
            println!(
                "declared intent: {declared} — note: this is {}; risky commands here will be refused",
                host.short_name()
            );
        }
        format!("intent {declared}")
    };
    let sinks = Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
    let mut rec = Record::new_for_current_process(Event::Session, &host)
        .with_policy_digest(policy.digest.clone());
    rec.detail = Some(detail);
    rec.reason = args.reason.clone();
    if let Err(e) = audit::record(rec, &sinks) {
        eprintln!("prodguard: warning: {e}");
    }
    EXIT_OK
}
