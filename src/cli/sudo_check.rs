//! `prodguard sudo-check [--user U --uid N --runas U --cwd DIR --tty PATH] -- ARGV…`: the
//! checker the sudo approval plugin (`sudo-plugin/`) runs before sudo runs ARGV. It judges ARGV
//! exactly as `prodguard -- ARGV` would (the same [`check::guard_via`] path), asks on the
//! terminal sudo was started from when the policy wants a human, and records the decision as the
//! invoking user's, reached via sudo. Exit 0: approve; 1: refuse, the reason on stderr.

use super::check;
use super::gate::Asking;
use super::{Global, EXIT_OK, EXIT_REFUSED, EXIT_USAGE};
use crate::audit::Record;
use crate::host::HostContext;
use clap::Args;

#[derive(Debug, Args)]
pub struct SudoCheckArgs {
    /// Ask nothing: sudo was run with -n (automation). What needs a human is refused.
    #[arg(long)]
    pub no_ask: bool,
    /// sudo's stdin, which the command reads, is a pipe or a file nobody has seen.
    #[arg(long)]
    pub stdin_unseen: bool,
    /// The user who ran sudo.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Their uid.
    #[arg(long, value_name = "N")]
    pub uid: Option<u32>,
    /// The user sudo runs the command as.
    #[arg(long, value_name = "USER")]
    pub runas: Option<String>,
    /// The directory the command runs in.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// The terminal sudo was started from.
    #[arg(long, value_name = "PATH")]
    pub tty: Option<String>,
    /// Seconds the plugin waits for this checker before it gives up: a question is answered
    /// (or times out, refusing) well before that, whatever host.toml's prompt timeout says.
    #[arg(long, value_name = "SECS")]
    pub within: Option<u64>,
    /// The command sudo is about to run, as its argv.
    #[arg(last = true, required = true, value_name = "ARGV")]
    pub argv: Vec<String>,
}

/// What sudo said about the command and who asked for it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SudoFacts {
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub runas: Option<String>,
    pub cwd: Option<String>,
    pub tty: Option<String>,
    /// No question may be asked (`sudo -n`).
    pub no_ask: bool,
}

impl SudoFacts {
    /// Analyse in the command's directory and judge the invoking user, not root.
    pub(crate) fn adjust(&self, ctx: &mut crate::shell::Context, host: &mut HostContext) {
        if let Some(cwd) = self.cwd.as_ref().filter(|c| c.starts_with('/')) {
            ctx.cwd = cwd.clone();
        }
        // The user's shell expanded `~` before sudo saw the words; sudo's HOME is not theirs.
        ctx.home = None;
        if let Some(user) = &self.user {
            let mut subject = crate::subject::Subject::for_user(user);
            subject.uid = subject.uid.or(self.uid);
            subject.interactive = Some(!self.no_ask && std::fs::File::open("/dev/tty").is_ok());
            subject.origin = crate::subject::Origin::Unknown;
            host.subject = subject;
        }
    }

    /// The record names the invoking user, their terminal and directory, and the run-as user.
    pub(crate) fn stamp(&self, rec: &mut Record) {
        if let Some(user) = &self.user {
            rec.user = user.clone();
            if let Some(uid) = self.uid {
                rec.uid = uid;
            }
            rec.login_user = rec.login_user.take().filter(|l| l != user);
        }
        if self.tty.is_some() {
            rec.tty = self.tty.clone();
        }
        if self.cwd.is_some() {
            rec.cwd = self.cwd.clone();
        }
        rec.detail = Some(format!(
            "sudo: run as {}",
            self.runas.as_deref().unwrap_or("root")
        ));
    }
}

pub fn run(global: &Global, args: &SudoCheckArgs) -> u8 {
    // Only root (sudo, through its plugin) may say that a command comes via sudo and whose it is.
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "prodguard: sudo-check is run by sudo's approval plugin, as root; see docs/sudo.md"
        );
        return EXIT_USAGE;
    }
    let facts = SudoFacts {
        user: args.user.clone(),
        uid: args.uid,
        runas: args.runas.clone(),
        cwd: args.cwd.clone(),
        tty: args.tty.clone(),
        no_ask: args.no_ask,
    };
    let command = crate::shell::quote::join(&args.argv);
    // Without a terminal the gate finds no /dev/tty and refuses what needs a human, saying why;
    // with `sudo -n` it does not look for one.
    let asking = Asking {
        interactive: !args.no_ask,
        limit: args
            .within
            .map(|s| std::time::Duration::from_secs(s.saturating_sub(10).max(1))),
        ..Asking::default()
    };
    let guarded = check::guard_via(
        global,
        &command,
        asking,
        false,
        args.stdin_unseen,
        Some(&facts),
    );
    if !guarded.run {
        return EXIT_REFUSED;
    }
    // A root shell starts with the banner, as a login does: where you are, before you type.
    if !args.no_ask && starts_shell(&args.argv) && std::fs::File::open("/dev/tty").is_ok() {
        let (host, policy) = super::load(global);
        let colour = crate::prompt::colour_enabled(true);
        let warnings = super::show::banner_warnings(&policy);
        eprint!(
            "{}",
            crate::prompt::render_banner(&host, &policy.digest, &warnings, colour)
        );
    }
    EXIT_OK
}

/// Whether `argv` starts an interactive shell: `sudo -i` (`-bash`), `sudo -s`, `sudo bash`,
/// `sudo su -`; not `sh -c CMD` or a script.
fn starts_shell(argv: &[String]) -> bool {
    const SHELLS: [&str; 10] = [
        "bash", "sh", "dash", "zsh", "ksh", "mksh", "fish", "tcsh", "csh", "su",
    ];
    let Some(first) = argv.first() else {
        return false;
    };
    let program = first
        .rsplit('/')
        .next()
        .unwrap_or(first)
        .trim_start_matches('-');
    if !SHELLS.contains(&program) {
        return false;
    }
    let rest = &argv[1..];
    if program == "su" {
        return !rest.iter().any(|a| a == "-c" || a.starts_with("--command"));
    }
    rest.iter().all(|a| {
        a.starts_with('-') && a != "-c" && !(a.len() > 2 && !a.starts_with("--") && a.contains('c'))
    })
}

#[cfg(test)]
mod tests {
    use super::starts_shell;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn knows_a_shell_from_a_command() {
        for yes in [
            &["-bash"][..],
            &["/bin/bash"],
            &["bash", "-l"],
            &["su", "-"],
            &["zsh", "-i"],
        ] {
            assert!(starts_shell(&v(yes)), "{yes:?}");
        }
        for no in [
            &["-bash", "-c", "rm x"][..],
            &["sh", "script.sh"],
            &["bash", "-lc", "ls"],
            &["su", "-", "-c", "ls"],
            &["ls"],
            &[],
        ] {
            assert!(!starts_shell(&v(no)), "{no:?}");
        }
    }
}
