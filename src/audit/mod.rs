//! The audit trail: every decision as one redacted, hash-chained JSON line, written to a file
//! (`flock`, one `write`, `fsync`) and to syslog (facility authpriv).
//!
//! The caller builds a [`Record`] (usually with [`Record::new_for_current_process`]), opens
//! the [`Sinks`] once and calls
//! [`record`]. The result says which sinks took the record; whether a risky command may run
//! when none did is the caller's decision (DESIGN §9: refuse it, with the reason).
//!
//! The record schema, the canonical form and the chain rules are documented in
//! `man/prodguard-audit.5`; `docs/audit.md` explains the design choices.

pub mod chain;
pub mod checkpoint;
pub mod grant_wire;
pub mod record;
pub mod redact;
pub mod search;
pub mod service;
pub mod sink;
pub mod syslog;
pub mod verify;

pub use checkpoint::{Checkpoints, PublicKey, Signer};
pub use record::{Action, Challenge, Event, InvocationRecord, Outcome, PreconditionRecord, Record};
pub use sink::{Appended, FileSink};
pub use syslog::{SyslogSink, SyslogTarget};

use crate::host::HostContext;
use std::path::{Path, PathBuf};

/// Where the audit log goes when nothing else is configured.
pub const DEFAULT_AUDIT_FILE: &str = "/var/log/prodguard/audit.jsonl";

/// Longest command text kept in a record, in bytes; longer text is cut and marked.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// Errors of the audit trail. Each `Display` is a whole sentence naming the file or target.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open the audit log {}: {}", path.display(), reason(err))]
    Open { path: PathBuf, err: std::io::Error },
    #[error("cannot lock the audit log {}: {}", path.display(), reason(err))]
    Lock { path: PathBuf, err: std::io::Error },
    #[error("cannot read the audit log {}: {}", path.display(), reason(err))]
    Read { path: PathBuf, err: std::io::Error },
    #[error("cannot write the audit log {}: {}", path.display(), reason(err))]
    Write { path: PathBuf, err: std::io::Error },
    #[error("cannot encode an audit record: {0}")]
    Encode(String),
    #[error("cannot send the audit record to syslog at {target}: {reason}")]
    Syslog { target: String, reason: String },
    #[error(
        "invalid audit syslog setting \"{value}\": {reason} (expected none, /dev/log, unix:/path, udp:host:port or tcp:host:port)"
    )]
    SyslogSetting { value: String, reason: String },
    #[error("the audit file sink is not configured")]
    NoFile,
    #[error("no audit sink accepted the record ({0})")]
    NoSink(String),
    #[error("the prodguard audit service at {} {reason}; start it with `{}`", socket.display(), service::START_HINT)]
    Service { socket: PathBuf, reason: String },
    #[error("the prodguard audit service refused the record: {0}")]
    Refused(String),
}

impl AuditError {
    /// The underlying OS error, for callers that tell ENOSPC from EACCES.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            AuditError::Open { err, .. }
            | AuditError::Lock { err, .. }
            | AuditError::Read { err, .. }
            | AuditError::Write { err, .. } => Some(err),
            _ => None,
        }
    }
}

/// An OS error as the C library words it ("No space left on device"), without "(os error 28)".
pub fn reason(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// Which sinks took a record.
#[derive(Debug, Default)]
#[must_use = "a record that reached no sink must stop risky commands"]
pub struct Written {
    /// The record is in the file, chained and fsynced.
    pub file_ok: bool,
    /// The record was handed to syslog.
    pub syslog_ok: bool,
    /// The record's hash in the file's chain (when `file_ok`).
    pub hash: Option<String>,
    /// Why a configured sink failed (also recorded on the other sink).
    pub failures: Vec<AuditError>,
}

impl Written {
    /// Whether at least one sink holds the record.
    pub fn any(&self) -> bool {
        self.file_ok || self.syslog_ok
    }
}

/// The open audit sinks: the audit service when it is installed (its socket exists), else the
/// file and syslog written by this process. Open them once; [`record`] reports what failed.
#[derive(Debug)]
pub struct Sinks {
    file: Result<FileSink, AuditError>,
    syslog: Option<Result<SyslogSink, AuditError>>,
    service: Option<service::ServiceSink>,
    redactions: Vec<regex::Regex>,
    /// Why the host key could not be used, when one is configured or present.
    key_error: Option<checkpoint::KeyError>,
}

/// The audit file to use: `--audit-file`, else host.toml's `[audit] file`, else
/// [`DEFAULT_AUDIT_FILE`]. The process holds no privilege, so another file is only one the
/// user could open anyway; the shared log is written by the audit service alone.
pub fn audit_file_path(cli: Option<&Path>, host: &HostContext) -> PathBuf {
    match cli {
        Some(p) => p.to_path_buf(),
        None => host
            .audit_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_AUDIT_FILE)),
    }
}

/// The audit service's socket: host.toml's `[audit] socket`, else [`service::DEFAULT_SOCKET`].
pub fn service_socket(host: &HostContext) -> PathBuf {
    host.audit_socket
        .clone()
        .unwrap_or_else(|| PathBuf::from(service::DEFAULT_SOCKET))
}

impl Sinks {
    /// Open the file sink at `file` and the syslog sink `syslog` (`None`: disabled). Never
    /// fails: a sink that cannot be opened is remembered, and each [`record`] reports it.
    /// `redactions` are the policy's extra secret patterns.
    pub fn open(
        file: &Path,
        syslog: Option<&SyslogTarget>,
        hostname: &str,
        redactions: Vec<regex::Regex>,
    ) -> Sinks {
        Sinks {
            file: FileSink::open(file),
            syslog: syslog.map(|t| SyslogSink::connect(t, hostname)),
            service: None,
            redactions,
            key_error: None,
        }
    }

    /// Sign checkpoints into the file with `cps` (see [`FileSink::with_checkpoints`]); also
    /// publishes the public key next to the log. Does nothing when the file sink failed to
    /// open. A key that cannot be published is kept as [`Sinks::key_error`].
    pub fn set_checkpoints(&mut self, cps: Checkpoints) {
        let pub_path = self
            .file
            .as_ref()
            .map(|f| checkpoint::published_key_path(f.path()))
            .ok();
        if let Some(p) = pub_path {
            if let Err(e) = cps.signer.publish(&p) {
                self.key_error = Some(e);
            }
        }
        if let Ok(f) = std::mem::replace(&mut self.file, Err(AuditError::NoFile)) {
            self.file = Ok(f.with_checkpoints(cps));
        }
    }

    /// Why the configured host key is not in use (unreadable, unsafe mode, cannot publish).
    pub fn key_error(&self) -> Option<&checkpoint::KeyError> {
        self.key_error.as_ref()
    }

    /// Write a checkpoint now (a starting service, a timer) to the file and syslog; `why` goes
    /// into its `detail`. `Ok(false)` when the file sink does not sign.
    pub fn checkpoint(&self, why: &str) -> Result<bool, AuditError> {
        let f = self.file.as_ref().map_err(clone_error)?;
        let cp = f.checkpoint(why)?;
        Ok(self.forward_checkpoints(cp.into_iter()))
    }

    /// [`FileSink::checkpoint_if_due`] on the file, forwarded to syslog.
    pub fn checkpoint_if_due(&self) -> Result<bool, AuditError> {
        let f = self.file.as_ref().map_err(clone_error)?;
        let cp = f.checkpoint_if_due()?;
        Ok(self.forward_checkpoints(cp.into_iter()))
    }

    /// Send checkpoint lines to syslog; whether there were any.
    fn forward_checkpoints(&self, cps: impl Iterator<Item = (Record, Vec<u8>)>) -> bool {
        let mut any = false;
        for (rec, line) in cps {
            any = true;
            if let Some(Ok(s)) = &self.syslog {
                let _ = s.send(&rec, trim_newline(&line));
            }
        }
        any
    }

    /// Send every record to the audit service at `socket`, which alone writes the log and
    /// forwards it to syslog. Connects on first use.
    pub fn service(socket: &Path, redactions: Vec<regex::Regex>) -> Sinks {
        Sinks {
            file: Err(AuditError::NoFile),
            syslog: None,
            service: Some(service::ServiceSink::new(socket)),
            redactions,
            key_error: None,
        }
    }

    /// Open the sinks configured for this host. Without `--audit-file`, when the service's
    /// socket ([`service_socket`]) exists, records go to the service. Otherwise this process
    /// writes them: the file from [`audit_file_path`] and the syslog target from host.toml's
    /// `[audit] syslog` (default `/dev/log`; `none` disables). A log this user may not open
    /// while the service is not there is reported as the service being down.
    pub fn for_host(
        host: &HostContext,
        cli_audit_file: Option<&Path>,
        redactions: Vec<regex::Regex>,
    ) -> Sinks {
        let socket = service_socket(host);
        if cli_audit_file.is_none() && std::fs::symlink_metadata(&socket).is_ok() {
            return Sinks::service(&socket, redactions);
        }
        let file = audit_file_path(cli_audit_file, host);
        let opened = match FileSink::open(&file) {
            Err(AuditError::Open { path, err })
                if cli_audit_file.is_none()
                    && matches!(err.raw_os_error(), Some(libc::EACCES | libc::EPERM)) =>
            {
                Err(AuditError::Service {
                    socket,
                    reason: format!(
                        "does not exist (the service is not running), and this user may not write the audit log {} itself",
                        path.display()
                    ),
                })
            }
            other => other,
        };
        let syslog = match SyslogTarget::parse(host.syslog.as_deref()) {
            Ok(t) => t.map(|t| SyslogSink::connect(&t, &host.hostname)),
            Err(e) => Some(Err(e)),
        };
        let mut sinks = Sinks {
            file: opened,
            syslog,
            service: None,
            redactions,
            key_error: None,
        };
        match host_signer(host) {
            Some(Ok(signer)) => {
                sinks.set_checkpoints(Checkpoints::new(signer, checkpoint_settings(host), host))
            }
            Some(Err(e)) => sinks.key_error = Some(e),
            None => {}
        }
        sinks
    }

    /// The file sink, or why it could not be opened.
    pub fn file(&self) -> Result<&FileSink, &AuditError> {
        self.file.as_ref()
    }

    /// The syslog sink: `None` when disabled, else the sink or why it could not be opened.
    pub fn syslog(&self) -> Option<Result<&SyslogSink, &AuditError>> {
        self.syslog.as_ref().map(Result::as_ref)
    }

    /// The audit service, when records go there.
    pub fn service_sink(&self) -> Option<&service::ServiceSink> {
        self.service.as_ref()
    }

    /// The extra redaction patterns.
    pub fn redactions(&self) -> &[regex::Regex] {
        &self.redactions
    }

    /// Whether a record could be taken at all: the service accepts a connection (one attempt:
    /// behind systemd's socket a restarting service queues connections rather than refusing
    /// them), or a local sink opened.
    pub fn usable(&self) -> bool {
        match &self.service {
            Some(s) => s.ensure_connected(false).is_ok(),
            None => self.file.is_ok() || self.syslog.as_ref().is_some_and(Result::is_ok),
        }
    }

    /// Why no record can be taken now, as sentences for a refusal; `None` when one can. The
    /// service is asked (one round trip) whether it can write its log: a service whose last
    /// write failed and still fails (full disk, I/O error, read-only) says so here, before any
    /// question is asked.
    pub fn record_problem(&self) -> Option<String> {
        if let Some(s) = &self.service {
            return match s.write_failure() {
                Ok(why) => why,
                Err(e) => Some(e.to_string()),
            };
        }
        if self.usable() {
            return None;
        }
        let mut why = Vec::new();
        if let Err(e) = &self.file {
            why.push(e.to_string());
        }
        match &self.syslog {
            Some(Err(e)) => why.push(e.to_string()),
            None => why.push("syslog is disabled".to_string()),
            Some(Ok(_)) => {}
        }
        Some(why.join("; "))
    }
}

/// The host key file: host.toml `[audit] key`, else [`checkpoint::DEFAULT_KEY_FILE`].
pub fn key_file_path(host: &HostContext) -> PathBuf {
    host.audit_key
        .clone()
        .unwrap_or_else(|| PathBuf::from(checkpoint::DEFAULT_KEY_FILE))
}

/// The checkpoint schedule host.toml sets (`checkpoint_every`, `checkpoint_interval`).
pub fn checkpoint_settings(host: &HostContext) -> checkpoint::Settings {
    let d = checkpoint::Settings::default();
    checkpoint::Settings {
        every: host.checkpoint_every.unwrap_or(d.every),
        interval: host.checkpoint_interval.unwrap_or(d.interval),
    }
}

/// The host key this process may sign with: `None` when none is configured and the default
/// file does not exist; an error when the key exists but this process may not use it (not
/// its own, open to others, unreadable). Never creates a key: that is the writer's
/// ([`Signer::load_or_create`], `prodguard audit keygen`).
pub fn host_signer(host: &HostContext) -> Option<Result<Signer, checkpoint::KeyError>> {
    match Signer::load(&key_file_path(host)) {
        Err(e) if e.is_not_found() && host.audit_key.is_none() => None,
        other => Some(other),
    }
}

/// Redact every free-text field of `rec` in place; sets `redacted` and lists the kinds in
/// `redactions` when something was removed.
///
/// The command text is redacted by meaning (see [`redact`]); the secret values found there are
/// then scrubbed from every other field too (an operand recorded as a target, a wrapper's
/// words, a precondition's evidence), so a secret the rules recognise in the command cannot
/// reach the record another way.
pub fn redact_record(rec: &mut Record, extra: &[regex::Regex]) {
    let mut kinds: std::collections::BTreeSet<String> = rec.redactions.iter().cloned().collect();
    let mut secrets = std::collections::BTreeSet::new();
    let mut changed = false;
    for field in [&mut rec.command, &mut rec.reason, &mut rec.ticket] {
        if let Some(text) = field.as_mut() {
            let r = redact::redact(text, extra);
            if r.text != *text {
                changed = true;
                *text = r.text;
            }
            kinds.extend(r.kinds.iter().map(|k| k.to_string()));
            secrets.extend(r.secrets);
        }
    }
    for p in &mut rec.preconditions {
        let r = redact::redact(&p.evidence, extra);
        if r.text != p.evidence {
            changed = true;
            p.evidence = r.text;
        }
        kinds.extend(r.kinds.iter().map(|k| k.to_string()));
        secrets.extend(r.secrets);
    }
    for inv in &mut rec.invocations {
        for words in [&mut inv.targets, &mut inv.via] {
            let (out, r) = redact::redact_words(words, extra);
            if out != *words {
                changed = true;
                *words = out;
            }
            kinds.extend(r.kinds.iter().map(|k| k.to_string()));
            secrets.extend(r.secrets);
        }
        for value in inv.ansible.iter_mut().flat_map(|m| m.args.values_mut()) {
            let r = redact::redact(value, extra);
            if r.text != *value {
                changed = true;
                *value = r.text;
            }
            kinds.extend(r.kinds.iter().map(|k| k.to_string()));
            secrets.extend(r.secrets);
        }
    }
    // What the command's rules found, wherever else it appears.
    let mut scrubbed = false;
    for inv in &mut rec.invocations {
        for w in inv.targets.iter_mut().chain(inv.via.iter_mut()) {
            if secrets.contains(w.as_str()) {
                *w = redact::MASK.to_string();
                scrubbed = true;
            } else {
                scrubbed |= redact::scrub(w, &secrets);
            }
        }
    }
    for p in &mut rec.preconditions {
        scrubbed |= redact::scrub(&mut p.evidence, &secrets);
    }
    for value in rec
        .invocations
        .iter_mut()
        .flat_map(|i| i.ansible.iter_mut())
        .flat_map(|m| m.args.values_mut())
    {
        scrubbed |= redact::scrub(value, &secrets);
    }
    for field in [&mut rec.reason, &mut rec.ticket, &mut rec.detail] {
        if let Some(text) = field.as_mut() {
            scrubbed |= redact::scrub(text, &secrets);
        }
    }
    changed |= scrubbed;
    if changed {
        rec.redactions = kinds.into_iter().collect();
    }
    if let Some(cmd) = rec.command.as_mut() {
        if cmd.len() > MAX_COMMAND_BYTES {
            let mut cut = MAX_COMMAND_BYTES;
            while !cmd.is_char_boundary(cut) {
                cut -= 1;
            }
            let dropped = cmd.len() - cut;
            cmd.truncate(cut);
            cmd.push_str(&format!("…[{dropped} more bytes not recorded]"));
        }
    }
    rec.redacted |= changed;
}

/// Redact, chain and write `rec` to every sink.
///
/// Returns which sinks took it. When one sink fails, a `sink-failure` record saying why is
/// written to the other. When none takes it, returns [`AuditError::NoSink`] naming every
/// reason: the caller must then refuse anything the policy would not allow without asking.
pub fn record(rec: Record, sinks: &Sinks) -> Result<Written, AuditError> {
    record_with(rec, sinks, true)
}

/// [`record`], choosing whether the file write waits for the disk (see
/// [`FileSink::append_with`]).
pub fn record_with(rec: Record, sinks: &Sinks, sync: bool) -> Result<Written, AuditError> {
    let mut rec = rec;
    redact_record(&mut rec, &sinks.redactions);
    if let Some(service) = &sinks.service {
        // The service writes the file and syslog; when it cannot be reached nothing else is
        // tried: a copy this process wrote itself would carry an identity nobody checked.
        let hash = service.append(&rec, sync)?;
        return Ok(Written {
            file_ok: true,
            syslog_ok: false,
            hash: Some(hash),
            failures: Vec::new(),
        });
    }
    let mut written = Written::default();

    let mut checkpoints = Vec::new();
    let file_line = match &sinks.file {
        Ok(f) => match f.append_records(std::slice::from_mut(&mut rec), sync) {
            Ok(mut a) => {
                written.file_ok = true;
                written.hash = Some(rec.hash.clone());
                checkpoints = a.checkpoints;
                a.lines.pop()
            }
            Err(e) => {
                written.failures.push(e);
                None
            }
        },
        Err(e) => {
            written.failures.push(clone_error(e));
            None
        }
    };

    if let Some(syslog) = &sinks.syslog {
        match syslog {
            Ok(s) => {
                if let Some(file_error) = written.failures.first() {
                    // The file failed: say so on syslog first, then send the record itself,
                    // chained from zeros because the file's chain could not be read.
                    let note = failure_note(&rec, file_error);
                    let _ = send_sealed(s, note);
                }
                // The heads first, in file order, so the remote copy holds every checkpoint.
                for (cp, line) in checkpoints.drain(..) {
                    let _ = s.send(&cp, trim_newline(&line));
                }
                let sent = match file_line {
                    Some(ref line) => s.send(&rec, trim_newline(line)),
                    None => send_sealed(s, rec.clone()),
                };
                match sent {
                    Ok(()) => written.syslog_ok = true,
                    Err(e) => written.failures.push(e),
                }
            }
            Err(e) => written.failures.push(clone_error(e)),
        }
        if written.file_ok && !written.syslog_ok {
            if let (Ok(f), Some(e)) = (&sinks.file, written.failures.last()) {
                let mut note = failure_note(&rec, e);
                let _ = f.append_records(std::slice::from_mut(&mut note), true);
            }
        }
    }

    if written.any() {
        Ok(written)
    } else {
        let reasons: Vec<String> = written.failures.iter().map(ToString::to_string).collect();
        Err(AuditError::NoSink(reasons.join("; ")))
    }
}

fn send_sealed(s: &SyslogSink, mut rec: Record) -> Result<(), AuditError> {
    let line =
        chain::seal(&mut rec, chain::ZERO_HASH).map_err(|e| AuditError::Encode(e.to_string()))?;
    s.send(&rec, trim_newline(&line))
}

fn trim_newline(line: &[u8]) -> &str {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    std::str::from_utf8(l).unwrap_or_default()
}

/// A `sink-failure` record about `err`, with the identity of `about`.
fn failure_note(about: &Record, err: &AuditError) -> Record {
    about.note(Event::SinkFailure, err.to_string())
}

/// Open errors are kept in `Sinks` and reported with every record; `io::Error` is not
/// `Clone`, so rebuild an equivalent one.
fn clone_error(e: &AuditError) -> AuditError {
    let io = |err: &std::io::Error| match err.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(err.kind(), err.to_string()),
    };
    match e {
        AuditError::Open { path, err } => AuditError::Open {
            path: path.clone(),
            err: io(err),
        },
        AuditError::Lock { path, err } => AuditError::Lock {
            path: path.clone(),
            err: io(err),
        },
        AuditError::Read { path, err } => AuditError::Read {
            path: path.clone(),
            err: io(err),
        },
        AuditError::Write { path, err } => AuditError::Write {
            path: path.clone(),
            err: io(err),
        },
        AuditError::Encode(s) => AuditError::Encode(s.clone()),
        AuditError::Syslog { target, reason } => AuditError::Syslog {
            target: target.clone(),
            reason: reason.clone(),
        },
        AuditError::SyslogSetting { value, reason } => AuditError::SyslogSetting {
            value: value.clone(),
            reason: reason.clone(),
        },
        AuditError::NoFile => AuditError::NoFile,
        AuditError::NoSink(s) => AuditError::NoSink(s.clone()),
        AuditError::Service { socket, reason } => AuditError::Service {
            socket: socket.clone(),
            reason: reason.clone(),
        },
        AuditError::Refused(s) => AuditError::Refused(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_sentences_have_no_errno_suffix() {
        let e = AuditError::Write {
            path: PathBuf::from("/var/log/prodguard/audit.jsonl"),
            err: std::io::Error::from_raw_os_error(libc::ENOSPC),
        };
        assert_eq!(
            e.to_string(),
            "cannot write the audit log /var/log/prodguard/audit.jsonl: No space left on device"
        );
    }

    #[test]
    fn redact_record_marks_and_truncates() {
        let host = HostContext::unknown();
        let mut r = Record::new(Event::Command, &host, "a".into(), 1).with_command(format!(
            "PGPASSWORD=x psql {}",
            "a".repeat(MAX_COMMAND_BYTES)
        ));
        r.reason = Some("token ghp_abcdefghijklmnopqrstuvwxyz0123456789".into());
        redact_record(&mut r, &[]);
        assert!(r.redacted);
        let cmd = r.command.unwrap_or_default();
        assert!(cmd.starts_with("PGPASSWORD=*** psql"));
        assert!(cmd.ends_with("more bytes not recorded]"));
        assert_eq!(r.reason.as_deref(), Some("token ***"));
        assert_eq!(r.redactions, ["assignment", "token"]);
    }

    #[test]
    fn a_secret_found_in_the_command_is_scrubbed_from_the_targets() {
        let host = HostContext::unknown();
        let mut r = Record::new(Event::Command, &host, "a".into(), 1)
            .with_command("htpasswd -b /etc/web.htpasswd alice Tulip-Gravel-77")
            .with_invocations(vec![InvocationRecord {
                program: "htpasswd".into(),
                targets: vec![
                    "/etc/web.htpasswd".into(),
                    "alice".into(),
                    "Tulip-Gravel-77".into(),
                ],
                ..InvocationRecord::default()
            }]);
        redact_record(&mut r, &[]);
        let line = serde_json::to_string(&r).unwrap_or_default();
        assert!(!line.contains("Tulip-Gravel-77"), "{line}");
        assert_eq!(
            r.invocations[0].targets,
            ["/etc/web.htpasswd", "alice", "***"]
        );
        assert_eq!(r.redactions, ["argument"]);
        assert!(r.redacted);
    }

    #[test]
    fn an_unredacted_record_says_nothing() {
        let host = HostContext::unknown();
        let mut r = Record::new(Event::Command, &host, "a".into(), 1).with_command("ls -la /srv");
        redact_record(&mut r, &[]);
        assert!(!r.redacted);
        assert!(r.redactions.is_empty());
        let line = serde_json::to_string(&r).unwrap_or_default();
        assert!(!line.contains("redact"), "{line}");
    }
}
