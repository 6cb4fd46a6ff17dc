//! Recording decisions: the bridge from a verdict and what happened at the gate to an audit
//! record, and the rule that risky commands never run unrecorded.

use super::{Decision, Judgement};
use crate::audit::{self, Event, InvocationRecord, Outcome, Record, Sinks};
use crate::decide::Verdict;
use crate::policy::{Action, PolicySet};

fn action(a: Action) -> audit::Action {
    match a {
        Action::Allow => audit::Action::Allow,
        Action::Warn => audit::Action::Warn,
        Action::Confirm => audit::Action::Confirm,
        Action::Approve => audit::Action::Approve,
        Action::Deny => audit::Action::Deny,
    }
}

/// The audit outcome of a decision. A wrong answer, a missing terminal and a missing approval
/// are all `denied` in the record; the record's reason says which.
fn outcome(d: &Decision) -> Outcome {
    match d {
        Decision::Allowed => Outcome::Allowed,
        Decision::Warned => Outcome::Warned,
        Decision::Confirmed { .. } => Outcome::Confirmed,
        Decision::Approved { .. } => Outcome::Approved,
        Decision::BreakGlass { .. } => Outcome::BreakGlass,
        Decision::Aborted { .. } => Outcome::Aborted,
        Decision::TimedOut { .. } => Outcome::TimedOut,
        Decision::Denied { .. }
        | Decision::Refused { .. }
        | Decision::NoTerminal { .. }
        | Decision::NeedsApproval { .. } => Outcome::Denied,
    }
}

/// The audit record of one decision.
pub fn decision_record(j: &Judgement, decision: &Decision, policy: &PolicySet) -> Record {
    let (command, analysis, verdict, host) = (j.command(), j.analysis(), j.verdict(), j.host());
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
        .with_decision(action(verdict.action), rules, outcome(decision))
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
    let evidence = match decision {
        Decision::Confirmed { evidence } | Decision::Refused { evidence, .. } => Some(evidence),
        _ => None,
    };
    if let Some(e) = evidence {
        rec = rec.with_challenge(e.challenge, e.passed);
        rec.ticket = e.ticket.clone();
        rec.reason = e.reason.clone();
    }
    if let Decision::Approved { by } = decision {
        rec.approver = Some(by.clone());
    }
    if rec.reason.is_none() {
        rec.reason = decision.why().map(str::to_string);
    }
    rec
}

/// Whether a command with this verdict may run when no audit sink can take its record: only
/// what the policy allows without asking.
pub fn may_run_unrecorded(verdict: &Verdict) -> bool {
    verdict.action <= Action::Warn
}

/// Why the sinks cannot take a record now, when they cannot: the service is not there, or
/// says its log cannot be written (its last write failed and still fails). Asked before the
/// question, for a command that needs a record.
pub fn record_problem(sinks: &Sinks) -> Option<String> {
    sinks.record_problem()
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
