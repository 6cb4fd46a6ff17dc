//! Where the session comes from, for policy `ssh` conditions.
//!
//! `SSH_CONNECTION` and `SSH_CLIENT` are the user's to set (`SSH_CONNECTION='10.0.0.1 1 2 3'
//! cmd`), so policy never decides on them. When a rule in force has an `ssh` condition, the
//! guard asks the audit service (`{"op":"origin"}`, see [`crate::approval::wire`]), which
//! takes the caller's pid from the kernel (`SO_PEERCRED`) and finds the client address from
//! the system's sshd above it (`daemon::peer`). When the service cannot be asked, the origin
//! is unknown, and an unknown origin never makes a rule stop applying and never grants an
//! exemption (`policy::when`). Policies without `ssh` conditions make no round trip; the
//! origin from the environment then stays on the subject as advisory only.

use crate::approval::wire::{Answer, Op};
use crate::audit::service::ServiceSink;
use crate::host::HostContext;
use crate::policy::PolicySet;
use crate::subject::Origin;
use std::path::Path;

/// The caller's origin as the service at `socket` finds it; unknown when it cannot be asked,
/// refuses, or does not know the operation.
pub fn from_service(socket: &Path) -> Origin {
    let sink = ServiceSink::new(socket);
    sink.call_json(&Op::Origin {}, false)
        .ok()
        .and_then(|line| serde_json::from_slice::<Answer>(&line).ok())
        .filter(|a| a.ok)
        .and_then(|a| a.origin)
        .unwrap_or(Origin::Unknown)
}

/// Put on `host`'s subject the origin `policy` is decided on: the service's when a rule in
/// force has an `ssh` condition, otherwise nothing changes.
pub fn settle(host: &mut HostContext, policy: &PolicySet) {
    if policy.uses_origin() {
        host.subject.origin = from_service(&crate::audit::service_socket(host));
    }
}
