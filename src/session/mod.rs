//! Guarded interactive database sessions: `prodguard sql -- psql …`.
//!
//! The client runs on a pseudo-terminal prodguard holds the master of. The user's keystrokes are
//! read from the real terminal in raw mode and edited here ([`editor`]); nothing reaches the
//! client until a statement is complete by the client's own rules (`;`, `\g`, a meta-command
//! line for psql; every line for redis-cli). The complete input is then handed to a [`Judge`]
//! (the caller: classification, policy, question, audit record), and written to the client only
//! if the judge says so. What the client prints passes through untouched, except the pty's echo
//! of the input prodguard wrote, which was already shown while it was typed.
//!
//! Three input modes, chosen per keystroke from the client terminal's modes:
//! * canonical with echo — the client is reading a statement: prodguard's line editor;
//! * canonical without echo — the client is reading a password: keystrokes pass straight through
//!   and are never shown or classified;
//! * non-canonical — a pager or editor the client started owns the terminal: keystrokes pass
//!   through. The client's own line editor is switched off ([`client`]), so a client never reads
//!   statements this way.
//!
//! The module knows nothing of policy or audit: the judge does (see `cli/sql_cmd.rs`).

pub mod client;
pub mod editor;
mod pty;

pub use client::{prepare, Client, Family, PrepareError, Target};
pub use pty::{run, spawn_piped, SessionEnd, MAX_LINE};

/// Lets a judge put the user's terminal back in its normal modes before it prints or asks.
pub trait Pause {
    /// Restore the terminal's original modes until the judge returns. Idempotent.
    fn cooked(&mut self);
}

/// Decides on each complete piece of input before the client sees it.
pub trait Judge {
    /// Whether `text` (one or more complete statements, as typed, without the final newline)
    /// may be sent to `client`. Before printing anything or asking, call `term.cooked()`.
    fn judge(&mut self, text: &str, client: &Client, term: &mut dyn Pause) -> bool;
}
