//! What the person at the keyboard declared before the command: the host they mean to work on
//! (`prodguard intent HOST`) and an emergency session (`prodguard --break-glass`). Both are read
//! once, when the guard is loaded, and both change a judgement only through [`super::Guard`].
//!
//! The intent lives in a private per-user directory, keyed by the login session
//! (`PRODGUARD_SESSION`, exported by the login shell) or, outside a guarded login, by the shell
//! that ran `prodguard` (the parent process). It lapses after twelve hours.
//!
//! A break-glass session is a grant held by the audit service (`daemon::grants`): started for
//! the process that runs the session's shell, bound to its uid, pid and the pid's start time,
//! lapsing after host.toml's `break_glass_minutes`. The session's processes carry the grant's id
//! in an environment variable, but the variable alone waives nothing: [`break_glass`], the one
//! place it is read, asks the service whether the grant covers this process (same user, run
//! from the grant's session, not expired). Without the variable there is no round trip; with it
//! and no grant (or no service), the command is judged as usual and its record says the marker
//! was ignored.

use super::grant_client::GrantClient;
use crate::audit::grant_wire::GrantInfo;
use crate::audit::{Event, Outcome, Record};
use crate::host::HostContext;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an intent declaration holds.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The variable that marks a break-glass session; its value is the grant's id.
pub const BREAK_GLASS_ENV: &str = "PRODGUARD_BREAK_GLASS";
/// The shortest break-glass reason accepted.
pub const MIN_REASON: usize = 10;

/// A break-glass session in force: the policy's demands are waived, with this reason recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The grant's id, as the service holds it.
    pub id: String,
    /// Why, as given when the session started.
    pub reason: String,
    /// When it lapses, RFC 3339 UTC.
    pub expires: String,
}

impl From<GrantInfo> for Grant {
    fn from(g: GrantInfo) -> Grant {
        Grant {
            id: g.id,
            reason: g.reason,
            expires: g.expires,
        }
    }
}

/// What was declared for this session, read once.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// The host declared with `prodguard intent`, if still current.
    pub intent: Option<String>,
    /// The break-glass grant that covers this process, if any.
    pub break_glass: Option<Grant>,
    /// Why a break-glass marker in the environment was not honoured, when there was one.
    pub ignored_marker: Option<String>,
}

impl Declared {
    /// Read the declarations of this process's session; a break-glass marker is checked with
    /// the audit service of `host`.
    pub fn current(host: &HostContext) -> Declared {
        let (break_glass, ignored_marker) = break_glass(&|k| std::env::var(k).ok(), &|id| {
            check_with_service(host, id)
        });
        Declared {
            intent: intent(),
            break_glass,
            ignored_marker,
        }
    }
}

/// The break-glass grant that covers this process, as `check` (the service) says of the id in
/// the environment `env`, or why the marker there is ignored: the one place break-glass is
/// read. No marker, no call.
pub fn break_glass(
    env: &dyn Fn(&str) -> Option<String>,
    check: &dyn Fn(&str) -> Result<Grant, String>,
) -> (Option<Grant>, Option<String>) {
    let Some(v) = env(BREAK_GLASS_ENV) else {
        return (None, None);
    };
    let id = v.trim();
    if id.is_empty() {
        return (None, None);
    }
    let well_formed = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !well_formed {
        return (
            None,
            Some(format!(
                "an unverified break-glass marker was ignored: {BREAK_GLASS_ENV} does not hold a grant id"
            )),
        );
    }
    match check(id) {
        Ok(g) => (Some(g), None),
        Err(why) => (
            None,
            Some(format!(
                "an unverified break-glass marker was ignored: {why}"
            )),
        ),
    }
}

/// The banner line of a break-glass session.
pub fn banner_line(grant: &Grant) -> String {
    format!(
        "BREAK-GLASS SESSION until {}: checks are reduced to warnings and every waived command is recorded (reason: {})",
        expiry_utc(&grant.expires),
        grant.reason
    )
}

/// The prompt's and terminal title's marker of a break-glass session:
/// `BREAK-GLASS until 16:50 UTC`.
pub fn prompt_marker(grant: &Grant) -> String {
    match grant.expires.get(11..16) {
        Some(time) => format!("BREAK-GLASS until {time} UTC"),
        None => format!("BREAK-GLASS until {}", grant.expires),
    }
}

/// The break-glass grant that covers this process, for the prompt: asked of the audit service
/// of `host` only when the marker variable is set, so that an ordinary prompt costs no round
/// trip. A marker that is not honoured shows nothing.
pub fn prompt_grant(host: &HostContext) -> Option<Grant> {
    break_glass(&|k| std::env::var(k).ok(), &|id| {
        check_with_service(host, id)
    })
    .0
}

/// Whether grant `id` covers this process, as the audit service of `host` says.
fn check_with_service(host: &HostContext, id: &str) -> Result<Grant, String> {
    GrantClient::for_host(host).check(id).map(Grant::from)
}

/// `2026-12-03T16:50:00.000Z` as `2026-12-03 16:50 UTC`.
pub fn expiry_utc(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// Why a break-glass reason is not accepted, if it is not.
pub fn reason_problem(reason: &str) -> Option<String> {
    (reason.chars().count() < MIN_REASON)
        .then(|| format!("break-glass needs a reason of at least {MIN_REASON} characters"))
}

/// Start a break-glass session with `reason`: the audit service records it as a critical
/// `break-glass` event and holds a grant for this process (which stays to run the session's
/// shell), then the processes this one starts are marked with the grant's id. An emergency
/// session that leaves no trace is exactly what the audit log must not allow, so one that
/// cannot be recorded, or without the service, is not started.
pub fn start_break_glass(guard: &super::Guard, reason: &str) -> Result<Grant, super::Error> {
    if let Some(why) = reason_problem(reason) {
        return Err(super::Error::Usage(why));
    }
    let rec = Record::new_for_current_process(Event::Session, guard.host())
        .with_outcome(Outcome::BreakGlass)
        .with_policy_digest(guard.policy().digest.clone());
    let grant: Grant = GrantClient::for_host(guard.host())
        .start(reason, rec)
        .map_err(super::Error::BreakGlass)?
        .into();
    // Still single-threaded here; the variable is for the shell started next.
    std::env::set_var(BREAK_GLASS_ENV, &grant.id);
    Ok(grant)
}

/// End `grant`: its session's shell has exited.
pub fn end_break_glass(host: &HostContext, grant: &Grant) -> Result<(), String> {
    GrantClient::for_host(host).end(&grant.id).map(|_| ())
}

/// Record a change of this session's declarations (`detail`), with the reason given.
pub fn record_declaration(guard: &super::Guard, detail: String, reason: Option<String>) {
    let mut rec = Record::new_for_current_process(Event::Session, guard.host())
        .with_policy_digest(guard.policy().digest.clone());
    rec.detail = Some(detail);
    rec.reason = reason;
    if let Err(e) = super::journal::write(rec, guard.sinks(), true) {
        eprintln!("prodguard: warning: {e}");
    }
}

/// The login session this process runs in (`PRODGUARD_SESSION`), when it names one a file
/// name can carry.
pub fn login_session() -> Option<String> {
    std::env::var("PRODGUARD_SESSION").ok().filter(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn session_key() -> String {
    login_session().unwrap_or_else(|| format!("ppid-{}", nix::unistd::getppid()))
}

/// Where this user's private directory for what is kept per session is (not created).
pub fn user_dir_path() -> PathBuf {
    let uid = nix::unistd::getuid().as_raw();
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("prodguard-{uid}"))
}

/// This user's private directory for what is kept per session (created when missing).
pub fn user_dir() -> std::io::Result<PathBuf> {
    let dir = user_dir_path();
    private_dir(&dir, nix::unistd::getuid().as_raw())?;
    Ok(dir)
}

/// The file that keeps this session's intent.
pub fn intent_file() -> std::io::Result<PathBuf> {
    Ok(user_dir()?.join(format!("intent-{}", session_key())))
}

/// The host declared for this session, if any and still current.
pub fn intent() -> Option<String> {
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

/// Whether `h` may be declared as a host name.
pub fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// Declare `host` for this session, with an optional reason.
pub fn declare_intent(host: &str, reason: Option<&str>) -> Result<(), super::Error> {
    if !valid_host(host) {
        return Err(super::Error::Usage(format!("`{host}` is not a host name")));
    }
    let path = intent_file().map_err(super::Error::Declaration)?;
    let text = format!("{host}\n{}\n", reason.unwrap_or(""));
    write_private(&path, &text).map_err(super::Error::Declaration)
}

/// Forget this session's intent.
pub fn clear_intent() -> Result<(), super::Error> {
    let path = intent_file().map_err(super::Error::Declaration)?;
    let _ = std::fs::remove_file(path);
    Ok(())
}

/// Create `dir` mode 0700 owned by `uid`, or accept it only if it already is exactly that (not a
/// symlink, not someone else's).
pub fn private_dir(dir: &Path, uid: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{} exists but is not a private directory of this user",
            dir.display()
        )));
    }
    Ok(())
}

/// Write `text` to `path`, mode 0600, never through a symlink.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_glass_asks_the_service_only_when_marked() {
        let asked = std::cell::Cell::new(0);
        let grant = Grant {
            id: "abc123".into(),
            reason: "db down again".into(),
            expires: "2026-12-03T16:50:00.000Z".into(),
        };
        let yes = |id: &str| {
            asked.set(asked.get() + 1);
            assert_eq!(id, "abc123");
            Ok(grant.clone())
        };
        let none = |_: &str| None;
        assert_eq!(break_glass(&none, &yes), (None, None));
        let blank = |_: &str| Some("  \n ".to_string());
        assert_eq!(break_glass(&blank, &yes), (None, None));
        assert_eq!(asked.get(), 0, "no marker, no round trip");
        let set = |k: &str| (k == BREAK_GLASS_ENV).then(|| " abc123 ".to_string());
        assert_eq!(break_glass(&set, &yes), (Some(grant.clone()), None));
        assert_eq!(asked.get(), 1);
        let no = |_: &str| Err("no break-glass grant has this id".to_string());
        let (g, why) = break_glass(&set, &no);
        assert_eq!(g, None);
        assert!(why.is_some_and(|w| w.contains("unverified") && w.contains("no break-glass grant")));
        let reason = |k: &str| (k == BREAK_GLASS_ENV).then(|| "INC-42 restore".to_string());
        let (g, why) = break_glass(&reason, &yes);
        assert_eq!(
            (g, why.is_some()),
            (None, true),
            "a reason is not a grant id"
        );
        assert_eq!(asked.get(), 1);
        assert_eq!(expiry_utc(&grant.expires), "2026-12-03 16:50 UTC");
    }

    #[test]
    fn short_reasons_are_refused() {
        assert!(reason_problem("short").is_some());
        assert!(reason_problem("the primary is down").is_none());
    }

    #[test]
    fn host_names() {
        assert!(valid_host("db1.example.com"));
        assert!(!valid_host("db1;rm"));
        assert!(!valid_host(""));
    }
}
