//! Subcommands only the tests use (`audit append-test`, `audit exec-test`), compiled only with
//! the `test-hooks` feature: a shipped binary has none of them, so no user can append made-up
//! records or run a program unchecked through it.

use super::audit::{AuditOptions, Failure, Res};
use crate::audit::{self, privilege, Event, Outcome, Record, Sinks};
use std::io::Write;

pub(super) fn append(
    out: &mut impl Write,
    opts: &AuditOptions,
    count: u64,
    command: Option<String>,
    print_hashes: bool,
    tear_after: Option<usize>,
) -> Res {
    if tear_after.is_some() && privilege::is_setgid() {
        return Err(Failure::Message(
            "--tear-after is refused in a setgid process".into(),
        ));
    }
    let sinks = sinks(opts);
    for i in 0..count {
        let cmd = command
            .clone()
            .unwrap_or_else(|| format!("append-test record {i}"));
        let rec = Record::new_for_current_process(Event::Test, &opts.host)
            .with_command(cmd)
            .with_outcome(Outcome::Allowed);
        if i + 1 == count {
            if let Some(n) = tear_after {
                return tear(&sinks, rec, n).map(|()| 0);
            }
        }
        match audit::record(rec, &sinks) {
            Ok(w) => {
                for f in &w.failures {
                    eprintln!("prodguard: {f}");
                }
                if print_hashes {
                    if let Some(h) = &w.hash {
                        writeln!(out, "{h}")?;
                        out.flush()?;
                    }
                }
            }
            Err(e) => return Err(Failure::Message(e.to_string())),
        }
    }
    Ok(0)
}

/// Write the first `n` bytes of `rec`'s line under the lock, then die by SIGKILL.
fn tear(sinks: &Sinks, mut rec: Record, n: usize) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = sinks
        .file()
        .map_err(|e| Failure::Message(e.to_string()))?
        .path()
        .to_path_buf();
    audit::redact_record(&mut rec, &[]);
    let line = audit::chain::seal(&mut rec, audit::chain::ZERO_HASH)
        .map_err(|e| Failure::Message(e.to_string()))?;
    let f = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| Failure::Message(e.to_string()))?;
    let mut locked = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| Failure::Message(e.desc().to_string()))?;
    locked
        .write_all(&line[..n.min(line.len().saturating_sub(1))])
        .map_err(|e| Failure::Message(e.to_string()))?;
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    Err(Failure::Message("SIGKILL did not kill the process".into()))
}

pub(super) fn exec(opts: &AuditOptions, argv: &[String]) -> Res {
    use std::os::unix::process::CommandExt;
    let was_setgid = privilege::is_setgid();
    let sinks = sinks(opts);
    let rec = Record::new_for_current_process(Event::Test, &opts.host)
        .with_command(argv.join(" "))
        .with_outcome(Outcome::Allowed);
    match audit::record(rec, &sinks) {
        Ok(w) => {
            for f in &w.failures {
                eprintln!("prodguard: {f}");
            }
        }
        Err(e) => return Err(Failure::Message(format!("{e}; not running {}", argv[0]))),
    }
    privilege::drop_group_permanently().map_err(|e| Failure::Message(e.to_string()))?;
    let env = privilege::sanitized_env(std::env::vars_os(), was_setgid);
    let err = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(env)
        .exec();
    Err(Failure::Message(format!(
        "cannot run {}: {}",
        argv[0],
        audit::reason(&err)
    )))
}

fn sinks(opts: &AuditOptions) -> Sinks {
    Sinks::for_host(
        &opts.host,
        opts.audit_file.as_deref(),
        opts.redactions.clone(),
    )
}
