//! Where we are: the host's environment, role and fleet, from `/etc/prodguard/host.toml`.
//!
//! A missing or invalid file never stops the guard: the environment becomes `unknown`, which every
//! rule treats as production, and the reason is kept in `warnings` for the banner.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub mod state;
pub mod trust;

pub use state::Protected;

/// Default location of the host description.
pub const DEFAULT_HOST_FILE: &str = "/etc/prodguard/host.toml";

/// How long a break-glass grant lasts when host.toml's `break_glass_minutes` does not say.
pub const DEFAULT_BREAK_GLASS_MINUTES: u64 = 60;
/// The longest `break_glass_minutes` accepted (a day).
pub const MAX_BREAK_GLASS_MINUTES: f64 = 1440.0;

/// Everything the guard knows about this host.
#[derive(Debug, Clone, Serialize)]
pub struct HostContext {
    /// Full hostname (from the file's `hostname`, else the system's).
    pub hostname: String,
    /// Environment name, lowercase (`production`, `staging`, `development`, `unknown`).
    pub environment: String,
    /// Role (`db-primary`), when known.
    pub role: Option<String>,
    /// Cluster name, when known.
    pub cluster: Option<String>,
    /// Banner colour name, when set (`red`, `yellow`, `green`, `blue`, `magenta`, `cyan`).
    pub colour: Option<String>,
    /// Other hosts of the fleet, for wrong-host detection.
    pub fleet: Vec<FleetHost>,
    /// Lines shown under the banner.
    pub motd: Vec<String>,
    /// The Unix group whose members may approve (`approvers.group`).
    pub approvers_group: Option<String>,
    /// OpenSSH allowed_signers file for offline approvals.
    pub allowed_signers: Option<PathBuf>,
    /// Where approval requests are kept (`approvers.spool`), when not the default.
    pub approval_spool: Option<PathBuf>,
    /// Whether root may approve (`approvers.allow_root`, default true; always recorded).
    pub approvers_allow_root: bool,
    /// How long a request stays valid (`approvers.expiry`, e.g. `"15m"`), when not the default.
    pub approval_expiry: Option<std::time::Duration>,
    /// Audit log file (`[audit] file`).
    pub audit_file: Option<PathBuf>,
    /// Syslog settings (`[audit] syslog`).
    pub syslog: Option<String>,
    /// The key that signs audit checkpoints (`[audit] key`), when not the default.
    pub audit_key: Option<PathBuf>,
    /// A checkpoint at least every this many records (`[audit] checkpoint_every`).
    pub checkpoint_every: Option<u64>,
    /// A checkpoint at least this often (`[audit] checkpoint_interval`, e.g. `"5m"`).
    pub checkpoint_interval: Option<std::time::Duration>,
    /// The audit service's socket (`[audit] socket`), when not the default.
    pub audit_socket: Option<PathBuf>,
    /// The group that may read the audit log (`[audit] reader_group`), when not the default.
    pub audit_reader_group: Option<String>,
    /// The real shell to run (`shell`), `/bin/bash` by default.
    pub shell: PathBuf,
    /// How long a break-glass grant lasts (`break_glass_minutes`, default
    /// [`DEFAULT_BREAK_GLASS_MINUTES`]).
    pub break_glass: std::time::Duration,
    /// How long a question waits for each answer (`[prompt] timeout_secs`), when set.
    pub prompt_timeout: Option<std::time::Duration>,
    /// The file this came from, if any.
    pub source: Option<PathBuf>,
    /// Why the description is incomplete (missing file, parse error), for the banner.
    pub warnings: Vec<String>,
    /// The time zone host.toml names (`timezone = "Europe/Berlin"`), if any.
    pub timezone: Option<String>,
    /// The zone policy time windows are read in: the named one, else the system's. `None` when
    /// the named zone cannot be loaded: every time window is then taken to be in force.
    #[serde(skip)]
    pub tz: LazyZone,
    /// Who is asking; filled by the command line, unknown otherwise.
    pub subject: crate::subject::Subject,
    /// The instant decisions are made at; `None` when unknown (every time window is then taken
    /// to be in force). The command line sets the real time.
    pub now: Option<jiff::Timestamp>,
    /// What this host cannot lose (data directories, mounts, devices, database servers), found
    /// on first use, with host.toml's `protect` and `ignore`.
    #[serde(skip)]
    pub protected: Protected,
}

/// A known host of the fleet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FleetHost {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHost {
    hostname: Option<String>,
    environment: Option<String>,
    role: Option<String>,
    cluster: Option<String>,
    colour: Option<String>,
    #[serde(default)]
    fleet: Vec<RawFleet>,
    #[serde(default)]
    motd: Vec<String>,
    shell: Option<PathBuf>,
    break_glass_minutes: Option<f64>,
    approvers: Option<RawApprovers>,
    audit: Option<RawAudit>,
    prompt: Option<RawPrompt>,
    timezone: Option<String>,
    #[serde(default)]
    protect: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawFleet {
    Name(String),
    Host(FleetHost),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawApprovers {
    group: Option<String>,
    allowed_signers: Option<PathBuf>,
    spool: Option<PathBuf>,
    allow_root: Option<bool>,
    expiry: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPrompt {
    timeout_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    file: Option<PathBuf>,
    syslog: Option<String>,
    key: Option<PathBuf>,
    checkpoint_every: Option<u64>,
    checkpoint_interval: Option<String>,
    socket: Option<PathBuf>,
    reader_group: Option<String>,
}

/// The zone policy time windows are read in, resolved on first use: finding the system's zone
/// reads /etc/localtime and may walk the zoneinfo tree, which a check that meets no time window
/// should not pay for.
#[derive(Debug, Clone)]
pub struct LazyZone {
    cell: std::sync::OnceLock<Option<jiff::tz::TimeZone>>,
}

impl LazyZone {
    /// The system's zone, looked up when first asked for.
    pub fn system() -> LazyZone {
        LazyZone {
            cell: std::sync::OnceLock::new(),
        }
    }

    /// A zone already known (`None`: it could not be loaded).
    pub fn fixed(tz: Option<jiff::tz::TimeZone>) -> LazyZone {
        let cell = std::sync::OnceLock::new();
        let _ = cell.set(tz);
        LazyZone { cell }
    }

    /// The zone, or `None` when it could not be loaded.
    pub fn get(&self) -> Option<&jiff::tz::TimeZone> {
        self.cell
            .get_or_init(|| Some(jiff::tz::TimeZone::system()))
            .as_ref()
    }
}

impl HostContext {
    /// Load from `path`, or from [`DEFAULT_HOST_FILE`] when `None`. Never fails.
    pub fn load(path: Option<&Path>) -> HostContext {
        let path = path.unwrap_or_else(|| Path::new(DEFAULT_HOST_FILE));
        // A host description another user may edit is not one: trust is checked before reading.
        match trust::check(path, nix::unistd::geteuid().as_raw()) {
            Err(trust::Untrusted::Inspect { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                let mut ctx = Self::unknown();
                ctx.warnings.push(format!(
                    "ignoring {}: {e}: environment unknown, treated as production",
                    path.display()
                ));
                return ctx;
            }
            Ok(()) => {}
        }
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text, Some(path)),
            Err(e) => {
                let mut ctx = Self::unknown();
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    format!("{} does not exist", path.display())
                } else {
                    format!("cannot read {}: {e}", path.display())
                };
                ctx.warnings
                    .push(format!("{why}: environment unknown, treated as production"));
                ctx
            }
        }
    }

    /// Parse a host description. Errors leave the environment `unknown` with a warning.
    pub fn from_toml(text: &str, source: Option<&Path>) -> HostContext {
        let name = source
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "host.toml".into());
        match toml::from_str::<RawHost>(text) {
            Ok(raw) => Self::from_raw(raw, source),
            Err(e) => {
                let mut ctx = Self::unknown();
                ctx.source = source.map(Path::to_path_buf);
                let at = e
                    .span()
                    .map(|s| {
                        let (l, c) = line_col(text, s.start);
                        format!(":{l}:{c}")
                    })
                    .unwrap_or_default();
                ctx.warnings.push(format!(
                    "{name}{at}: {}; environment unknown, treated as production",
                    e.message()
                ));
                ctx
            }
        }
    }

    fn from_raw(raw: RawHost, source: Option<&Path>) -> HostContext {
        let mut ctx = Self::unknown();
        ctx.source = source.map(Path::to_path_buf);
        if let Some(h) = raw.hostname.filter(|h| !h.trim().is_empty()) {
            ctx.hostname = h.trim().to_string();
        }
        match raw.environment.map(|e| e.trim().to_ascii_lowercase()) {
            Some(e) if !e.is_empty() => ctx.environment = e,
            _ => ctx
                .warnings
                .push("host.toml names no environment: treated as production".to_string()),
        }
        ctx.role = raw.role.filter(|r| !r.is_empty());
        ctx.cluster = raw.cluster.filter(|c| !c.is_empty());
        if let Some(c) = raw
            .colour
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            if Colour::parse(c).is_none() {
                ctx.warnings.push(format!(
                    "host.toml: colour {c:?} is not one of {}; using the environment's colour",
                    Colour::NAMES.join(", ")
                ));
            }
            ctx.colour = Some(c.to_string());
        }
        ctx.fleet = raw
            .fleet
            .into_iter()
            .map(|f| match f {
                RawFleet::Name(name) => FleetHost {
                    name,
                    role: None,
                    environment: None,
                },
                RawFleet::Host(h) => h,
            })
            .collect();
        ctx.motd = raw.motd;
        if let Some(shell) = raw.shell {
            ctx.shell = shell;
        }
        if let Some(a) = raw.approvers {
            ctx.approvers_group = a.group;
            ctx.allowed_signers = a.allowed_signers;
            ctx.approval_spool = a.spool;
            ctx.approvers_allow_root = a.allow_root.unwrap_or(true);
            match a.expiry.as_deref().map(parse_duration) {
                Some(Some(d)) => ctx.approval_expiry = Some(d),
                Some(None) => ctx.warnings.push(format!(
                    "host.toml: approvers.expiry {:?} is not a duration like \"90s\", \"15m\" or \"2h\"; using the default",
                    a.expiry.unwrap_or_default()
                )),
                None => {}
            }
        }
        if let Some(a) = raw.audit {
            ctx.audit_file = a.file;
            ctx.syslog = a.syslog;
            ctx.audit_key = a.key;
            match a.checkpoint_every {
                Some(0) => ctx.warnings.push(
                    "host.toml: [audit] checkpoint_every = 0 is not a schedule; using the default"
                        .to_string(),
                ),
                n => ctx.checkpoint_every = n,
            }
            match a.checkpoint_interval.as_deref().map(parse_duration) {
                Some(Some(d)) if !d.is_zero() => ctx.checkpoint_interval = Some(d),
                Some(_) => ctx.warnings.push(format!(
                    "host.toml: [audit] checkpoint_interval {:?} is not a duration like \"90s\", \"5m\" or \"1h\"; using the default",
                    a.checkpoint_interval.unwrap_or_default()
                )),
                None => {}
            }
            ctx.audit_socket = a.socket;
            ctx.audit_reader_group = a.reader_group.filter(|g| !g.trim().is_empty());
        }
        match raw.break_glass_minutes {
            Some(m) if m.is_finite() && m > 0.0 && m <= MAX_BREAK_GLASS_MINUTES => {
                ctx.break_glass = std::time::Duration::from_secs_f64(m * 60.0);
            }
            Some(m) => ctx.warnings.push(format!(
                "host.toml: break_glass_minutes = {m} is not between 0 and {MAX_BREAK_GLASS_MINUTES}; using {DEFAULT_BREAK_GLASS_MINUTES}"
            )),
            None => {}
        }
        match raw.prompt.and_then(|p| p.timeout_secs) {
            Some(0) => ctx.warnings.push(
                "host.toml: [prompt] timeout_secs = 0 would refuse every question; using the default"
                    .to_string(),
            ),
            Some(secs) => ctx.prompt_timeout = Some(std::time::Duration::from_secs(secs)),
            None => {}
        }
        if let Some(name) = raw.timezone.filter(|z| !z.trim().is_empty()) {
            match jiff::tz::db().get(name.trim()) {
                Ok(tz) => ctx.tz = LazyZone::fixed(Some(tz)),
                Err(e) => {
                    ctx.tz = LazyZone::fixed(None);
                    ctx.warnings.push(format!(
                        "host.toml: time zone {name:?} cannot be loaded ({e}); every policy time window is taken to be in force"
                    ));
                }
            }
            ctx.timezone = Some(name);
        }
        let mut absolute = |list: Vec<String>, key: &str| -> Vec<String> {
            list.into_iter()
                .filter(|p| {
                    let ok = p.starts_with('/');
                    if !ok {
                        ctx.warnings.push(format!(
                            "host.toml: {key} entry {p:?} is not an absolute path; it is left out"
                        ));
                    }
                    ok
                })
                .collect()
        };
        let protect = absolute(raw.protect, "protect");
        let ignore = absolute(raw.ignore, "ignore");
        ctx.protected = Protected::discover(state::Roots::system(), protect, ignore);
        ctx
    }

    /// The context used when nothing is known: environment `unknown`, system hostname.
    pub fn unknown() -> HostContext {
        HostContext {
            hostname: system_hostname(),
            environment: "unknown".to_string(),
            role: None,
            cluster: None,
            colour: None,
            fleet: Vec::new(),
            motd: Vec::new(),
            approvers_group: None,
            allowed_signers: None,
            approval_spool: None,
            approvers_allow_root: true,
            approval_expiry: None,
            break_glass: std::time::Duration::from_secs(DEFAULT_BREAK_GLASS_MINUTES * 60),
            audit_file: None,
            syslog: None,
            audit_key: None,
            checkpoint_every: None,
            checkpoint_interval: None,
            audit_socket: None,
            audit_reader_group: None,
            shell: PathBuf::from("/bin/bash"),
            prompt_timeout: None,
            source: None,
            warnings: Vec::new(),
            timezone: None,
            tz: LazyZone::system(),
            subject: crate::subject::Subject::unknown(),
            now: None,
            protected: Protected::default(),
        }
    }

    /// The short hostname (`db1` for `db1.example.com`), what a `hostname` challenge asks for.
    pub fn short_name(&self) -> &str {
        short(&self.hostname)
    }

    /// Whether rules scoped to `production` apply: production itself, or an unknown environment.
    pub fn is_production_like(&self) -> bool {
        matches!(self.environment.as_str(), "production" | "prod" | "unknown")
    }

    /// The colour the banner and prompt use: host.toml's `colour` when it names a known colour,
    /// else by environment (production and unknown red, staging yellow, development green, any
    /// other named environment yellow).
    pub fn display_colour(&self) -> Colour {
        if let Some(c) = self.colour.as_deref().and_then(Colour::parse) {
            return c;
        }
        match self.environment.as_str() {
            "development" | "dev" | "local" => Colour::Green,
            "staging" | "stage" => Colour::Yellow,
            _ if self.is_production_like() => Colour::Red,
            _ => Colour::Yellow,
        }
    }

    /// Whether `name` names this host (full or short name, case-insensitive).
    pub fn is_this_host(&self, name: &str) -> bool {
        let n = name.trim().trim_end_matches('.');
        n.eq_ignore_ascii_case(&self.hostname)
            || short(n).eq_ignore_ascii_case(self.short_name())
                && (!n.contains('.') || !self.hostname.contains('.'))
            || matches!(n, "localhost" | "127.0.0.1" | "::1")
    }

    /// The fleet entry for `name`, by full or short name.
    pub fn fleet_host(&self, name: &str) -> Option<&FleetHost> {
        let n = name.trim().trim_end_matches('.');
        self.fleet.iter().find(|f| {
            f.name.eq_ignore_ascii_case(n) || short(&f.name).eq_ignore_ascii_case(short(n))
        })
    }
}

/// A display colour for the environment banner and prompt segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Red,
    Yellow,
    Green,
    Blue,
    Magenta,
    Cyan,
}

impl Colour {
    /// The names host.toml's `colour` accepts.
    pub const NAMES: [&'static str; 6] = ["red", "yellow", "green", "blue", "magenta", "cyan"];

    /// Parse a colour name, case-insensitively.
    pub fn parse(name: &str) -> Option<Colour> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "red" => Colour::Red,
            "yellow" => Colour::Yellow,
            "green" => Colour::Green,
            "blue" => Colour::Blue,
            "magenta" => Colour::Magenta,
            "cyan" => Colour::Cyan,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Yellow => "yellow",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Magenta => "magenta",
            Colour::Cyan => "cyan",
        }
    }
}

/// A duration written as a number and a unit: `90s`, `15m`, `2h` (at least one second, at
/// most a day).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    (1..=86_400)
        .contains(&secs)
        .then(|| std::time::Duration::from_secs(secs))
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The system hostname, or `localhost` when it cannot be read.
pub fn system_hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_description() {
        let ctx = HostContext::from_toml(
            r#"
hostname = "db1.example.com"
environment = "Production"
role = "db-primary"
cluster = "main"
fleet = ["db2.example.com", { name = "web1", role = "web" }]
[audit]
file = "/tmp/a.jsonl"
[prompt]
timeout_secs = 2
"#,
            None,
        );
        assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
        assert_eq!(ctx.environment, "production");
        assert_eq!(ctx.short_name(), "db1");
        assert_eq!(ctx.role.as_deref(), Some("db-primary"));
        assert_eq!(ctx.fleet.len(), 2);
        assert_eq!(
            ctx.fleet_host("web1").and_then(|f| f.role.as_deref()),
            Some("web")
        );
        assert!(ctx.fleet_host("db2").is_some());
        assert!(ctx.is_this_host("db1"));
        assert!(ctx.is_this_host("DB1.example.com"));
        assert!(!ctx.is_this_host("db2"));
        assert_eq!(ctx.audit_file.as_deref(), Some(Path::new("/tmp/a.jsonl")));
        assert_eq!(ctx.prompt_timeout, Some(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn zero_prompt_timeout_is_a_warning() {
        let ctx = HostContext::from_toml(
            "environment = \"production\"\n[prompt]\ntimeout_secs = 0\n",
            None,
        );
        assert_eq!(ctx.prompt_timeout, None);
        assert!(
            ctx.warnings[0].contains("timeout_secs"),
            "{:?}",
            ctx.warnings
        );
    }

    #[test]
    fn invalid_file_is_unknown_environment_with_position() {
        let ctx = HostContext::from_toml(
            "environment = \"staging\"\nrole = [\n",
            Some(Path::new("h.toml")),
        );
        assert_eq!(ctx.environment, "unknown");
        assert!(ctx.is_production_like());
        assert!(
            ctx.warnings[0].starts_with("h.toml:"),
            "{}",
            ctx.warnings[0]
        );
    }

    #[test]
    fn unknown_key_is_reported() {
        let ctx = HostContext::from_toml("environmnet = \"staging\"\n", None);
        assert_eq!(ctx.environment, "unknown");
        assert!(
            ctx.warnings[0].contains("environmnet"),
            "{}",
            ctx.warnings[0]
        );
    }

    #[test]
    fn a_host_file_others_may_write_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("host.toml");
        std::fs::write(&file, "environment = \"staging\"\n").expect("write");
        let chmod = |m: u32| {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        chmod(0o644);
        assert_eq!(HostContext::load(Some(&file)).environment, "staging");
        chmod(0o666);
        let ctx = HostContext::load(Some(&file));
        assert_eq!(
            ctx.environment, "unknown",
            "a world-writable host.toml was believed"
        );
        assert!(
            ctx.warnings[0].contains("writable by no one else")
                && ctx.warnings[0].contains("treated as production"),
            "{}",
            ctx.warnings[0]
        );
    }

    #[test]
    fn missing_file_is_unknown_environment() {
        let ctx = HostContext::load(Some(Path::new("/nonexistent/prodguard/host.toml")));
        assert_eq!(ctx.environment, "unknown");
        assert!(ctx.warnings[0].contains("does not exist"));
    }

    #[test]
    fn colour_follows_environment_unless_set() {
        let ctx = |t: &str| HostContext::from_toml(t, None);
        assert_eq!(
            ctx("environment = \"production\"").display_colour(),
            Colour::Red
        );
        assert_eq!(
            ctx("environment = \"staging\"").display_colour(),
            Colour::Yellow
        );
        assert_eq!(
            ctx("environment = \"development\"").display_colour(),
            Colour::Green
        );
        assert_eq!(HostContext::unknown().display_colour(), Colour::Red);
        let blue = ctx("environment = \"production\"\ncolour = \"Blue\"");
        assert_eq!(blue.display_colour(), Colour::Blue);
        let bad = ctx("environment = \"staging\"\ncolour = \"purple\"");
        assert_eq!(bad.display_colour(), Colour::Yellow);
        assert!(bad.warnings[0].contains("purple"), "{:?}", bad.warnings);
    }

    #[test]
    fn approvers_table() {
        let ctx = HostContext::from_toml(
            "environment = \"production\"\n[approvers]\ngroup = \"sre\"\nspool = \"/tmp/s\"\nallow_root = false\nexpiry = \"10m\"\n",
            None,
        );
        assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
        assert_eq!(ctx.approval_spool.as_deref(), Some(Path::new("/tmp/s")));
        assert!(!ctx.approvers_allow_root);
        assert_eq!(
            ctx.approval_expiry,
            Some(std::time::Duration::from_secs(600))
        );
        assert_eq!(
            parse_duration("90s"),
            Some(std::time::Duration::from_secs(90))
        );
        for bad in ["", "m", "10", "10d", "0s", "-1m", "25h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
