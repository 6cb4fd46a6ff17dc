//! `prodguard_approval`: a sudo approval plugin (sudo ≥ 1.9, plugin API 1.x). Before sudo runs
//! any command (and, with `Defaults intercept`, any command that command starts), sudo calls
//! [`check`]; the plugin runs `prodguard sudo-check` with the facts sudo knows and maps its exit
//! status: 0 approve, 1 refuse, anything else (missing, broken, killed, too slow) approve with a
//! `crit` line in syslog, so a broken checker never locks root out. See docs/sudo.md.
//!
//! Enabled by a line of /etc/sudo.conf:
//!
//! ```text
//! Plugin prodguard_approval /usr/lib/prodguard/sudo_approval.so [checker=PATH] [timeout=SECS] …
//! ```
//!
//! It is kept small on purpose: it runs inside sudo, as root, and links nothing of prodguard.

// It runs inside sudo: no `unwrap`/`expect` outside tests, as in prodguard itself.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod request;
mod run;
mod sys;

use request::{checker_argv, Invoker, Options};
use run::Answer;
use std::ffi::{c_char, c_int, c_uint, CString};
use std::sync::Mutex;
use sys::{StringArray, SudoConv, SudoPrintf};

/// The symbol named on the sudo.conf `Plugin` line.
#[allow(non_upper_case_globals)]
#[no_mangle]
pub static prodguard_approval: sys::ApprovalPlugin = sys::ApprovalPlugin {
    plugin_type: sys::SUDO_APPROVAL_PLUGIN,
    version: sys::SUDO_API_VERSION,
    open: Some(open),
    close: Some(close),
    check: Some(check),
    show_version: Some(show_version),
};

/// What `open` learnt, for the `check` that follows (sudo opens, checks and closes the plugin
/// once per command).
struct State {
    printf: Option<SudoPrintf>,
    options: Options,
    invoker: Invoker,
    /// `sudo -n`: no question may be asked (automation: Ansible runs `sudo -n` on a pty).
    noninteractive: bool,
    /// `PRODGUARD_BREAK_GLASS=…` of the environment sudo was started in (a break-glass
    /// session, which the checker honours and records), whatever sudo keeps of it.
    break_glass: Option<Vec<u8>>,
    /// The message `*errstr` points to; alive until `close` (sudo reads it before).
    errstr: Option<CString>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn state() -> std::sync::MutexGuard<'static, Option<State>> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Print `text` through sudo's printf (`msg_type`: [`sys::SUDO_CONV_ERROR_MSG`] for stderr).
fn say(printf: Option<SudoPrintf>, msg_type: c_int, text: &str) {
    let (Some(printf), Ok(text)) = (printf, CString::new(text.replace('\0', " "))) else {
        return;
    };
    // SAFETY: sudo's printf with a constant "%s" format and one valid C string argument.
    unsafe { printf(msg_type, c"%s".as_ptr(), text.as_ptr()) };
}

/// A `crit` line in the authpriv syslog facility, where sudo logs too.
fn syslog_crit(text: &str) {
    let Ok(text) = CString::new(format!("prodguard-sudo: {}", text.replace('\0', " "))) else {
        return;
    };
    // SAFETY: syslog with a constant "%s" format and one valid C string; sudo's own openlog
    // settings are left as they are.
    unsafe {
        libc::syslog(
            libc::LOG_AUTHPRIV | libc::LOG_CRIT,
            c"%s".as_ptr(),
            text.as_ptr(),
        )
    };
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn open(
    _version: c_uint,
    _conversation: SudoConv,
    sudo_printf: Option<SudoPrintf>,
    settings: StringArray,
    user_info: StringArray,
    _submit_optind: c_int,
    _submit_argv: StringArray,
    submit_envp: StringArray,
    plugin_options: StringArray,
    _errstr: *mut *const c_char,
) -> c_int {
    let opened = std::panic::catch_unwind(|| {
        // SAFETY: sudo passes NULL-terminated string arrays valid for this call.
        let (info, opts, set, env) = unsafe {
            (
                sys::strings(user_info),
                sys::strings(plugin_options),
                sys::strings(settings),
                sys::strings(submit_envp),
            )
        };
        let (options, notes) = Options::parse(&opts);
        for n in notes {
            say(
                sudo_printf,
                sys::SUDO_CONV_ERROR_MSG,
                &format!("prodguard_approval: sudo.conf: {n}\n"),
            );
        }
        *state() = Some(State {
            printf: sudo_printf,
            options,
            invoker: Invoker::from_user_info(&info),
            noninteractive: sys::lookup(&set, "noninteractive") == Some(b"true"),
            break_glass: env
                .iter()
                .find(|e| e.starts_with(b"PRODGUARD_BREAK_GLASS="))
                .cloned(),
            errstr: None,
        });
    });
    // A plugin that cannot open is disabled (0) rather than failing sudo (-1).
    if opened.is_ok() {
        1
    } else {
        syslog_crit("approval plugin failed to open; disabled for this sudo");
        0
    }
}

unsafe extern "C" fn close() {
    let _ = std::panic::catch_unwind(|| *state() = None);
}

unsafe extern "C" fn show_version(_verbose: c_int) -> c_int {
    let printf = state().as_ref().and_then(|s| s.printf);
    say(
        printf,
        sys::SUDO_CONV_INFO_MSG,
        concat!(
            "prodguard approval plugin version ",
            env!("CARGO_PKG_VERSION"),
            "\n"
        ),
    );
    1
}

/// The environment of the checker: a fixed PATH and the command's TERM (and the break-glass
/// variable of the user's session, added by the caller), nothing else.
fn checker_env(run_envp: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut env = vec![b"PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_vec()];
    if let Some(term) = run_envp.iter().find(|e| e.starts_with(b"TERM=")) {
        env.push(term.clone());
    }
    env
}

/// The user's terminal, when there is one: /dev/tty, else the `tty=` of user_info.
fn open_terminal(tty: Option<&[u8]>) -> Option<c_int> {
    let open = |p: &[u8]| -> Option<c_int> {
        let c = CString::new(p).ok()?;
        // SAFETY: a valid path; the descriptor is closed by the caller.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        // SAFETY: isatty on a descriptor we own.
        if fd >= 0 && unsafe { libc::isatty(fd) } == 1 {
            Some(fd)
        } else {
            if fd >= 0 {
                // SAFETY: closing the descriptor just opened.
                unsafe { libc::close(fd) };
            }
            None
        }
    };
    open(b"/dev/tty").or_else(|| tty.and_then(open))
}

/// Whether sudo's stdin, which the command inherits, carries data nobody sees beforehand: a
/// pipe or a file rather than a terminal or /dev/null (`echo "DROP …" | sudo psql`).
fn stdin_unseen() -> bool {
    // SAFETY: fstat/stat fill plain structs; isatty only queries fd 0.
    unsafe {
        if libc::isatty(0) == 1 {
            return false;
        }
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(0, &mut st) != 0 {
            // stdin closed: the command reads nothing.
            return false;
        }
        let mut null: libc::stat = std::mem::zeroed();
        let is_null = libc::stat(c"/dev/null".as_ptr(), &mut null) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFCHR
            && st.st_rdev == null.st_rdev;
        !is_null
    }
}

/// The foreground process group of the terminal `fd`, when it is another than sudo's own (under
/// `intercept`, the command being run is in the foreground while sudo asks).
fn foreground_if_not_ours(fd: c_int) -> Option<libc::pid_t> {
    // SAFETY: tcgetpgrp and getpgrp only read process state.
    let (fg, ours) = unsafe { (libc::tcgetpgrp(fd), libc::getpgrp()) };
    (fg > 0 && fg != ours).then_some(fg)
}

/// The terminal modes of `fd`, to put back if a killed checker left them changed.
fn save_modes(fd: c_int) -> Option<libc::termios> {
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal descriptor we own.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: see above.
    (unsafe { libc::tcgetattr(fd, &mut t) } == 0).then_some(t)
}

/// The decision for one command: 1 approve, 0 refuse; `message` for `*errstr` when refused.
fn decide(
    command_info: &[Vec<u8>],
    run_argv: &[Vec<u8>],
    run_envp: &[Vec<u8>],
) -> (c_int, Option<String>) {
    let (printf, options, invoker, noninteractive, break_glass) = match state().as_ref() {
        Some(s) => (
            s.printf,
            s.options.clone(),
            s.invoker.clone(),
            s.noninteractive,
            s.break_glass.clone(),
        ),
        None => return (1, None),
    };
    let argv0 = run_argv
        .first()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .unwrap_or_default();
    let mut argv = checker_argv(&options, &invoker, noninteractive, command_info, run_argv);
    if stdin_unseen() {
        // Before the `--`: `… sudo-check --stdin-unseen [flags] -- ARGV`.
        argv.insert(2, b"--stdin-unseen".to_vec());
    }
    let terminal = if noninteractive {
        None
    } else {
        open_terminal(invoker.tty.as_deref())
    };
    let limit = if terminal.is_some() {
        options.tty_timeout
    } else {
        options.timeout
    };
    let modes = terminal.and_then(save_modes);
    let tty = terminal.map(|fd| run::Terminal {
        fd,
        foreground: foreground_if_not_ours(fd),
    });
    let mut env = checker_env(run_envp);
    env.extend(break_glass);
    let answer = run::run(&argv, &env, tty, limit);
    if let Some(fd) = terminal {
        if let (Answer::Unavailable(_), Some(m)) = (&answer, modes) {
            // SAFETY: restoring modes read from this same terminal descriptor.
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, &m) };
        }
        // SAFETY: closing the descriptor open_terminal opened.
        unsafe { libc::close(fd) };
    }
    match answer {
        Answer::Approve(text) => {
            if !text.is_empty() {
                say(printf, sys::SUDO_CONV_ERROR_MSG, &text);
            }
            (1, None)
        }
        Answer::Refuse(text) => {
            if !text.is_empty() {
                say(printf, sys::SUDO_CONV_ERROR_MSG, &text);
            }
            let why = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("refused by prodguard")
                .to_string();
            (0, Some(why))
        }
        Answer::Unavailable(why) => {
            let line = format!(
                "prodguard checker unavailable: {why}; approved {argv0} (user {})",
                invoker
                    .user
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
            );
            syslog_crit(&line);
            say(
                printf,
                sys::SUDO_CONV_ERROR_MSG,
                &format!("prodguard: warning: {line}\n"),
            );
            (1, None)
        }
    }
}

unsafe extern "C" fn check(
    command_info: StringArray,
    run_argv: StringArray,
    run_envp: StringArray,
    errstr: *mut *const c_char,
) -> c_int {
    // SAFETY: sudo passes NULL-terminated string arrays valid for this call.
    let (info, argv, envp) = unsafe {
        (
            sys::strings(command_info),
            sys::strings(run_argv),
            sys::strings(run_envp),
        )
    };
    let (code, message) = match std::panic::catch_unwind(|| decide(&info, &argv, &envp)) {
        Ok(d) => d,
        Err(_) => {
            syslog_crit("approval plugin failed while checking; approved");
            (1, None)
        }
    };
    if let Some(m) = message.and_then(|m| CString::new(m).ok()) {
        let mut guard = state();
        if let Some(s) = guard.as_mut() {
            if !errstr.is_null() {
                // SAFETY: `errstr` is sudo's out pointer; the string lives in STATE until close.
                unsafe { *errstr = m.as_ptr() };
            }
            s.errstr = Some(m);
        }
    }
    code
}
