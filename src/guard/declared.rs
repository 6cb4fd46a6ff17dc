//! What the person at the keyboard declared before the command: the host they mean to work on
//! (`prodguard intent HOST`) and an emergency session (`prodguard --break-glass`). Both are read
//! once, when the guard is loaded, and both change a judgement only through [`super::Guard`].
//!
//! The intent lives in a private per-user directory, keyed by the login session
//! (`PRODGUARD_SESSION`, exported by the login shell) or, outside a guarded login, by the shell
//! that ran `prodguard` (the parent process). It lapses after twelve hours.
//!
//! A break-glass session is marked by an environment variable, so anyone with a shell can set it:
//! that is not a hole the guard could close (a user can always run commands without it), and
//! every command it waives is recorded as waived, naming the user. [`break_glass`] is the one
//! place the marker is read, so that a grant from a privileged service can replace it there.

use crate::audit::{Event, Outcome, Record};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an intent declaration holds.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The variable that marks a break-glass session; its value is the recorded reason.
pub const BREAK_GLASS_ENV: &str = "PRODGUARD_BREAK_GLASS";
/// The shortest break-glass reason accepted.
pub const MIN_REASON: usize = 10;

/// A break-glass session in force: the policy's demands are waived, with this reason recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Why, as given when the session started.
    pub reason: String,
}

/// What was declared for this session, read once.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// The host declared with `prodguard intent`, if still current.
    pub intent: Option<String>,
    /// The break-glass session this process runs in, if any.
    pub break_glass: Option<Grant>,
}

impl Declared {
    /// Read the declarations of this process's session.
    pub fn current() -> Declared {
        Declared {
            intent: intent(),
            break_glass: break_glass(&|k| std::env::var(k).ok()),
        }
    }
}

/// The break-glass session named by the environment `env`, if any: the one place break-glass is
/// read.
pub fn break_glass(env: &dyn Fn(&str) -> Option<String>) -> Option<Grant> {
    let v = env(BREAK_GLASS_ENV)?;
    let v: String = v.chars().filter(|c| !c.is_control()).take(500).collect();
    let reason = v.trim();
    (!reason.is_empty()).then(|| Grant {
        reason: reason.to_string(),
    })
}

/// The banner line of a break-glass session.
pub fn banner_line(grant: &Grant) -> String {
    format!(
        "BREAK-GLASS SESSION: checks are reduced to warnings and every waived command is recorded (reason: {})",
        grant.reason
    )
}

/// Why a break-glass reason is not accepted, if it is not.
pub fn reason_problem(reason: &str) -> Option<String> {
    (reason.chars().count() < MIN_REASON)
        .then(|| format!("break-glass needs a reason of at least {MIN_REASON} characters"))
}

/// Start a break-glass session with `reason`: record it as a critical `break-glass` event, then
/// mark the processes this one starts. An emergency session that leaves no trace is exactly what
/// the audit log must not allow, so one that cannot be recorded is not started.
pub fn start_break_glass(guard: &super::Guard, reason: &str) -> Result<Grant, super::Error> {
    if let Some(why) = reason_problem(reason) {
        return Err(super::Error::Usage(why));
    }
    let grant = Grant {
        reason: reason.to_string(),
    };
    let mut rec = Record::new_for_current_process(Event::Session, guard.host())
        .with_outcome(Outcome::BreakGlass)
        .with_policy_digest(guard.policy().digest.clone());
    rec.reason = Some(grant.reason.clone());
    rec.detail = Some("break-glass session started".to_string());
    super::journal::write(rec, guard.sinks(), true)?;
    // Still single-threaded here; the variable is for the shell started next.
    std::env::set_var(BREAK_GLASS_ENV, &grant.reason);
    Ok(grant)
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
    fn break_glass_is_read_from_the_marker_only() {
        let none = |_: &str| None;
        assert_eq!(break_glass(&none), None);
        let blank = |_: &str| Some("  \n ".to_string());
        assert_eq!(break_glass(&blank), None);
        let set = |k: &str| (k == BREAK_GLASS_ENV).then(|| " db down\x07 again ".to_string());
        assert_eq!(
            break_glass(&set),
            Some(Grant {
                reason: "db down again".into()
            })
        );
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
