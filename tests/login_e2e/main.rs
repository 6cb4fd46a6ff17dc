//! End to end: prodguard as the login shell of a real user behind a real sshd, and the shell
//! integration in real bash and zsh under a pseudo-terminal.
//!
//! The sshd tests need root (they create a user, removed again when the test ends) and the
//! Debian packages openssh-server, openssh-client, rsync; the shell tests need bash, zsh and
//! shellcheck. `scripts/test` installs them. A test that cannot run says `skipped` and why, and
//! under `CI=true` it fails instead.

mod common;
#[path = "../support/daemon.rs"]
mod daemon;
mod install;
#[allow(dead_code)]
#[path = "../support/pty.rs"]
mod pty;
mod shells;
mod ssh;
mod sshd;
#[path = "../support/stdin.rs"]
mod stdin_feed;
#[path = "../support/mod.rs"]
mod support;
