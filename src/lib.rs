//! prodguard: keeps humans from destroying production by accident, and records every decision.
//!
//! The data path reads top to bottom, and no module imports one below it in this list:
//! `sql` and `shell` read the command, `host` says where we are, `subject` who is asking, `policy` and `decide` judge it,
//! `prompt` asks the human, `audit` records it, and `cli` wires them together.

pub mod sql;

pub mod shell;

pub mod host;

pub mod subject;

pub mod policy;

pub mod decide;

pub mod prompt;

pub mod audit;

pub mod cli;
