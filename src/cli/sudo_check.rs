//! `prodguard sudo-check [--user U --uid N --runas U --cwd DIR --tty PATH] -- ARGV…`: the
//! checker the sudo approval plugin (`sudo-plugin/`) runs before sudo runs ARGV. It judges ARGV
//! exactly as `prodguard -- ARGV` would (the guard's one path, with [`SudoFacts`]), asks on the
//! terminal sudo was started from when the policy wants a human, and records the decision as the
//! invoking user's, reached via sudo. Exit 0: approve; 1: refuse, the reason on stderr.

use super::check;
use super::error::{Error, Status};
use super::{Global, EXIT_OK, EXIT_REFUSED};
use crate::guard::{Asking, Context, SudoFacts};
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

pub fn run(global: &Global, args: &SudoCheckArgs) -> Status {
    // Only root (sudo, through its plugin) may say that a command comes via sudo and whose it is.
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::Usage(
            "sudo-check is run by sudo's approval plugin, as root; see docs/sudo.md".into(),
        ));
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
    let guard = super::guard(global);
    let ctx = Context {
        stdin_unseen: args.stdin_unseen,
        sudo: Some(facts),
        ..Context::here()
    };
    if !check::guarded(&guard, &command, &ctx, asking, false).1 {
        return Ok(EXIT_REFUSED);
    }
    // A root shell starts with the banner, as a login does: where you are, before you type.
    if !args.no_ask && starts_shell(&args.argv) && std::fs::File::open("/dev/tty").is_ok() {
        let (host, policy) = (guard.host(), guard.policy());
        let colour = crate::prompt::colour_enabled(true);
        let warnings = crate::guard::banner_warnings(policy);
        eprint!(
            "{}",
            crate::prompt::render_banner(host, &policy.digest, &warnings, colour)
        );
    }
    Ok(EXIT_OK)
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
