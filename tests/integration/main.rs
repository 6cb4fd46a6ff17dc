//! Integration tests of the prodguard binary. Each file is one concern.

#[path = "../support/daemon.rs"]
mod daemon;
#[allow(dead_code)]
#[path = "../support/golden.rs"]
mod golden_file;
mod util;

mod break_glass;
mod check_audit;
mod policy_authors;
mod policy_cli;
