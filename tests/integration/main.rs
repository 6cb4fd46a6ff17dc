//! Integration tests of the prodguard binary. Each file is one concern.

mod util;

mod break_glass;
mod check_audit;
mod policy_authors;
mod policy_cli;
