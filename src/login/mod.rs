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
mod parent;
pub mod root;

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
    /// `-c CMD`, or `SSH_ORIGINAL_COMMAND`: the bytes as given, UTF-8 or not.
    Command(OsString),
    /// An interactive login session.
    Interactive,
    /// No arguments and no terminal: the commands come on stdin (`ssh host < script`).
    Stdin,
}

/// Whether `args` (argv without argv[0]) start prodguard as a shell, and how.
///
/// Words are compared as bytes: a command that is not UTF-8 is still the command (it is judged,
/// and run as given), never a reason to read the commands from stdin instead.
pub fn entry(
    argv0: &str,
    args: &[OsString],
    env_command: Option<OsString>,
    stdin_tty: bool,
) -> Option<Entry> {
    use std::os::unix::ffi::OsStrExt;
    let login = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('-'));
    let words: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let command = |w: &[u8]| Some(Entry::Command(std::ffi::OsStr::from_bytes(w).to_owned()));
    match words.as_slice() {
        [b"-c", cmd, ..] => command(cmd),
        [b"-l" | b"--login", b"-c", cmd, ..] => command(cmd),
        [] | [b"-l"] | [b"--login"] | [b"-i"] => Some(match env_command {
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

/// Why the paths file is ignored.
#[derive(Debug, thiserror::Error)]
enum PathsFileError {
    #[error(transparent)]
    Untrusted(#[from] crate::host::trust::Untrusted),
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("{}", .0.message())]
    Syntax(toml::de::Error),
    #[error("{} is not an absolute path", .0.display())]
    Relative(PathBuf),
}

fn read_install_paths(file: &Path, uid: u32) -> Result<RawPaths, PathsFileError> {
    crate::host::trust::check(file, uid)?;
    let text = std::fs::read_to_string(file).map_err(PathsFileError::Read)?;
    let paths: RawPaths = toml::from_str(&text).map_err(PathsFileError::Syntax)?;
    for p in [&paths.host_file, &paths.policy_dir, &paths.audit_file]
        .into_iter()
        .flatten()
    {
        if !p.is_absolute() {
            return Err(PathsFileError::Relative(p.clone()));
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
                Ok(script) => run_command(global, std::ffi::OsStr::new(&script)),
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

/// Judge `cmd` and run it with the real shell. A command that is not UTF-8 is judged as read
/// with U+FFFD for each invalid sequence (no shell syntax is made of such bytes, so its words
/// stay the same words; a path in it matches the rules' patterns as far as its valid part does),
/// and run exactly as given.
fn run_command(paths: &Paths, raw: &std::ffi::OsStr) -> u8 {
    ensure_session();
    let text = raw.to_string_lossy();
    let cmd: &str = &text;
    let decided = std::panic::catch_unwind(|| {
        let interactive = std::fs::File::open("/dev/tty").is_ok();
        let guard = Guard::load(paths);
        guard.warn_policy();
        let ctx = Context {
            stdin_unseen: guard::stdin_unseen(),
            ..Context::here()
        };
        let ctx = Context {
            detail: matches!(text, std::borrow::Cow::Owned(_)).then(|| {
                "the command line is not UTF-8; judged with U+FFFD for the invalid bytes"
                    .to_string()
            }),
            ..ctx
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
                .arg(raw)
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
/// setgid group up as it starts ([`crate::privilege`]), so this is a verified no-op; it
/// stays for callers that want the check right before they start something.
pub fn drop_privileges() -> Result<(), std::io::Error> {
    crate::privilege::give_up_setgid()
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

/// What the login knows once the guard has started: for the session's records.
struct Started {
    host: HostContext,
    sinks: crate::audit::Sinks,
    digest: String,
    integration: &'static str,
    break_glass: Option<guard::declared::Grant>,
    tally: Option<guard::tally::Tally>,
}

/// The integration the login sets up for `shell`, by its name.
fn integration_for(name: &str, bin: Option<&str>) -> &'static str {
    match (bin, name) {
        (Some(_), "bash") => "bash",
        (Some(_), "zsh") => "zsh",
        _ => "none",
    }
}

fn start_session(global: &Paths) -> Started {
    let (host, policy) = guard::load_host_policy(global);
    let sinks = crate::audit::Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
    let shell = real_shell(&host);
    let integration = integration_for(&shell_name(&shell), integration::current_bin().as_deref());
    let declared = guard::Declared::current(&host);
    let mut rec =
        crate::audit::Record::new_for_current_process(crate::audit::Event::Session, &host)
            .with_policy_digest(policy.digest.clone());
    rec.integration = Some(integration.to_string());
    if let Err(e) = crate::audit::record(rec, &sinks) {
        eprintln!("prodguard: warning: this session cannot be recorded: {e}");
    }
    let tally = match guard::tally::Tally::start() {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("prodguard: warning: the commands of this session cannot be counted: {e}");
            None
        }
    };
    let colour = crate::prompt::colour_enabled(std::io::stdout().is_terminal());
    let mut warnings = guard::banner_warnings(&policy);
    if let Some(grant) = &declared.break_glass {
        warnings.insert(0, guard::declared::banner_line(grant));
    }
    let banner = crate::prompt::render_banner(&host, &policy.digest, &warnings, colour);
    let _ = std::io::stdout().write_all(banner.as_bytes());
    let _ = std::io::stdout().flush();
    Started {
        host,
        sinks,
        digest: policy.digest.clone(),
        integration,
        break_glass: declared.break_glass.clone(),
        tally,
    }
}

/// The session's end record: how long it lasted, how the shell ended, what was judged in it.
fn end_session(s: Started, status: std::process::ExitStatus, duration: std::time::Duration) {
    let counts = s.tally.map(guard::tally::Tally::finish);
    let mut rec =
        crate::audit::Record::new_for_current_process(crate::audit::Event::Session, &s.host)
            .with_outcome(crate::audit::Outcome::Exit)
            .with_exit(parent::recorded_status(status), duration)
            .with_policy_digest(s.digest);
    rec.detail = Some(
        if s.break_glass.is_some() {
            "break-glass session ended"
        } else {
            "session ended"
        }
        .to_string(),
    );
    // The grant ends with the shell; the service also notices when this process is gone.
    if let Some(grant) = &s.break_glass {
        if let Err(e) = guard::declared::end_break_glass(&s.host, grant) {
            eprintln!("prodguard: warning: the break-glass grant could not be ended: {e}");
        }
    }
    rec.integration = Some(s.integration.to_string());
    match counts {
        Some(Ok(c)) => {
            rec.commands = Some(c.commands);
            rec.loaded = Some(c.loaded);
        }
        Some(Err(e)) => {
            eprintln!("prodguard: warning: the commands of this session cannot be counted: {e}")
        }
        None => {}
    }
    if let Err(e) = crate::audit::record(rec, &s.sinks) {
        eprintln!("prodguard: warning: the end of this session cannot be recorded: {e}");
    }
}

fn run_interactive(global: &Paths) -> u8 {
    ensure_session();
    let began = std::time::Instant::now();
    let prepared = std::panic::catch_unwind(|| start_session(global));
    let started = match prepared {
        Ok(s) => Some(s),
        Err(_) => {
            eprintln!("prodguard: internal error while starting the guard; starting your shell without it");
            None
        }
    };
    let shell = started
        .as_ref()
        .map(|s| real_shell(&s.host))
        .unwrap_or_else(|| PathBuf::from("/bin/bash"));
    let name = shell_name(&shell);
    let integration = started.as_ref().map_or("none", |s| s.integration);
    // The shell never holds a setgid group: bash would start in privileged mode and read no
    // startup file (no integration). The binary gives one up as it starts; the child checks.
    let command = match (integration, integration::current_bin()) {
        ("bash", Some(bin)) => bash_command(&shell, &bin),
        ("zsh", Some(bin)) => zsh_command(&shell, &bin),
        _ => {
            if started.is_some() {
                eprintln!("prodguard: no interactive integration for {name}: commands typed in this session are not checked");
            }
            let mut c = Command::new(&shell);
            c.arg0(format!("-{name}"));
            Ok((c, None))
        }
    };
    let ran = command.and_then(|(cmd, rcfile)| {
        let status = parent::run(cmd);
        // The shell has its own copy of the rcfile's pipe, or none.
        drop(rcfile);
        status
    });
    match ran {
        Ok(status) => {
            if let Some(s) = started {
                end_session(s, status, began.elapsed());
            }
            parent::exit_code(status)
        }
        Err(err) => {
            eprintln!("prodguard: cannot start {}: {err}", shell.display());
            last_resort()
        }
    }
}

/// Never leave the user without a shell: `/bin/sh`, without the audit group when it can be given
/// up (and with a warning when not).
fn last_resort() -> u8 {
    if let Err(e) = drop_privileges() {
        eprintln!(
            "prodguard: warning: cannot give up the audit group ({e}); starting a shell anyway"
        );
    }
    let err = Command::new("/bin/sh").arg0("-sh").exec();
    eprintln!("prodguard: cannot start /bin/sh: {err}");
    EXIT_EXEC_FAILED
}

/// The interactive bash, with its rcfile on a pipe the caller keeps open until bash started.
fn bash_command(
    shell: &Path,
    bin: &str,
) -> std::io::Result<(Command, Option<std::io::PipeReader>)> {
    let rc = integration::bash_rcfile(bin);
    // The rcfile fits in the pipe buffer, so this cannot block; bash reads it after exec.
    if rc.len() >= 60 * 1024 {
        return Err(std::io::Error::other(
            "integration script too large for the pipe",
        ));
    }
    let (reader, mut writer) = std::io::pipe()?;
    writer.write_all(rc.as_bytes())?;
    drop(writer);
    let fd = reader.as_raw_fd();
    nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )?;
    // Not "-bash": a login bash would ignore the rcfile (see bash_rcfile).
    let mut c = Command::new(shell);
    c.arg0("bash").env("PRODGUARD_SHELL", "bash").args([
        "--noprofile",
        "--rcfile",
        &format!("/dev/fd/{fd}"),
        "-i",
    ]);
    Ok((c, Some(reader)))
}

/// zsh reads its startup files from `$ZDOTDIR`: point it at a private directory whose files read
/// the user's own, and whose `.zshrc` loads the integration last. The directory is this login's
/// alone (two logins at once must not rewrite each other's files while zsh reads them), and the
/// `.zshrc` removes it once zsh is reading it: `.zlogin` is then read from the user's directory.
fn zsh_command(shell: &Path, bin: &str) -> std::io::Result<(Command, Option<std::io::PipeReader>)> {
    let uid = nix::unistd::getuid();
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("prodguard-zsh-{uid}-{}", std::process::id()));
    private_dir(&dir, uid.as_raw())?;
    let user_dir =
        std::env::var_os("ZDOTDIR").unwrap_or_else(|| std::env::var_os("HOME").unwrap_or_default());
    let files = integration::zsh_files(&dir.to_string_lossy(), &user_dir.to_string_lossy(), bin);
    for (name, text) in files {
        write_private(&dir.join(name), &text)?;
    }
    let mut c = Command::new(shell);
    c.arg0("-zsh")
        .env("ZDOTDIR", &dir)
        .env("PRODGUARD_SHELL", "zsh");
    Ok((c, None))
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
    fn a_command_that_is_not_utf8_is_still_the_command() {
        use std::os::unix::ffi::OsStrExt;
        let bytes = b"rm -rf /srv/\xff\xfe";
        let cmd = std::ffi::OsStr::from_bytes(bytes).to_owned();
        for argv0 in ["prodguard", "-prodguard"] {
            assert_eq!(
                entry(argv0, &[OsString::from("-c"), cmd.clone()], None, false),
                Some(Entry::Command(cmd.clone()))
            );
        }
        assert_eq!(
            entry("prodguard", &[], Some(cmd.clone()), false),
            Some(Entry::Command(cmd))
        );
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
        let untrusted = |p: &Path| {
            matches!(
                read_install_paths(p, uid),
                Err(PathsFileError::Untrusted(_))
            )
        };
        chmod(&file, 0o664);
        assert!(untrusted(&file));
        chmod(&file, 0o644);
        chmod(dir.path(), 0o777);
        assert!(untrusted(&file));
        chmod(dir.path(), 0o700);
        std::fs::write(&file, "policy_dir = \"relative/dir\"\n").expect("write");
        let relative = read_install_paths(&file, uid);
        assert!(
            matches!(relative, Err(PathsFileError::Relative(ref p)) if p == Path::new("relative/dir"))
        );
        std::fs::write(&file, "hostfile = \"/x\"\n").expect("write");
        let syntax = read_install_paths(&file, uid);
        assert!(matches!(syntax, Err(PathsFileError::Syntax(_))));
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        assert!(untrusted(&link));
    }
}
