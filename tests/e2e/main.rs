//! End-to-end tests of the prodguard binary: a real PostgreSQL server behind the guard, and the
//! question asked on a real pseudo-terminal. One target, so the helpers link once.

#[allow(dead_code)]
#[path = "../support/golden.rs"]
mod golden_file;
#[allow(dead_code)]
#[path = "../support/pty.rs"]
mod pty;
#[path = "../support/mod.rs"]
mod support;
mod util;

mod ansible_modules;
mod ask;
mod gitlab;
mod golden;
mod postgres;
mod sql_explain;
mod stdin_scripts;
