//! Recording decisions: the bridge from a verdict and what happened at the gate to an audit
//! record, and the rule that risky commands never run unrecorded.

use super::gate::GateResult;
use crate::audit::{self, Event, InvocationRecord, Outcome, Record, Sinks};
use crate::decide::Verdict;
use crate::host::HostContext;
use crate::policy::{Action, PolicySet};
use crate::shell::Analysis;

fn action(a: Action) -> audit::Action {
    match a {
        Action::Allow => audit::Action::Allow,
        Action::Warn => audit::Action::Warn,
        Action::Confirm => audit::Action::Confirm,
        Action::Approve => audit::Action::Approve,
        Action::Deny => audit::Action::Deny,
    }
}

fn outcome(label: &str) -> Outcome {
    match label {
        "allowed" => Outcome::Allowed,
        "warned" => Outcome::Warned,
        "confirmed" => Outcome::Confirmed,
        "approved" => Outcome::Approved,
        "aborted" => Outcome::Aborted,
        "timed-out" => Outcome::TimedOut,
        "break-glass" => Outcome::BreakGlass,
        _ => Outcome::Denied,
    }
}

/// The audit record of one decision.
pub fn decision_record(
    command: &str,
    analysis: &Analysis,
    verdict: &Verdict,
    result: &GateResult,
    host: &HostContext,
    policy: &PolicySet,
) -> Record {
    let mut rules: Vec<String> = verdict.matches.iter().map(|m| m.rule.clone()).collect();
    rules.dedup();
    let mut rec = Record::new_for_current_process(Event::Command, host)
        .with_command(command)
        .with_invocations(
            analysis
                .invocations
                .iter()
                .map(InvocationRecord::from_invocation)
                .collect(),
        )
        .with_decision(action(verdict.action), rules, outcome(result.outcome))
        .with_policy_digest(policy.digest.clone());
    for m in &verdict.matches {
        for p in &m.preconditions {
            let r = audit::PreconditionRecord {
                rule: m.rule.clone(),
                kind: p.kind.as_str().to_string(),
                met: p.met,
                evidence: p.evidence.clone(),
            };
            if !rec.preconditions.contains(&r) {
                rec.preconditions.push(r);
            }
        }
    }
    if let Some(e) = &result.evidence {
        rec = rec.with_challenge(e.challenge, e.passed);
        rec.ticket = e.ticket.clone();
        rec.reason = e.reason.clone();
    }
    rec.approver = result.approver.clone();
    if rec.reason.is_none() && (!result.run || result.outcome == "break-glass") {
        rec.reason = result.reason.clone();
    }
    rec
}

/// Whether a command with this verdict may run when no audit sink can take its record: only
/// what the policy allows without asking.
pub fn may_run_unrecorded(verdict: &Verdict) -> bool {
    verdict.action <= Action::Warn
}

/// Whether the sinks could take a record at all (opened without error; the service answers).
pub fn sinks_usable(sinks: &Sinks) -> bool {
    sinks.usable()
}

/// Why no sink can take a record, for the refusal.
pub fn sinks_problem(sinks: &Sinks) -> String {
    sinks.problem()
}

/// Write `rec`. Records of commands that ran without a question are not flushed to disk one by
/// one; every other record is. Returns the error when no sink took it.
pub fn write(rec: Record, sinks: &Sinks, durable: bool) -> Result<(), audit::AuditError> {
    let written = audit::record_with(rec, sinks, durable)?;
    for f in &written.failures {
        eprintln!("prodguard: warning: {f}");
    }
    Ok(())
}
