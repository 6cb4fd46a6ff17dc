//! Integration tests of the prodguard binary. Each file is one concern.

#[allow(dead_code)]
#[path = "../support/golden.rs"]
mod golden_file;
#[path = "../support/daemon.rs"]
mod daemon;
mod util;

mod break_glass;
mod check_audit;
mod policy_authors;
mod policy_cli;
