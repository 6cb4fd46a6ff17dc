//! Integration tests of the prodguard binary. Each file is one concern.

mod util;

mod policy_cli;
