//! prodguard as a login shell or sshd `ForceCommand`: every way into the host passes through here.
//!
//! - `prodguard -c CMD` (what sshd runs for `ssh host CMD`, scp, rsync, sftp-server): decide on
//!   CMD, ask on the terminal if there is one, then exec the real shell with `-c CMD`.
//! - no arguments and `SSH_ORIGINAL_COMMAND` set (`ForceCommand prodguard`): the same, on it.
//! - interactive (argv[0] starting with `-`, or no arguments on a terminal): print the banner,
//!   then exec the real shell with the integration loaded after the user's own startup files.
//!
//! Whatever goes wrong inside the guard, an interactive login still gets a shell: an internal
//! error is printed and the real shell is started without the integration. A `-c` command is
//! never run when the guard cannot decide on it.
//!
//! A login shell takes no options, so an install outside the system paths (a test, a user's own
//! copy) names its host description, policy directory and audit log in a file next to the binary
//! ([`PATHS_FILE`], see [`with_install_paths`] and docs/login.md). Environment variables are not
//! used for this: whoever can set them (sshd `AcceptEnv`, `PermitUserEnvironment`, `su` without
//! `-`, `sudo -E`) could point the guard at a weaker policy.

pub mod integration;

use crate::guard::{self, stdin_script, Asking, Context, Guard, Paths};
use crate::host::HostContext;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How prodguard was started, when it was started as a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `-c CMD`, or `SSH_ORIGINAL_COMMAND`.
    Command(String),
    /// An interactive login session.
    Interactive,
    /// No arguments and no terminal: the commands come on stdin (`ssh host < script`).
    Stdin,
}

/// Whether `args` (argv without argv[0]) start prodguard as a shell, and how.
pub fn entry(
    argv0: &str,
    args: &[OsString],
    env_command: Option<String>,
    stdin_tty: bool,
) -> Option<Entry> {
    let login = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('-'));
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    match words.as_slice() {
        ["-c", cmd, ..] => Some(Entry::Command((*cmd).to_string())),
        ["-l" | "--login", "-c", cmd, ..] => Some(Entry::Command((*cmd).to_string())),
        [] | ["-l"] | ["--login"] | ["-i"] => Some(match env_command {
            Some(cmd) => Entry::Command(cmd),
            None => interactive_or_stdin(stdin_tty),
        }),
        _ if login => Some(interactive_or_stdin(stdin_tty)),
        _ => None,
    }
}

/// Exit status when the guard refused to run the command.
pub const EXIT_EXEC_REFUSED: u8 = 126;
/// Exit status when the command could not be executed.
pub const EXIT_EXEC_FAILED: u8 = 127;

/// The install-local paths file, looked for in the directory of the running binary.
pub const PATHS_FILE: &str = "prodguard-paths.toml";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    host_file: Option<PathBuf>,
    policy_dir: Option<PathBuf>,
    audit_file: Option<PathBuf>,
}

/// Fill the paths `paths` leaves unset from [`PATHS_FILE`] next to the running binary, when
/// there is one and it can be trusted. A file that cannot be trusted or read is ignored with a
/// warning, so the system defaults (`/etc/prodguard`) apply.
pub fn with_install_paths(mut global: Paths) -> Paths {
    let Some(file) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(PATHS_FILE)))
    else {
        return global;
    };
    match std::fs::symlink_metadata(&file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return global,
        _ => {}
    }
    match read_install_paths(&file, nix::unistd::getuid().as_raw()) {
        Ok(paths) => {
            global.host_file = global.host_file.or(paths.host_file);
            global.policy_dir = global.policy_dir.or(paths.policy_dir);
            global.audit_file = global.audit_file.or(paths.audit_file);
        }
        Err(why) => eprintln!(
            "prodguard: ignoring {}: {why}; using the system configuration",
            file.display()
        ),
    }
    global
}

fn read_install_paths(file: &Path, uid: u32) -> Result<RawPaths, String> {
    crate::host::trust::check(file, uid).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read it: {e}"))?;
    let paths: RawPaths = toml::from_str(&text).map_err(|e| e.message().to_string())?;
    for p in [&paths.host_file, &paths.policy_dir, &paths.audit_file]
        .into_iter()
        .flatten()
    {
        if !p.is_absolute() {
            return Err(format!("{} is not an absolute path", p.display()));
        }
    }
    Ok(paths)
}

/// A session without a command is interactive only on a terminal. `ssh host < script` also
/// starts a login shell (argv[0] `-prodguard`), with the script on a pipe: starting an interactive
/// shell there would run the script line by line with no line editor, so no integration would
/// see it. It is read and decided on as a whole instead.
fn interactive_or_stdin(stdin_tty: bool) -> Entry {
    if stdin_tty {
        Entry::Interactive
    } else {
        Entry::Stdin
    }
}

/// Run as a shell. Never returns on success (the real shell replaces this process).
pub fn run(entry: Entry, global: &Paths) -> u8 {
    match entry {
        Entry::Command(cmd) => run_command(global, &cmd),
        Entry::Stdin => {
            use stdin_script::{read_bounded, RawStdin, MAX_SCRIPT};
            let feed = match read_bounded(&mut RawStdin) {
                Ok(feed) => feed,
                Err(e) => {
                    eprintln!("prodguard: cannot read the commands on standard input: {e}");
                    return EXIT_EXEC_REFUSED;
                }
            };
            // Cut short, the script would be judged and run as something it is not.
            if feed.rest {
                eprintln!(
                    "prodguard: refused: the commands on standard input are more than {} KiB; nothing was run",
                    MAX_SCRIPT / 1024
                );
                return EXIT_EXEC_REFUSED;
            }
            match String::from_utf8(feed.bytes) {
                Ok(script) => run_command(global, &script),
                Err(_) => {
                    eprintln!("prodguard: refused: the commands on standard input are not valid UTF-8; nothing was run");
                    EXIT_EXEC_REFUSED
                }
            }
        }
        Entry::Interactive => run_interactive(global),
    }
}

fn real_shell(host: &HostContext) -> PathBuf {
    let shell = host.shell.clone();
    // Never exec ourselves as the "real" shell: that would loop.
    let me = std::env::current_exe().ok();
    if me.as_deref().is_some_and(|m| same_file(m, &shell))
        || shell.file_name().is_some_and(|n| n == "prodguard")
    {
        return PathBuf::from("/bin/bash");
    }
    shell
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn run_command(paths: &Paths, cmd: &str) -> u8 {
    ensure_session();
    let decided = std::panic::catch_unwind(|| {
        let interactive = std::fs::File::open("/dev/tty").is_ok();
        let guard = Guard::load(paths);
        guard.warn_policy();
        let ctx = Context {
            stdin_unseen: guard::stdin_unseen(),
            ..Context::here()
        };
        let asking = Asking {
            interactive,
            ..Asking::default()
        };
        let (j, ran) = guard.guard(cmd, &ctx, asking);
        let shell = real_shell(j.host());
        let stdin = j.stdin().cloned();
        (ran.is_ok(), shell, stdin)
    });
    match decided {
        Ok((true, shell, stdin)) => {
            if let Some(feed) = &stdin {
                if let Err(e) = stdin_script::hand_on(feed) {
                    eprintln!(
                        "prodguard: not running the command: cannot hand on its standard input: {e}"
                    );
                    return EXIT_EXEC_FAILED;
                }
            }
            let err = Command::new(&shell)
                .arg0(shell_name(&shell))
                .arg("-c")
                .arg(cmd)
                .exec();
            eprintln!("prodguard: cannot run {}: {err}", shell.display());
            EXIT_EXEC_FAILED
        }
        Ok((false, _, _)) => EXIT_EXEC_REFUSED,
        Err(_) => {
            eprintln!("prodguard: internal error while deciding on this command; it was not run");
            EXIT_EXEC_REFUSED
        }
    }
}

/// Check that the process holds no setgid group, giving it up if it does. The binary gives a
/// setgid group up as it starts ([`crate::audit::privilege`]), so this is a verified no-op; it
/// stays for callers that want the check right before they start something.
pub fn drop_privileges() -> Result<(), std::io::Error> {
    crate::audit::privilege::give_up_setgid()
        .map(|_| ())
        .map_err(std::io::Error::other)
}

/// One session id for everything this login runs, exported for the processes after us.
pub fn ensure_session() {
    if std::env::var_os("PRODGUARD_SESSION").is_none() {
        // Still single-threaded here; the variable is for the processes we start.
        std::env::set_var("PRODGUARD_SESSION", crate::audit::record::new_session_id());
    }
}

fn shell_name(shell: &Path) -> String {
    shell
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("sh")
        .to_string()
}

fn run_interactive(global: &Paths) -> u8 {
    ensure_session();
    let prepared = std::panic::catch_unwind(|| {
        let (host, policy) = guard::load_host_policy(global);
        let sinks = crate::audit::Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
        let rec =
            crate::audit::Record::new_for_current_process(crate::audit::Event::Session, &host)
                .with_policy_digest(policy.digest.clone());
        if let Err(e) = crate::audit::record(rec, &sinks) {
            eprintln!("prodguard: warning: this session cannot be recorded: {e}");
        }
        let colour = crate::prompt::colour_enabled(std::io::stdout().is_terminal());
        let mut warnings = guard::banner_warnings(&policy);
        if let Some(grant) = guard::Declared::current().break_glass {
            warnings.insert(0, guard::declared::banner_line(&grant));
        }
        let banner = crate::prompt::render_banner(&host, &policy.digest, &warnings, colour);
        let _ = std::io::stdout().write_all(banner.as_bytes());
        let _ = std::io::stdout().flush();
        host
    });
    let host = match prepared {
        Ok(h) => Some(h),
        Err(_) => {
            eprintln!("prodguard: internal error while starting the guard; starting your shell without it");
            None
        }
    };
    let shell = host
        .as_ref()
        .map(real_shell)
        .unwrap_or_else(|| PathBuf::from("/bin/bash"));
    let bin = integration::current_bin();
    let name = shell_name(&shell);
    let err = match (host.is_some(), bin, name.as_str()) {
        (true, Some(bin), "bash") => exec_bash(&shell, &bin),
        (true, Some(bin), "zsh") => exec_zsh(&shell, &bin),
        _ => {
            if host.is_some() {
                eprintln!("prodguard: no interactive integration for {name}: commands typed in this session are not checked");
            }
            Command::new(&shell).arg0(format!("-{name}")).exec()
        }
    };
    eprintln!("prodguard: cannot start {}: {err}", shell.display());
    // Last resort: never leave the user without a shell.
    let err = Command::new("/bin/sh").arg0("-sh").exec();
    eprintln!("prodguard: cannot start /bin/sh: {err}");
    EXIT_EXEC_FAILED
}

fn exec_bash(shell: &Path, bin: &str) -> std::io::Error {
    let rc = integration::bash_rcfile(bin);
    let (reader, mut writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return e,
    };
    // The rcfile fits in the pipe buffer, so this cannot block; bash reads it after exec.
    if rc.len() >= 60 * 1024 {
        return std::io::Error::other("integration script too large for the pipe");
    }
    if let Err(e) = writer.write_all(rc.as_bytes()) {
        return e;
    }
    drop(writer);
    let fd = reader.as_raw_fd();
    if let Err(e) = nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    ) {
        return std::io::Error::from(e);
    }
    // Not "-bash": a login bash would ignore the rcfile (see bash_rcfile).
    let err = Command::new(shell)
        .arg0("bash")
        .env("PRODGUARD_SHELL", "bash")
        .args(["--noprofile", "--rcfile", &format!("/dev/fd/{fd}"), "-i"])
        .exec();
    drop(reader);
    err
}

/// zsh reads its startup files from `$ZDOTDIR`: point it at a private directory whose files read
/// the user's own, and whose `.zshrc` loads the integration last. The directory is this login's
/// alone (two logins at once must not rewrite each other's files while zsh reads them), and the
/// `.zshrc` removes it once zsh is reading it: `.zlogin` is then read from the user's directory.
fn exec_zsh(shell: &Path, bin: &str) -> std::io::Error {
    let uid = nix::unistd::getuid();
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("prodguard-zsh-{uid}-{}", std::process::id()));
    if let Err(e) = private_dir(&dir, uid.as_raw()) {
        return e;
    }
    let user_dir =
        std::env::var_os("ZDOTDIR").unwrap_or_else(|| std::env::var_os("HOME").unwrap_or_default());
    let files = integration::zsh_files(&dir.to_string_lossy(), &user_dir.to_string_lossy(), bin);
    for (name, text) in files {
        if let Err(e) = write_private(&dir.join(name), &text) {
            return e;
        }
    }
    Command::new(shell)
        .arg0("-zsh")
        .env("ZDOTDIR", &dir)
        .env("PRODGUARD_SHELL", "zsh")
        .exec()
}

use guard::declared::{private_dir, write_private};

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn entries() {
        assert_eq!(
            entry("prodguard", &os(&["-c", "ls"]), None, false),
            Some(Entry::Command("ls".into()))
        );
        assert_eq!(
            entry("-prodguard", &os(&[]), None, true),
            Some(Entry::Interactive)
        );
        // `ssh host < script`: a login shell with the script on a pipe.
        assert_eq!(
            entry("-prodguard", &os(&[]), None, false),
            Some(Entry::Stdin)
        );
        assert_eq!(
            entry("prodguard", &os(&[]), Some("uptime".into()), false),
            Some(Entry::Command("uptime".into()))
        );
        assert_eq!(
            entry("prodguard", &os(&[]), None, true),
            Some(Entry::Interactive)
        );
        assert_eq!(
            entry("prodguard", &os(&[]), None, false),
            Some(Entry::Stdin)
        );
        assert_eq!(
            entry("prodguard", &os(&["explain", "ls"]), None, true),
            None
        );
        assert_eq!(entry("prodguard", &os(&["--", "ls"]), None, true), None);
    }

    #[test]
    fn install_paths_must_be_trusted_and_absolute() {
        use std::os::unix::fs::PermissionsExt;
        let uid = nix::unistd::getuid().as_raw();
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join(PATHS_FILE);
        let chmod = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        std::fs::write(&file, "host_file = \"/x/host.toml\"\n").expect("write");
        chmod(&file, 0o644);
        let paths = read_install_paths(&file, uid).expect("trusted");
        assert_eq!(paths.host_file.as_deref(), Some(Path::new("/x/host.toml")));
        assert!(paths.policy_dir.is_none());
        chmod(&file, 0o664);
        assert!(read_install_paths(&file, uid).is_err());
        chmod(&file, 0o644);
        chmod(dir.path(), 0o777);
        assert!(read_install_paths(&file, uid).is_err());
        chmod(dir.path(), 0o700);
        std::fs::write(&file, "policy_dir = \"relative/dir\"\n").expect("write");
        assert!(read_install_paths(&file, uid).is_err());
        std::fs::write(&file, "hostfile = \"/x\"\n").expect("write");
        assert!(read_install_paths(&file, uid).is_err());
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        assert!(read_install_paths(&link, uid).is_err());
    }
}
