//! Asking the real shell whether it accepts a line the parser rejected.
//!
//! A line bash rejects runs nothing: bash prints its own syntax error. Asking the engineer to
//! type the hostname for it only teaches them to type it. So when brush-parser rejects a line,
//! the shell the line is meant for (`PRODGUARD_SHELL` in the environment, else bash) checks it
//! with `-n` (read, do not execute), with an empty environment (no `BASH_ENV`, no startup files)
//! and a time bound. Only a line that shell accepts while the guard cannot read it fails closed.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the shell may take to read a line before the answer counts as unknown.
const TIMEOUT: Duration = Duration::from_millis(1000);

/// What the real shell said about a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// It reads the text without a syntax error.
    Accepts,
    /// It rejects the text: its first line of complaint.
    Rejects(String),
    /// It could not be asked (not installed, killed at the time bound).
    Unknown,
}

/// The shell named by `name` (`bash`, `zsh`, or a path ending in one of them), at a fixed path:
/// `PATH` is the user's to change, the checker's answer must not be.
fn shell_path(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let (candidates, args): (&[&'static str], &'static [&'static str]) = match base {
        "zsh" => (&["/bin/zsh", "/usr/bin/zsh"], &["-f", "-n"]),
        "bash" | "" => (&["/bin/bash", "/usr/bin/bash"], &["-n"]),
        _ => return None,
    };
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| (*p, args))
}

/// Asks `shell` (`bash` or `zsh`) whether it accepts `text`.
pub(crate) fn ask(text: &str, shell: &str) -> Answer {
    let Some((path, args)) = shell_path(shell) else {
        return Answer::Unknown;
    };
    let child = Command::new(path)
        .args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return Answer::Unknown;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A shell that stops reading early closes the pipe: its answer still counts.
        let _ = stdin.write_all(text.as_bytes());
    }
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < TIMEOUT => std::thread::sleep(Duration::from_millis(1)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Answer::Unknown;
            }
        }
    };
    if status.success() {
        return Answer::Accepts;
    }
    if status.code().is_none() {
        return Answer::Unknown;
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let first = err.lines().next().unwrap_or("syntax error").trim();
    // `/bin/bash: line 1: syntax error …` → `line 1: syntax error …`.
    let msg = first
        .strip_prefix(path)
        .or_else(|| first.strip_prefix(path.rsplit('/').next().unwrap_or(path)))
        .map_or(first, |m| m.trim_start_matches(':').trim_start());
    Answer::Rejects(msg.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_is_asked_and_answers() {
        if shell_path("bash").is_none() {
            assert!(std::env::var_os("CI").is_none(), "bash is not installed");
            return;
        }
        assert_eq!(ask("echo ok", "bash"), Answer::Accepts);
        match ask("echo a &;", "bash") {
            Answer::Rejects(m) => assert!(m.contains("syntax error"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(ask("grep 'foo bar", "bash"), Answer::Rejects(_)));
        assert_eq!(ask("echo ok", "fish"), Answer::Unknown);
    }
}
