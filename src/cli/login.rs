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

use super::gate::Asking;
use super::{check, init, load, show, Global, EXIT_EXEC_FAILED, EXIT_EXEC_REFUSED};
use crate::host::HostContext;
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
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

/// Largest script read from stdin in `Entry::Stdin`.
const MAX_STDIN_SCRIPT: u64 = 1 << 20;

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
        [] | ["-l"] | ["--login"] | ["-i"] => {
            if let Some(cmd) = env_command {
                Some(Entry::Command(cmd))
            } else if login || stdin_tty {
                Some(Entry::Interactive)
            } else {
                Some(Entry::Stdin)
            }
        }
        _ if login => Some(Entry::Interactive),
        _ => None,
    }
}

/// Run as a shell. Never returns on success (the real shell replaces this process).
pub fn run(entry: Entry) -> u8 {
    let global = Global::default();
    match entry {
        Entry::Command(cmd) => run_command(&global, &cmd),
        Entry::Stdin => {
            let mut script = String::new();
            let read = std::io::stdin()
                .take(MAX_STDIN_SCRIPT)
                .read_to_string(&mut script);
            if let Err(e) = read {
                eprintln!("prodguard: cannot read the commands on standard input: {e}");
                return EXIT_EXEC_REFUSED;
            }
            run_command(&global, &script)
        }
        Entry::Interactive => run_interactive(&global),
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

fn run_command(global: &Global, cmd: &str) -> u8 {
    ensure_session();
    let decided = std::panic::catch_unwind(|| {
        let interactive = std::fs::File::open("/dev/tty").is_ok();
        let guarded = check::guard(
            global,
            cmd,
            Asking {
                interactive,
                ..Asking::default()
            },
            false,
            check::stdin_unseen(),
        );
        (guarded.run, real_shell(&guarded.host))
    });
    match decided {
        Ok((true, shell)) => {
            if let Err(e) = check::drop_privileges() {
                eprintln!(
                    "prodguard: not running the command: cannot give up the audit group: {e}"
                );
                return EXIT_EXEC_REFUSED;
            }
            let err = Command::new(&shell)
                .arg0(shell_name(&shell))
                .arg("-c")
                .arg(cmd)
                .exec();
            eprintln!("prodguard: cannot run {}: {err}", shell.display());
            EXIT_EXEC_FAILED
        }
        Ok((false, _)) => EXIT_EXEC_REFUSED,
        Err(_) => {
            eprintln!("prodguard: internal error while deciding on this command; it was not run");
            EXIT_EXEC_REFUSED
        }
    }
}

/// One session id for everything this login runs, exported for the processes after us.
fn ensure_session() {
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

fn run_interactive(global: &Global) -> u8 {
    ensure_session();
    let prepared = std::panic::catch_unwind(|| {
        let (host, policy) = load(global);
        let sinks = crate::audit::Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
        let rec =
            crate::audit::Record::new_for_current_process(crate::audit::Event::Session, &host)
                .with_policy_digest(policy.digest.clone());
        if let Err(e) = crate::audit::record(rec, &sinks) {
            eprintln!("prodguard: warning: this session cannot be recorded: {e}");
        }
        let colour = crate::prompt::colour_enabled(std::io::stdout().is_terminal());
        let banner = crate::prompt::render_banner(
            &host,
            &policy.digest,
            &show::banner_warnings(&policy),
            colour,
        );
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
    let bin = init::current_bin();
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

/// The startup files a login bash would read, then the integration. Given to bash as its rcfile,
/// so the integration comes after the user's prompt and aliases.
fn bash_rcfile(bin: &str) -> String {
    let mut s = String::from(
        "# prodguard: the startup files of a login bash, then the guard's integration.\n\
         [ -r /etc/profile ] && . /etc/profile\n\
         for __pg_f in ~/.bash_profile ~/.bash_login ~/.profile; do\n\
         \x20 if [ -r \"$__pg_f\" ]; then . \"$__pg_f\"; break; fi\n\
         done\n\
         unset __pg_f\n",
    );
    s.push_str(&init::script(init::Shell::Bash, bin));
    s
}

fn exec_bash(shell: &Path, bin: &str) -> std::io::Error {
    let rc = bash_rcfile(bin);
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
    let err = Command::new(shell)
        .arg0("-bash")
        .env("PRODGUARD_SHELL", "bash")
        .args(["--noprofile", "--rcfile", &format!("/dev/fd/{fd}"), "-i"])
        .exec();
    drop(reader);
    err
}

/// zsh reads its startup files from `$ZDOTDIR`: point it at a private directory whose files read
/// the user's own, and whose `.zshrc` loads the integration last.
fn exec_zsh(shell: &Path, bin: &str) -> std::io::Error {
    let uid = nix::unistd::getuid();
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("prodguard-zsh-{uid}"));
    if let Err(e) = private_dir(&dir, uid.as_raw()) {
        return e;
    }
    let user_dir =
        std::env::var_os("ZDOTDIR").unwrap_or_else(|| std::env::var_os("HOME").unwrap_or_default());
    let user_dir = crate::shell::quote::quote(&user_dir.to_string_lossy());
    let source =
        |f: &str| format!("[[ -r {user_dir}/{f} ]] && ZDOTDIR={user_dir} source {user_dir}/{f}\n");
    let files = [
        (".zshenv", source(".zshenv")),
        (".zprofile", source(".zprofile")),
        (
            ".zshrc",
            format!(
                "{}ZDOTDIR={user_dir}\n{}",
                source(".zshrc"),
                init::script(init::Shell::Zsh, bin)
            ),
        ),
        (".zlogin", source(".zlogin")),
    ];
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

/// Create `dir` mode 0700 owned by `uid`, or accept it only if it already is exactly that (not a
/// symlink, not someone else's).
pub(crate) fn private_dir(dir: &Path, uid: u32) -> std::io::Result<()> {
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

pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
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
            entry("-prodguard", &os(&[]), None, false),
            Some(Entry::Interactive)
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
    fn rcfile_reads_profile_then_integration() {
        let rc = bash_rcfile("/usr/bin/prodguard");
        let profile = rc.find("/etc/profile").unwrap_or(usize::MAX);
        let bind = rc.find("bind -x").unwrap_or(0);
        assert!(profile < bind);
    }
}
