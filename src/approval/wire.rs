//! The approval operations of the audit service's socket: what a client asks and what the
//! service answers. Types only; the transport is the audit service's (one line of JSON each
//! way), the service side is `daemon::approvals` and the client side `guard::spool_client`.
//!
//! ```text
//! → {"op":"approval-file","request":"<canonical request>","exact":{"key":…,"command":…}}
//! → {"op":"approval-list","all":false}
//! → {"op":"approval-show","id":"<short id, prefix or full id>"}
//! → {"op":"approval-approve","id":…}          approve as the caller
//! → {"op":"approval-deny","id":…,"reason":…}  deny, or withdraw one's own request
//! → {"op":"approval-sign","id":…,"signature":"<armored SSH signature>"}
//! → {"op":"approval-use","id":…}              consume an approved request, once
//! ← {"ok":true,"v":2,"entries":[{"request":"<canonical>","status":{…},"ignored":[…]}]}
//! → {"op":"origin"}                            where the caller's session comes from
//! ← {"ok":true,"v":2,"origin":{"kind":"ssh","address":"10.0.0.5"}}
//! ← {"ok":false,"v":2,"error":"a sentence"}
//! ```
//!
//! Every operation is judged as the caller the kernel names (`SO_PEERCRED`), never as anything
//! the request says. The operations are new in version [`VERSION`] of the socket's protocol; a
//! service of version 1 (audit records only) answers them with `not a request` and closes the
//! connection, which the client reports as a service too old to hold the spool. `origin` is
//! newer still: a service without it answers `not a request`, and the caller takes the origin
//! as unknown.
#![forbid(unsafe_code)]

use super::request::Exact;
use super::spool::{Approver, Status};
use crate::subject::Origin;
use serde::{Deserialize, Serialize};

/// The protocol version of the socket that carries these operations.
pub const VERSION: u32 = 2;

/// Prefix of every approval operation's `op`.
pub const OP_PREFIX: &str = "approval-";

/// An approval operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Op {
    /// File `request` (its canonical text), exactly as sent: the service refuses a request whose
    /// `user` and `uid` are not the caller's, or that it would otherwise have to change, so the
    /// answer's id is the sha256 of these bytes. `exact` is the exact command line of a
    /// redacted request.
    ApprovalFile {
        request: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exact: Option<Exact>,
    },
    /// The requests the caller may see (live ones, or every one with `all`).
    ApprovalList {
        #[serde(default)]
        all: bool,
    },
    /// One request, by what a person typed.
    ApprovalShow { id: String },
    /// Approve as the caller.
    ApprovalApprove { id: String },
    /// Deny as an approver, or withdraw as the requester.
    ApprovalDeny { id: String, reason: String },
    /// Attach an SSH signature to the caller's own request.
    ApprovalSign { id: String, signature: String },
    /// Consume the caller's approved request: exactly one caller ever succeeds.
    ApprovalUse { id: String },
    /// Where the caller's session comes from, as the service finds it from the kernel: the
    /// client address of the system sshd above the caller, local, or unknown. Policy `ssh`
    /// conditions are decided on it, never on the caller's environment.
    Origin {},
}

/// A request as the caller may see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The request's id (the sha256 of its canonical bytes as filed).
    pub id: String,
    /// The request (its command has any secret replaced by `***`; to anybody but the
    /// requester also a secret filed in clear by an older version).
    pub request: String,
    /// The exact command line: only to the requester, only for a redacted request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<Exact>,
    /// Where it stands, judged by the service's approver rules.
    pub status: Status,
    /// Evidence looked at and not counted, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// The service's answer to an approval operation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answer {
    /// Whether the operation was carried out.
    pub ok: bool,
    /// The protocol version of the service.
    #[serde(default)]
    pub v: u32,
    /// Why not, as a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The requests concerned (file, list, show, use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Entry>,
    /// Who the caller counts as (approve, deny, sign), or who approved (use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<Approver>,
    /// Where the caller's session comes from (origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl Answer {
    /// A refusal saying `why`.
    pub fn refused(why: impl Into<String>) -> Answer {
        Answer {
            ok: false,
            v: VERSION,
            error: Some(why.into()),
            ..Answer::default()
        }
    }

    /// The caller's `origin`.
    pub fn origin(origin: Origin) -> Answer {
        Answer {
            ok: true,
            v: VERSION,
            origin: Some(origin),
            ..Answer::default()
        }
    }

    /// Success with `entries`.
    pub fn entries(entries: Vec<Entry>) -> Answer {
        Answer {
            ok: true,
            v: VERSION,
            entries,
            ..Answer::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_tagged_and_unknown_members_refused() {
        let line = serde_json::to_string(&Op::ApprovalUse { id: "abc".into() }).unwrap_or_default();
        assert_eq!(line, "{\"op\":\"approval-use\",\"id\":\"abc\"}");
        assert!(line.contains(OP_PREFIX));
        let forged = "{\"op\":\"approval-use\",\"id\":\"abc\",\"uid\":0}";
        assert!(serde_json::from_str::<Op>(forged).is_err());
        let list: Op = serde_json::from_str("{\"op\":\"approval-list\"}")
            .unwrap_or(Op::ApprovalShow { id: String::new() });
        assert!(matches!(list, Op::ApprovalList { all: false }));
        let origin = serde_json::to_string(&Op::Origin {}).unwrap_or_default();
        assert_eq!(origin, "{\"op\":\"origin\"}");
        // The caller cannot tell the service where it comes from.
        let claimed = "{\"op\":\"origin\",\"address\":\"10.0.0.1\"}";
        assert!(serde_json::from_str::<Op>(claimed).is_err());
        let a = Answer::origin(Origin::Ssh(
            "10.0.0.5"
                .parse()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()),
        ));
        let line = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(
            line,
            "{\"ok\":true,\"v\":2,\"origin\":{\"kind\":\"ssh\",\"address\":\"10.0.0.5\"}}"
        );
        let back: Answer = serde_json::from_str(&line).unwrap_or_default();
        assert_eq!(back.origin, a.origin);
    }
}
