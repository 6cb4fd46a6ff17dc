//! Subcommands only the tests use (`audit append-test`, `audit exec-test`), compiled only with
//! the `test-hooks` feature: a shipped binary has none of them, so no user can append made-up
//! records or run a program unchecked through it.

use super::audit::{failed, stdout_error, AuditOptions};
use super::error::{Error, Status};
use crate::audit::{self, Event, Outcome, Record, Sinks};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// `prodguard [OPTIONS] audit HOOK …`, parsed apart from the shipped command line (which thus
/// stays the same, completions and man page included, in every build).
#[derive(Debug, Parser)]
#[command(name = "prodguard audit")]
struct Hooks {
    #[command(flatten)]
    global: super::Global,
    #[command(subcommand)]
    hook: Hook,
}

#[derive(Debug, Subcommand)]
enum Hook {
    /// Append COUNT records of event `test`.
    AppendTest {
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Command text to record (redacted like any other).
        #[arg(long)]
        command: Option<String>,
        /// Print each record's hash once it is on disk.
        #[arg(long)]
        print_hashes: bool,
        /// Write only the first N bytes of the (last) record, then die by SIGKILL while holding
        /// the lock: a writer killed mid-write.
        #[arg(long, value_name = "N")]
        tear_after: Option<usize>,
    },
    /// Open the sinks, record the command, drop the group, exec the command.
    ExecTest {
        #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
        argv: Vec<String>,
    },
}

/// Run a test hook when `args` (after argv[0]) name one: `audit` followed by a hook's name.
pub(super) fn intercept(args: &[OsString]) -> Option<ExitCode> {
    let at = args
        .windows(2)
        .position(|w| w[0] == "audit" && super::TEST_HOOKS.iter().any(|h| w[1] == *h))?;
    let argv = std::iter::once(OsString::from("prodguard audit"))
        .chain(args[..at].iter().cloned())
        .chain(args[at + 1..].iter().cloned());
    let hooks = match Hooks::try_parse_from(argv) {
        Ok(h) => h,
        Err(e) => {
            let _ = e.print();
            return Some(ExitCode::from(super::EXIT_USAGE));
        }
    };
    // As the shipped command line treats its options (super::main).
    let global = super::Global::from_paths(crate::login::with_install_paths(hooks.global.paths()));
    let opts = AuditOptions {
        audit_file: global.audit_file.clone(),
        host: crate::host::HostContext::load(global.host_file.as_deref()),
        redactions: Vec::new(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match hooks.hook {
        Hook::AppendTest {
            count,
            command,
            print_hashes,
            tear_after,
        } => append(&mut out, &opts, count, command, print_hashes, tear_after),
        Hook::ExecTest { argv } => exec(&opts, &argv),
    };
    let flushed = out.flush();
    let status = super::audit::finish(result, flushed);
    Some(ExitCode::from(super::error::report("prodguard", status)))
}

fn append(
    out: &mut impl Write,
    opts: &AuditOptions,
    count: u64,
    command: Option<String>,
    print_hashes: bool,
    tear_after: Option<usize>,
) -> Status {
    let sinks = sinks(opts);
    // One process, one session, as a login's records share theirs.
    let session = crate::audit::record::session_id();
    for i in 0..count {
        let cmd = command
            .clone()
            .unwrap_or_else(|| format!("append-test record {i}"));
        let mut rec = Record::new_for_current_process(Event::Test, &opts.host)
            .with_command(cmd)
            .with_outcome(Outcome::Allowed);
        rec.session.clone_from(&session);
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
                        writeln!(out, "{h}").map_err(stdout_error)?;
                        out.flush().map_err(stdout_error)?;
                    }
                }
            }
            Err(e) => return Err(Error::Failed(e.to_string())),
        }
    }
    Ok(0)
}

/// Write the first `n` bytes of `rec`'s line under the lock, then die by SIGKILL.
fn tear(sinks: &Sinks, mut rec: Record, n: usize) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = sinks.file().map_err(failed)?.path().to_path_buf();
    audit::redact_record(&mut rec, &[]);
    let line = audit::chain::seal(&mut rec, audit::chain::ZERO_HASH).map_err(failed)?;
    let f = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)
        .map_err(failed)?;
    let mut locked = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::Failed(e.desc().to_string()))?;
    locked
        .write_all(&line[..n.min(line.len().saturating_sub(1))])
        .map_err(failed)?;
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    Err(Error::Failed("SIGKILL did not kill the process".into()))
}

fn exec(opts: &AuditOptions, argv: &[String]) -> Status {
    use std::os::unix::process::CommandExt;
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
        Err(e) => return Err(Error::Failed(format!("{e}; not running {}", argv[0]))),
    }
    let err = std::process::Command::new(&argv[0]).args(&argv[1..]).exec();
    Err(Error::Failed(format!(
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
