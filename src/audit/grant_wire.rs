//! The break-glass operations of the audit service's socket: what a client asks and what the
//! service answers. Types only; the service side is `daemon::grants`, the client side
//! `guard::grant_client`. They travel the same socket as the records and the approval
//! operations ([`crate::approval::wire`]), one line of JSON each way:
//!
//! ```text
//! → {"op":"break-glass-start","reason":…,"record":{…}}   start a grant for the calling process
//! → {"op":"break-glass-check","id":"<grant id>"}   does the grant cover the caller?
//! → {"op":"break-glass-end","id":"<grant id>"}     end it (the session's shell has exited)
//! ← {"ok":true,"v":2,"grant":{"id":…,"reason":…,"expires":"2026-12-03T16:50:00.000Z"}}
//! ```
#![forbid(unsafe_code)]

use crate::approval::wire::VERSION;
use serde::{Deserialize, Serialize};

/// A break-glass operation. The grant's holder is the calling process as the kernel names it
/// (uid, pid, and the pid's start time from `/proc`), never anything the request says.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GrantOp {
    /// Start a grant held by the caller, for `reason`. The service writes the start record
    /// (from `record`, the client's own, when given: its session and policy digest), and
    /// refuses the grant when it cannot.
    BreakGlassStart {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<Box<super::Record>>,
    },
    /// Whether grant `id` covers the caller: same uid, the grant's process is the caller or one
    /// of its parents, and it has not expired.
    BreakGlassCheck { id: String },
    /// End grant `id`: its session is over.
    BreakGlassEnd { id: String },
}

/// A grant as the service describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInfo {
    /// The grant's id: the value of the marker variable of its session.
    pub id: String,
    /// The reason given when it started.
    pub reason: String,
    /// When it lapses, RFC 3339 UTC.
    pub expires: String,
}

/// The service's answer to a break-glass operation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GrantAnswer {
    /// Whether the operation was carried out (for a check: whether the grant covers the caller).
    pub ok: bool,
    /// The protocol version of the service.
    #[serde(default)]
    pub v: u32,
    /// Why not, as a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The grant concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantInfo>,
}

impl GrantAnswer {
    /// A refusal saying `why`.
    pub fn refused(why: impl Into<String>) -> GrantAnswer {
        GrantAnswer {
            ok: false,
            v: VERSION,
            error: Some(why.into()),
            grant: None,
        }
    }

    /// Success, about `grant`.
    pub fn granted(grant: GrantInfo) -> GrantAnswer {
        GrantAnswer {
            ok: true,
            v: VERSION,
            error: None,
            grant: Some(grant),
        }
    }
}
