//! prodguard: keeps humans from destroying production by accident, and records every decision.
//!
//! The data path reads top to bottom, and no module imports one below it in this list:
//! `privilege` gives up a setgid group the binary was installed with before anything runs,
//! `clients` holds the option table of every program whose command line is read (one
//! `ClientSpec` a program, shared by every layer below), `sql` and `shell` read the command,
//! `subject` says who is asking and `host` where, `policy` and `decide` judge it, `precondition` checks what a rule requires first, `prompt` asks
//! the human, `approval` asks a second one, `session` runs an interactive database client
//! statement by statement (judged through a trait it is given), `audit` records it (through the
//! audit service, `daemon`, where it is installed), `guard` is the one path from a command to a
//! decision acted on and recorded (docs/design.md, "The spine"), `login` is the login shell built
//! on it, and `cli` parses, dispatches and prints.

// No `unwrap`/`expect` outside tests: input never panics the guard (`clippy -D warnings`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod privilege;

pub mod clients;

pub mod sql;

pub mod shell;

pub mod subject;

pub mod host;

pub mod policy;

pub mod decide;

pub mod precondition;

pub mod prompt;

pub mod approval;

pub mod session;

pub mod audit;

pub mod daemon;

pub mod guard;

pub mod login;

pub mod cli;
