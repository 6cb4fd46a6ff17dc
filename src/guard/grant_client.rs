//! Break-glass grants as a client sees them: every operation is a request to the audit service,
//! which holds the grants (see [`crate::audit::grant_wire::GrantOp`] and `daemon::grants`). The
//! service binds a grant to the calling process as the kernel names it, so nothing this client
//! sends can make a grant cover another user or another session.

use crate::audit::grant_wire::{GrantAnswer, GrantInfo, GrantOp};
use crate::audit::service::ServiceSink;
use crate::audit::Record;
use crate::host::HostContext;
use std::path::Path;

/// The grants, through the audit service.
#[derive(Debug)]
pub struct GrantClient {
    sink: ServiceSink,
}

impl GrantClient {
    /// The grants held by the service at `socket`. Nothing is connected until the first call.
    pub fn at(socket: &Path) -> GrantClient {
        GrantClient {
            sink: ServiceSink::new(socket),
        }
    }

    /// The grants of this host's audit service (host.toml's `[audit] socket`).
    pub fn for_host(host: &HostContext) -> GrantClient {
        GrantClient::at(&crate::audit::service_socket(host))
    }

    fn call(&self, op: &GrantOp, patient: bool) -> Result<GrantInfo, String> {
        let line = self
            .sink
            .call_json(op, patient)
            .map_err(|e| format!("break-glass grants are held by the audit service, and {e}"))?;
        let answer: GrantAnswer = serde_json::from_slice(&line).map_err(|e| {
            format!(
                "the audit service at {} answered something that is not an answer ({e})",
                self.sink.socket().display()
            )
        })?;
        match (answer.ok, answer.grant) {
            (true, Some(g)) => Ok(g),
            _ => Err(answer
                .error
                .unwrap_or_else(|| "the audit service refused".to_string())),
        }
    }

    /// Start a grant held by this process for `reason`, with `record` as the start record's
    /// base. The service writes the record; no grant without it.
    pub fn start(&self, reason: &str, record: Record) -> Result<GrantInfo, String> {
        self.call(
            &GrantOp::BreakGlassStart {
                reason: reason.to_string(),
                record: Some(Box::new(record)),
            },
            true,
        )
    }

    /// The grant `id`, when it covers this process.
    pub fn check(&self, id: &str) -> Result<GrantInfo, String> {
        self.call(&GrantOp::BreakGlassCheck { id: id.to_string() }, false)
    }

    /// End the grant `id`.
    pub fn end(&self, id: &str) -> Result<GrantInfo, String> {
        self.call(&GrantOp::BreakGlassEnd { id: id.to_string() }, true)
    }
}
