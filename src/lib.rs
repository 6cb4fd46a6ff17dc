//! prodguard: keeps humans from destroying production by accident, and records every decision.
//!
//! The data path reads top to bottom, and no module imports one above it:
//! `shell` → `sql` → `host` → `policy` → `decide` → `prompt` / `approval` → `audit`, with `cli`
//! on top wiring them together.

pub mod shell;
pub mod sql;
pub mod host;
pub mod policy;
pub mod decide;
pub mod audit;
pub mod cli;
