//! Root shells opened at a guarded prompt: `sudo -i`, `sudo su -`, `su -`, `sudo bash`.
//!
//! Each of them starts a shell of its own (root's login shell from the password database, or the
//! shell named), which the login shell's guard never sees: what is typed there would not be
//! judged. Typed at a guarded prompt, the line is run as its guarded equivalent instead, the same
//! root shell with this binary as the shell, so that shell shows the banner and loads the
//! integration as the login did:
//!
//! | typed                                  | run                                |
//! |----------------------------------------|------------------------------------|
//! | `sudo -i`                              | `sudo -i BIN` (root's login environment, then the guard) |
//! | `sudo su -`, `sudo su -l`, `sudo su` … | `sudo su - -s BIN` (`su` without `-`: `sudo su -s BIN`) |
//! | `su -`, `su`, `su - root` …            | `su - -s BIN` (`su -s BIN`)         |
//! | `sudo bash`, `sudo sh`, `sudo zsh` …   | `sudo BIN`                          |
//! | `sudo -s` with `$SHELL` not the guard  | `SHELL=BIN sudo -s`                 |
//!
//! `sudo -u root` may come first; `sudo -s` with `$SHELL` the guard (a guarded login) is already
//! guarded and is left as typed. Anything else (options, a command, another user, redirections,
//! several commands) is left as typed: it is judged and warned about like any other line, and its
//! shell is not guarded.

use std::path::Path;

/// A root shell typed at the prompt and the line that opens it guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootShell {
    /// Which root shell, as the audit record names it (`sudo -i`, `sudo su -`, `su -`,
    /// `sudo bash`, `sudo -s`).
    pub kind: String,
    /// The line to run instead.
    pub line: String,
}

impl RootShell {
    /// What the record of the typed line says about it.
    pub fn detail(&self) -> String {
        format!(
            "root shell `{}` started guarded, as `{}`",
            self.kind, self.line
        )
    }
}

/// Shells `sudo SHELL` starts as root.
const SHELLS: &[&str] = &[
    "bash", "sh", "dash", "zsh", "ksh", "mksh", "fish", "tcsh", "csh",
];

/// The guarded equivalent of `line` when it opens a root shell, for the guard at `bin`;
/// `shell_env` is `$SHELL` of the prompt it was typed at.
pub fn guarded(line: &str, bin: &str, shell_env: Option<&str>) -> Option<RootShell> {
    // Plain words only: anything a shell would expand, redirect or split is not a bare root
    // shell, and is left as typed.
    let plain = line
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" \t-_./=".contains(&b));
    if !plain {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let q = crate::shell::quote::quote(bin);
    let (sudo, rest): (bool, &[&str]) = match words.as_slice() {
        ["sudo", "-u" | "--user", "root", rest @ ..] | ["sudo", "--user=root", rest @ ..] => {
            (true, rest)
        }
        ["sudo", rest @ ..] => (true, rest),
        all @ ["su", ..] => (false, all),
        _ => return None,
    };
    let (kind, run) = match rest {
        ["-i"] | ["--login"] if sudo => ("sudo -i".to_string(), format!("sudo -i {q}")),
        ["-s"] | ["--shell"] if sudo => {
            if shell_env.is_some_and(|s| is_guard(s, bin)) {
                return None;
            }
            ("sudo -s".to_string(), format!("SHELL={q} sudo -s"))
        }
        ["su", su @ ..] => {
            let login = match su {
                [] | ["root"] => false,
                ["-" | "-l" | "--login"] | ["-" | "-l" | "--login", "root"] => true,
                _ => return None,
            };
            let typed = if login { "su -" } else { "su" };
            let guarded = if login {
                format!("su - -s {q}")
            } else {
                format!("su -s {q}")
            };
            if sudo {
                (format!("sudo {typed}"), format!("sudo {guarded}"))
            } else {
                (typed.to_string(), guarded)
            }
        }
        [shell] if sudo && SHELLS.contains(&shell_name(shell)) => {
            (format!("sudo {shell}"), format!("sudo {q}"))
        }
        _ => return None,
    };
    Some(RootShell { kind, line: run })
}

/// The name of a shell given as a name or a path (`/bin/bash`).
fn shell_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Whether `shell` (`$SHELL`) is the guard at `bin`.
fn is_guard(shell: &str, bin: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    if shell == bin || shell_name(shell) == "prodguard" {
        return true;
    }
    match (std::fs::metadata(Path::new(shell)), std::fs::metadata(bin)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIN: &str = "/usr/bin/prodguard";

    fn run(line: &str) -> Option<(String, String)> {
        guarded(line, BIN, Some("/usr/bin/prodguard")).map(|r| (r.kind, r.line))
    }

    fn pair(kind: &str, line: &str) -> Option<(String, String)> {
        Some((kind.to_string(), line.to_string()))
    }

    #[test]
    fn root_shells_get_the_guard() {
        assert_eq!(
            run("sudo -i"),
            pair("sudo -i", "sudo -i /usr/bin/prodguard")
        );
        assert_eq!(
            run("  sudo -u root -i "),
            pair("sudo -i", "sudo -i /usr/bin/prodguard")
        );
        assert_eq!(
            run("sudo su -"),
            pair("sudo su -", "sudo su - -s /usr/bin/prodguard")
        );
        assert_eq!(
            run("sudo su -l root"),
            pair("sudo su -", "sudo su - -s /usr/bin/prodguard")
        );
        assert_eq!(
            run("sudo su"),
            pair("sudo su", "sudo su -s /usr/bin/prodguard")
        );
        assert_eq!(run("su -"), pair("su -", "su - -s /usr/bin/prodguard"));
        assert_eq!(run("su root"), pair("su", "su -s /usr/bin/prodguard"));
        assert_eq!(
            run("sudo bash"),
            pair("sudo bash", "sudo /usr/bin/prodguard")
        );
        assert_eq!(
            run("sudo /usr/bin/zsh"),
            pair("sudo /usr/bin/zsh", "sudo /usr/bin/prodguard")
        );
        // A binary in a path with a space is quoted in the line.
        let r = guarded("sudo -i", "/opt/my tools/prodguard", None).map(|r| r.line);
        assert_eq!(r.as_deref(), Some("sudo -i '/opt/my tools/prodguard'"));
    }

    #[test]
    fn sudo_s_is_left_alone_when_shell_is_the_guard() {
        assert_eq!(run("sudo -s"), None);
        assert_eq!(
            guarded("sudo -s", BIN, Some("/bin/bash")).map(|r| r.line),
            Some("SHELL=/usr/bin/prodguard sudo -s".to_string())
        );
    }

    #[test]
    fn anything_else_is_left_as_typed() {
        for line in [
            "sudo -i ls",
            "sudo bash -c 'rm -rf /'",
            "sudo -u postgres -i",
            "su - postgres",
            "sudo -E -s",
            "sudo -i; rm -rf /x",
            "sudo -i > /tmp/x",
            "sudo $SHELL",
            "bash",
            "sudo ls",
            "sudo su - -s /bin/sh",
            "",
        ] {
            assert_eq!(run(line), None, "{line}");
        }
    }
}
