//! The approval spool as a client sees it: every operation is a request to the audit service,
//! which holds the spool (see [`crate::approval::wire`] and `daemon::approvals`). No process but
//! the service opens the spool, so the user's prodguard needs no privilege for approvals.
//!
//! When the service cannot be reached, every operation fails with
//! [`ApprovalError::Unavailable`], a sentence naming the socket and how to start the service;
//! a command that needs approval is then refused, nothing else is affected.

use crate::approval::request::Exact;
use crate::approval::spool::{Approver, Status};
use crate::approval::wire::{Answer, Entry, Op, VERSION};
use crate::approval::{ApprovalError, Request};
use crate::audit::service::ServiceSink;
use crate::audit::AuditError;
use crate::host::HostContext;
use std::path::Path;

/// A request as the service showed it to this caller.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The request's id.
    pub id: String,
    /// The request; to anybody but its requester with every secret replaced.
    pub req: Request,
    /// The exact command line of a redacted request, to its requester only.
    pub exact: Option<Exact>,
    /// Where it stands.
    pub status: Status,
    /// Evidence not counted, and why.
    pub ignored: Vec<String>,
}

impl Shown {
    fn from_entry(e: Entry) -> Result<Shown, ApprovalError> {
        let req: Request = serde_json::from_str(e.request.trim_end()).map_err(|err| {
            ApprovalError::BadRequest(format!(
                "the service sent a request that is not one ({err})"
            ))
        })?;
        Ok(Shown {
            id: e.id,
            req,
            exact: e.exact,
            status: e.status,
            ignored: e.ignored,
        })
    }
}

/// The spool, through the audit service.
#[derive(Debug)]
pub struct SpoolClient {
    sink: ServiceSink,
}

impl SpoolClient {
    /// The spool held by the service at `socket`. Nothing is connected until the first call.
    pub fn at(socket: &Path) -> SpoolClient {
        SpoolClient {
            sink: ServiceSink::new(socket),
        }
    }

    /// The spool of this host's audit service (host.toml's `[audit] socket`).
    pub fn for_host(host: &HostContext) -> SpoolClient {
        SpoolClient::at(&crate::audit::service_socket(host))
    }

    /// The service's socket.
    pub fn socket(&self) -> &Path {
        self.sink.socket()
    }

    fn unavailable(&self, e: &AuditError) -> ApprovalError {
        ApprovalError::Unavailable(format!(
            "the approval spool is kept by the audit service, and {e}"
        ))
    }

    fn call(&self, op: &Op) -> Result<Answer, ApprovalError> {
        let line = self
            .sink
            .call_json(op, true)
            .map_err(|e| self.unavailable(&e))?;
        let answer: Answer = serde_json::from_slice(&line).map_err(|e| {
            ApprovalError::Unavailable(format!(
                "the audit service at {} answered something that is not an answer ({e})",
                self.socket().display()
            ))
        })?;
        if answer.v < VERSION {
            return Err(ApprovalError::Unavailable(format!(
                "the audit service at {} is older than this prodguard and does not keep the approval spool; restart it: systemctl restart prodguard.service",
                self.socket().display()
            )));
        }
        if !answer.ok {
            let why = answer
                .error
                .unwrap_or_else(|| "the audit service refused".to_string());
            return Err(ApprovalError::Refused(why));
        }
        Ok(answer)
    }

    fn first(&self, op: &Op) -> Result<(Shown, Vec<Approver>), ApprovalError> {
        let a = self.call(op)?;
        let e = a.entries.into_iter().next().ok_or_else(|| {
            ApprovalError::Unavailable("the audit service answered without the request".into())
        })?;
        Ok((Shown::from_entry(e)?, a.approvers))
    }

    /// File `req` (with `exact`, the exact command of a redacted request). Returns the request
    /// as filed: the service puts in the caller's own user and uid.
    pub fn file(&self, req: &Request, exact: Option<&Exact>) -> Result<Shown, ApprovalError> {
        let op = Op::ApprovalFile {
            request: String::from_utf8_lossy(&req.canonical()).into_owned(),
            exact: exact.cloned(),
        };
        self.first(&op).map(|(s, _)| s)
    }

    /// The requests this user may see: live ones, or all with `all`, oldest first.
    pub fn list(&self, all: bool) -> Result<Vec<Shown>, ApprovalError> {
        self.call(&Op::ApprovalList { all })?
            .entries
            .into_iter()
            .map(Shown::from_entry)
            .collect()
    }

    /// One request, by its short id, a unique prefix or its full id.
    pub fn show(&self, typed: &str) -> Result<Shown, ApprovalError> {
        self.first(&Op::ApprovalShow {
            id: typed.to_string(),
        })
        .map(|(s, _)| s)
    }

    /// Approve as this user; returns the request and who this user counts as.
    pub fn approve(&self, id: &str) -> Result<(Shown, Option<Approver>), ApprovalError> {
        self.first(&Op::ApprovalApprove { id: id.to_string() })
            .map(|(s, a)| (s, a.into_iter().next()))
    }

    /// Deny (or, as the requester, withdraw) with `reason`.
    pub fn deny(&self, id: &str, reason: &str) -> Result<Shown, ApprovalError> {
        self.first(&Op::ApprovalDeny {
            id: id.to_string(),
            reason: reason.to_string(),
        })
        .map(|(s, _)| s)
    }

    /// Attach an SSH signature to this user's request; returns who signed.
    pub fn sign(&self, id: &str, signature: &str) -> Result<Option<Approver>, ApprovalError> {
        self.first(&Op::ApprovalSign {
            id: id.to_string(),
            signature: signature.to_string(),
        })
        .map(|(_, a)| a.into_iter().next())
    }

    /// Consume this user's approved request: only one caller ever succeeds. Returns who
    /// approved.
    pub fn consume(&self, id: &str) -> Result<Vec<Approver>, ApprovalError> {
        self.first(&Op::ApprovalUse { id: id.to_string() })
            .map(|(_, a)| a)
    }
}
