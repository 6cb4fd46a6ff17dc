//! `prodguard status`: where this host stands — host context, the protected state found on it
//! and why, the policy files in force with their sha256, whether the strict fallback is in force,
//! the audit service and sinks' health, the reader and approver groups, and the binary's mode.
//!
//! Exit status 0 when nothing needs attention, 1 when something does (each problem is listed), so
//! that fleet monitoring can run it as a check.

use super::error::{self, Error};
use super::{Global, EXIT_OK, EXIT_REFUSED};
use crate::audit::service::Reply;
use crate::audit::{self, FileSink, SyslogSink, SyslogTarget};
use crate::host::{HostContext, DEFAULT_HOST_FILE};
use crate::policy::{LoadOptions, PolicySet, SourceInfo, DEFAULT_POLICY_DIR};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON (one object) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Everything `status` reports.
#[derive(Debug, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub host: HostStatus,
    /// What `target = ["protected"]` protects on this host, and why.
    pub protected: crate::host::state::Found,
    pub policy: PolicyStatus,
    pub audit: AuditStatus,
    pub privilege: PrivilegeStatus,
    /// The sudo approval plugin and sudo's intercept setting.
    pub sudo: super::sudo_setup::SudoStatus,
    /// What needs attention; empty when all is well.
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct HostStatus {
    /// The host description read (or looked for).
    pub file: PathBuf,
    /// Whether it was read.
    pub loaded: bool,
    pub hostname: String,
    pub environment: String,
    /// Rules scoped to production apply here (production, or unknown).
    pub production_like: bool,
    pub role: Option<String>,
    pub cluster: Option<String>,
    pub fleet: usize,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PolicyStatus {
    /// The site pack directory.
    pub dir: PathBuf,
    /// The packs in force, in load order, with their sha256.
    pub sources: Vec<SourceInfo>,
    /// sha256 over all packs in force (the `policy_digest` of audit records).
    pub digest: String,
    /// The strict fallback is in force because a site pack is broken.
    pub strict_fallback: bool,
    /// Why, as `file:line:col: message`.
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditStatus {
    /// The audit service: its socket answers (`ok`), is not installed (`missing`), or `error`.
    pub service: SinkStatus,
    pub file: SinkStatus,
    pub syslog: SinkStatus,
    /// The group that may read the log (`[audit] reader_group`).
    pub reader_group: SinkStatus,
    /// The group whose members may approve (`[approvers] group`).
    pub approvers_group: SinkStatus,
    /// The published public key that checkpoints are signed with (`audit.pub` next to the log).
    pub key: SinkStatus,
}

/// The checkpoint key as published next to the log, and whether this process could sign.
fn key_status(host: &crate::host::HostContext, log: &Path) -> SinkStatus {
    let published = audit::checkpoint::published_key_path(log);
    let target = published.display().to_string();
    let settings = audit::checkpoint_settings(host);
    let secret = audit::key_file_path(host);
    match audit::PublicKey::load(&published) {
        Ok(k) => {
            let signer = match audit::host_signer(host) {
                Some(Ok(s)) if s.public() == &k => "this process can sign".to_string(),
                Some(Ok(_)) => {
                    return SinkStatus {
                        target,
                        state: "error",
                        detail: format!(
                            "the secret key {} is not the one published (key id {}): run `prodguard audit keygen` as the writer to publish it",
                            secret.display(),
                            k.id()
                        ),
                    }
                }
                Some(Err(e)) => format!("this process cannot sign ({e})"),
                None => format!("no secret key at {} here", secret.display()),
            };
            SinkStatus {
                target,
                state: "ok",
                detail: format!(
                    "ed25519 key id {} ({}); a checkpoint every {} records or {} s; {signer}",
                    k.id(),
                    k.base64(),
                    settings.every,
                    settings.interval.as_secs()
                ),
            }
        }
        Err(e) if e.is_not_found() => SinkStatus {
            target,
            state: "missing",
            detail: "no key published: the log has no signed checkpoints (`prodguard audit keygen` as root makes one)".to_string(),
        },
        Err(e) => SinkStatus {
            target,
            state: "error",
            detail: e.to_string(),
        },
    }
}

/// One audit sink.
#[derive(Debug, Serialize)]
pub struct SinkStatus {
    /// File path or syslog target (`unix:/dev/log`, `tcp:host:port`, `none`).
    pub target: String,
    /// `ok`, `missing` (file not created yet), `disabled` (syslog `none`) or `error`.
    pub state: &'static str,
    /// What was checked, or why it failed.
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct PrivilegeStatus {
    /// The running binary.
    pub binary: Option<PathBuf>,
    /// Its mode bits, octal (`0755`).
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// The binary has the setgid bit (it gives the group up as it starts; the package removes it).
    pub setgid_bit: bool,
    /// The effective group of this process.
    pub effective_group: String,
}

pub fn run(global: &Global, args: &StatusArgs) -> error::Status {
    let status = collect(global);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        serde_json::to_string_pretty(&status)
            .map_err(std::io::Error::other)
            .and_then(|s| writeln!(out, "{s}"))
    } else {
        print_text(&mut out, &status)
    };
    written.map_err(Error::io("cannot write the status"))?;
    Ok(if status.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_REFUSED
    })
}

/// Gather the status of this host, as this process sees it.
pub fn collect(global: &Global) -> Status {
    let host_file = global
        .host_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_HOST_FILE));
    let host = HostContext::load(Some(&host_file));
    let policy_dir = global
        .policy_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
    let policy = PolicySet::load(&LoadOptions {
        policy_dir: Some(policy_dir.clone()),
        no_embedded: false,
    });
    let mut problems = Vec::new();

    for w in &host.warnings {
        problems.push(format!("host: {w}"));
    }
    if policy.strict {
        problems.push(format!(
            "policy: the strict fallback is in force: {} error(s) in the site packs (run `prodguard policy lint`)",
            policy.errors.len()
        ));
    }
    let service = service_sink(&host, global.audit_file.is_some());
    if service.state == "error" {
        problems.push(format!("audit service: {}", service.detail));
    }
    let via_service = service.state != "missing";
    let (file, syslog) = if via_service {
        let by = |target: String| SinkStatus {
            target,
            state: "service",
            detail: "written by the audit service".to_string(),
        };
        let log = audit::audit_file_path(None, &host).display().to_string();
        let syslog = host
            .syslog
            .clone()
            .unwrap_or_else(|| "/dev/log".to_string());
        (by(log), by(syslog))
    } else {
        (
            file_sink(&audit::audit_file_path(global.audit_file.as_deref(), &host)),
            syslog_sink(&host),
        )
    };
    if file.state == "error" {
        problems.push(format!("audit file: {}", file.detail));
    }
    if syslog.state == "error" {
        problems.push(format!("audit syslog: {}", syslog.detail));
    }
    let key = key_status(
        &host,
        &audit::audit_file_path(global.audit_file.as_deref(), &host),
    );
    if key.state == "error" {
        problems.push(format!("audit key: {}", key.detail));
    }
    let reader_group = group_status(
        host.audit_reader_group
            .as_deref()
            .unwrap_or(crate::daemon::DEFAULT_READER_GROUP),
        "may read the audit log",
    );
    if reader_group.state == "error" {
        problems.push(format!("audit reader group: {}", reader_group.detail));
    }
    let approvers_group = match host.approvers_group.as_deref() {
        Some(g) => group_status(g, "may approve requests"),
        None => SinkStatus {
            target: "-".to_string(),
            state: "disabled",
            detail: "host.toml names no [approvers] group".to_string(),
        },
    };
    if approvers_group.state == "error" {
        problems.push(format!("approvers group: {}", approvers_group.detail));
    }
    let privilege = privilege();
    if privilege.setgid_bit {
        problems.push(format!(
            "privilege: the binary is installed setgid, which it does not use (it gives the group up as it starts): remove it (`{}`)",
            crate::privilege::FIX
        ));
    }
    let sudo = super::sudo_setup::status(
        Path::new(super::sudo_setup::SUDO_CONF),
        Path::new(super::sudo_setup::SUDOERS),
    );
    if let (Some(lib), Some(false)) = (&sudo.library, sudo.library_present) {
        problems.push(format!(
            "sudo: {} names the approval plugin {lib}, which does not exist: sudo refuses to run until the line is removed or the library installed",
            sudo.conf.display()
        ));
    }

    let protected = host.protected.found().clone();
    Status {
        version: env!("CARGO_PKG_VERSION"),
        protected,
        host: HostStatus {
            loaded: host.source.is_some(),
            file: host_file,
            production_like: host.is_production_like(),
            hostname: host.hostname,
            environment: host.environment,
            role: host.role,
            cluster: host.cluster,
            fleet: host.fleet.len(),
            warnings: host.warnings,
        },
        policy: PolicyStatus {
            dir: policy_dir,
            sources: policy.sources.clone(),
            digest: policy.digest.clone(),
            strict_fallback: policy.strict,
            errors: policy
                .errors
                .iter()
                .map(|d| d.to_string().trim_end().to_string())
                .collect(),
        },
        audit: AuditStatus {
            service,
            file,
            syslog,
            reader_group,
            approvers_group,
            key,
        },
        privilege,
        sudo,
        problems,
    }
}

/// The file sink: opened for appending when the file exists (nothing is written). A missing file
/// is not created here: whoever creates it owns it, and that must be the installer (root), not
/// whoever happens to run `status` first.
fn file_sink(path: &Path) -> SinkStatus {
    let target = path.display().to_string();
    match std::fs::symlink_metadata(path) {
        Ok(_) => match FileSink::open(path) {
            Ok(_) => SinkStatus {
                target,
                state: "ok",
                detail: "open for appending".to_string(),
            },
            Err(e) => SinkStatus {
                target,
                state: "error",
                detail: e.to_string(),
            },
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = path.parent().unwrap_or(Path::new("/"));
            let writable = nix::unistd::faccessat(
                None,
                dir,
                nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
                nix::fcntl::AtFlags::AT_EACCESS,
            )
            .is_ok();
            if writable {
                SinkStatus {
                    target,
                    state: "missing",
                    detail: format!(
                        "does not exist yet; the first record creates it in {}",
                        dir.display()
                    ),
                }
            } else {
                SinkStatus {
                    target,
                    state: "error",
                    detail: format!(
                        "does not exist, and this process cannot create it in {}",
                        dir.display()
                    ),
                }
            }
        }
        Err(e) => SinkStatus {
            target,
            state: "error",
            detail: format!("cannot inspect it: {}", audit::reason(&e)),
        },
    }
}

/// The audit service: asked whether it is there (nothing is written). `missing` when its socket
/// does not exist or `--audit-file` sends records elsewhere.
fn service_sink(host: &HostContext, audit_file_given: bool) -> SinkStatus {
    let socket = audit::service_socket(host);
    let target = socket.display().to_string();
    if audit_file_given {
        return SinkStatus {
            target,
            state: "missing",
            detail: "not used: --audit-file names the file this process writes".to_string(),
        };
    }
    if std::fs::symlink_metadata(&socket).is_err() {
        return SinkStatus {
            target,
            state: "missing",
            detail: "not installed: this process writes the log itself".to_string(),
        };
    }
    let ping = audit::service::ServiceSink::connected(&socket).and_then(|s| s.ping());
    match ping {
        Ok(Reply {
            ok: true,
            write_failure: Some(why),
            ..
        }) => SinkStatus {
            target,
            state: "error",
            detail: why,
        },
        Ok(r) if r.ok => SinkStatus {
            target,
            state: "ok",
            detail: format!(
                "answering (pid {}), writing {}",
                r.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                r.log.unwrap_or_else(|| "?".into())
            ),
        },
        Ok(r) => SinkStatus {
            target,
            state: "error",
            detail: r.error.unwrap_or_else(|| "refused the ping".into()),
        },
        Err(e) => SinkStatus {
            target,
            state: "error",
            detail: e.to_string(),
        },
    }
}

/// Whether the group `name` exists, and who is in it.
fn group_status(name: &str, what: &str) -> SinkStatus {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => SinkStatus {
            target: name.to_string(),
            state: "ok",
            detail: if g.mem.is_empty() {
                format!("gid {}; no listed members {what}", g.gid)
            } else {
                format!("gid {}; {} {what}", g.gid, g.mem.join(", "))
            },
        },
        _ => SinkStatus {
            target: name.to_string(),
            state: "error",
            detail: format!("the group {name} does not exist"),
        },
    }
}

/// The syslog sink: connected (nothing is sent, so no test message reaches the SIEM).
fn syslog_sink(host: &HostContext) -> SinkStatus {
    match SyslogTarget::parse(host.syslog.as_deref()) {
        Ok(None) => SinkStatus {
            target: "none".to_string(),
            state: "disabled",
            detail: "host.toml [audit] syslog = \"none\"".to_string(),
        },
        Ok(Some(t)) => match SyslogSink::connect(&t, &host.hostname) {
            Ok(_) => SinkStatus {
                target: t.to_string(),
                state: "ok",
                detail: "connected".to_string(),
            },
            Err(e) => SinkStatus {
                target: t.to_string(),
                state: "error",
                detail: e.to_string(),
            },
        },
        Err(e) => SinkStatus {
            target: host.syslog.clone().unwrap_or_default(),
            state: "error",
            detail: e.to_string(),
        },
    }
}

fn privilege() -> PrivilegeStatus {
    use std::os::unix::fs::MetadataExt;
    let binary = std::env::current_exe().ok();
    let meta = binary.as_deref().and_then(|b| std::fs::metadata(b).ok());
    let user = |uid: u32| {
        nix::unistd::User::from_uid(uid.into())
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string())
    };
    let group = |gid: u32| {
        nix::unistd::Group::from_gid(gid.into())
            .ok()
            .flatten()
            .map(|g| g.name)
            .unwrap_or_else(|| gid.to_string())
    };
    PrivilegeStatus {
        binary,
        mode: meta.as_ref().map(|m| format!("{:04o}", m.mode() & 0o7777)),
        owner: meta.as_ref().map(|m| user(m.uid())),
        group: meta.as_ref().map(|m| group(m.gid())),
        setgid_bit: meta.as_ref().is_some_and(|m| m.mode() & 0o2000 != 0),
        effective_group: group(nix::unistd::getegid().as_raw()),
    }
}

fn print_text(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    let h = &s.host;
    writeln!(out, "prodguard {}", s.version)?;
    writeln!(out)?;
    let loaded = if h.loaded { "" } else { " (not read)" };
    writeln!(out, "host         {}{loaded}", h.file.display())?;
    let env_note = if h.production_like && !matches!(h.environment.as_str(), "production" | "prod")
    {
        " (treated as production)"
    } else {
        ""
    };
    writeln!(out, "  environment  {}{env_note}", h.environment)?;
    writeln!(out, "  hostname     {}", h.hostname)?;
    writeln!(out, "  role         {}", h.role.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "  cluster      {}",
        h.cluster.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "  fleet        {} other host(s)", h.fleet)?;
    for w in &h.warnings {
        writeln!(out, "  warning      {w}")?;
    }
    writeln!(out)?;
    let f = &s.protected;
    writeln!(
        out,
        "protected    {} path(s), {} device(s), {} server(s)",
        f.entries.len(),
        f.devices.len(),
        f.services.len()
    )?;
    for e in &f.entries {
        let scope = match e.scope {
            crate::host::state::Scope::Tree => "",
            crate::host::state::Scope::Top => " (and its top directories)",
        };
        writeln!(out, "  {}{scope}  {}", e.path, e.why)?;
    }
    for d in &f.devices {
        writeln!(out, "  {}  {}", d.name, d.why)?;
    }
    for v in &f.services {
        let pids = if v.pids.is_empty() {
            String::new()
        } else {
            format!(
                " (pid {})",
                v.pids
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        writeln!(out, "  server {}{pids}  {}", v.name, v.why)?;
    }
    writeln!(out, "  ignored      {}", f.ignore.join(", "))?;
    for n in &f.notes {
        writeln!(out, "  note         {n}")?;
    }
    writeln!(out)?;
    let p = &s.policy;
    writeln!(out, "policy       {}", p.dir.display())?;
    writeln!(out, "  digest       {}", p.digest)?;
    let fallback = if p.strict_fallback {
        "IN FORCE (site packs ignored until fixed)"
    } else {
        "no"
    };
    writeln!(out, "  fallback     {fallback}")?;
    for src in &p.sources {
        writeln!(out, "  {}  {}", src.sha256, src.name)?;
    }
    for e in &p.errors {
        for line in e.lines() {
            writeln!(out, "  | {line}")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "audit")?;
    for (name, sink) in [
        ("service", &s.audit.service),
        ("file", &s.audit.file),
        ("syslog", &s.audit.syslog),
        ("readers", &s.audit.reader_group),
        ("approvers", &s.audit.approvers_group),
        ("key", &s.audit.key),
    ] {
        writeln!(
            out,
            "  {name:<11}  {}  {}: {}",
            sink.target, sink.state, sink.detail
        )?;
    }
    writeln!(out)?;
    let v = &s.privilege;
    let binary = v
        .binary
        .as_deref()
        .map(|b| b.display().to_string())
        .unwrap_or_else(|| "(unknown)".to_string());
    writeln!(out, "privilege")?;
    writeln!(
        out,
        "  binary       {binary}  {}:{} {}",
        v.owner.as_deref().unwrap_or("?"),
        v.group.as_deref().unwrap_or("?"),
        v.mode.as_deref().unwrap_or("?")
    )?;
    writeln!(out, "  running      effective group {}", v.effective_group)?;
    writeln!(out)?;
    let u = &s.sudo;
    let plugin = match (u.plugin, &u.library, u.library_present) {
        ("enabled", Some(lib), Some(false)) => format!("enabled, but {lib} is missing"),
        ("enabled", Some(lib), _) => format!("enabled ({lib})"),
        ("absent", _, _) => format!(
            "not enabled (`prodguard install --sudo` prints the {} line)",
            u.conf.display()
        ),
        (other, _, _) => other.to_string(),
    };
    writeln!(out, "sudo         {}", u.conf.display())?;
    writeln!(out, "  plugin       {plugin}")?;
    writeln!(out, "  intercept    {}", u.intercept)?;
    if let Some(d) = &u.detail {
        writeln!(out, "  unknown      {d}")?;
    }
    writeln!(out)?;
    if s.problems.is_empty() {
        writeln!(out, "ok: nothing needs attention")?;
    } else {
        writeln!(out, "{} problem(s):", s.problems.len())?;
        for p in &s.problems {
            writeln!(out, "  - {p}")?;
        }
    }
    Ok(())
}
