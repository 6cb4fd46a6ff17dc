//! `prodguard daemon`: run the audit service (see [`crate::daemon`]).

use super::error::Status;
use super::Global;
use crate::audit::{self, SyslogTarget};
use crate::daemon::{self, activation, server};
use crate::host::HostContext;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Listen on this socket instead of the one systemd passes [default: host.toml `[audit]
    /// socket`, else /run/prodguard/audit.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Directory of the service's state; the log is written there as audit.jsonl unless
    /// `--audit-file` or host.toml says otherwise [default: /var/lib/prodguard].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

pub fn run(global: &Global, args: &DaemonArgs) -> Status {
    serve(global, args)?;
    Ok(super::EXIT_OK)
}

fn serve(global: &Global, args: &DaemonArgs) -> Result<(), daemon::DaemonError> {
    // New files (the log after a rotation, the state) are never world-readable.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o027));
    let host = HostContext::load(global.host_file.as_deref());
    for w in &host.warnings {
        eprintln!("prodguard daemon: warning: {w}");
    }
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(daemon::DEFAULT_STATE_DIR));
    std::fs::create_dir_all(&state_dir).map_err(|e| daemon::DaemonError::Prepare {
        path: state_dir.clone(),
        reason: audit::reason(&e),
    })?;
    let log = match (&global.audit_file, &host.audit_file, &args.state_dir) {
        (Some(f), _, _) | (None, Some(f), _) => f.clone(),
        (None, None, Some(d)) => d.join("audit.jsonl"),
        (None, None, None) => PathBuf::from(audit::DEFAULT_AUDIT_FILE),
    };
    let group = host
        .audit_reader_group
        .clone()
        .unwrap_or_else(|| daemon::DEFAULT_READER_GROUP.to_string());
    let gid = daemon::reader_gid(&group);
    if gid.is_none() {
        eprintln!(
            "prodguard daemon: warning: the reader group {group} does not exist: the log is readable by root only"
        );
    }
    let sink = daemon::prepare_log(&log, gid)?;
    // The service alone holds the host key: it signs the checkpoints that anchor the chain
    // outside the file. A key it cannot use is a loud warning, never a service that will not
    // start (every login depends on it).
    let key = match (&host.audit_key, &args.state_dir) {
        (None, Some(d)) => d.join("audit.key"),
        _ => audit::key_file_path(&host),
    };
    let sink = match audit::checkpoint::Signer::load_or_create(&key) {
        Ok(signer) => {
            if let Err(e) = signer.publish(&audit::checkpoint::published_key_path(&log)) {
                eprintln!("prodguard daemon: warning: {e}");
            }
            sink.with_checkpoints(audit::checkpoint::Checkpoints::new(
                signer,
                audit::checkpoint_settings(&host),
                &host,
            ))
        }
        Err(e) => {
            eprintln!(
                "prodguard daemon: warning: no checkpoints will be signed, so a cut tail of the log cannot be detected: {e}"
            );
            sink
        }
    };
    let syslog = SyslogTarget::parse(host.syslog.as_deref())?;
    let listener = match activation::from_systemd() {
        Some(l) => l,
        None => {
            let path = args
                .socket
                .clone()
                .unwrap_or_else(|| audit::service_socket(&host));
            activation::bind(&path)?
        }
    };
    let host_file = global
        .host_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::host::DEFAULT_HOST_FILE));
    let approvals = daemon::approvals::Approvals::new(
        host.clone(),
        host_file.clone(),
        state_dir.join("requests"),
    );
    if let Err(e) = daemon::approvals::prepare_spool(&approvals.spool_path()) {
        eprintln!(
            "prodguard daemon: warning: the approval spool {}: {}",
            approvals.spool_path().display(),
            audit::reason(&e)
        );
    }
    eprintln!(
        "prodguard daemon: writing {} (pid {})",
        log.display(),
        std::process::id()
    );
    server::run(
        listener,
        server::Service {
            log,
            sink,
            syslog,
            host_file,
            host,
            proc: daemon::peer::Proc::default(),
            approvals,
        },
    )
    .map_err(|e| daemon::DaemonError::Listen {
        path: PathBuf::from("the socket"),
        reason: audit::reason(&e),
    })
}
