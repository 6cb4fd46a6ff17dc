//! Combining the matches of every invocation into one verdict: the most severe action wins
//! (deny > approve > confirm > warn > allow). An incomplete analysis is at least `confirm`.

use crate::host::HostContext;
use crate::policy::{Action, ConfirmKind, Match, PolicySet, Severity};
use crate::shell::{Analysis, Invocation, Problem};
use serde::Serialize;

/// Rule id of the synthetic match for a command the parser could not read.
pub const UNPARSEABLE: &str = "prodguard.unparseable";
/// Rule id of the synthetic match for a wrapper whose payload cannot be known.
pub const UNKNOWN_PAYLOAD: &str = "prodguard.unknown-payload";
/// Rule id of the synthetic match raising actions while the strict fallback is in force.
pub const STRICT_FALLBACK: &str = "prodguard.strict-fallback";

/// What the guard decided about a command. Must be acted upon.
#[must_use = "a verdict that is not acted upon guards nothing"]
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The action to take.
    pub action: Action,
    /// Every match, most severe first.
    pub matches: Vec<Match>,
    /// What the human must type, for `confirm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// Number of approvers, for `approve`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvers: Option<u32>,
}

/// A confirmation challenge.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Challenge {
    pub kind: ConfirmKind,
    /// The expected answer for `target` (database, path, namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Verdict {
    /// The most severe match, which sets the action.
    pub fn decisive(&self) -> Option<&Match> {
        self.matches.first()
    }
}

/// Decide on an analysed command line.
pub fn decide(analysis: &Analysis, policy: &PolicySet, host: &HostContext) -> Verdict {
    let mut matches = Vec::new();
    for (i, inv) in analysis.invocations.iter().enumerate() {
        let remote;
        let ctx = match inv.remote_host.as_deref() {
            Some(h) if !host.is_this_host(h) => {
                remote = remote_context(host, h);
                &remote
            }
            _ => host,
        };
        matches.extend(policy.evaluate(inv, i, ctx));
    }
    for p in &analysis.problems {
        matches.push(problem_match(p, analysis));
    }
    if policy.strict {
        for m in &mut matches {
            if m.action < Action::Confirm {
                m.action = Action::Confirm;
                m.why = Some(format!(
                    "{} (raised to confirm: the site policy failed to load, the strict fallback is in force)",
                    m.why.as_deref().unwrap_or("")
                ).trim_start().to_string());
            }
        }
    }
    // Most severe first: action, then severity; stable for equal ones.
    matches.sort_by(|a, b| b.action.cmp(&a.action).then(b.severity.cmp(&a.severity)));
    let action = matches.first().map_or(Action::Allow, |m| m.action);
    let challenge = (action == Action::Confirm).then(|| challenge_for(&matches));
    let approvers = (action == Action::Approve).then(|| {
        matches
            .iter()
            .filter(|m| m.action == Action::Approve)
            .filter_map(|m| m.approvers)
            .max()
            .unwrap_or(1)
    });
    Verdict {
        action,
        matches,
        challenge,
        approvers,
    }
}

/// The challenge of the decisive `confirm` match. A `target` challenge with nothing to type
/// becomes a `hostname` one.
fn challenge_for(matches: &[Match]) -> Challenge {
    let m = matches.iter().find(|m| m.action == Action::Confirm);
    let kind = m.and_then(|m| m.confirm).unwrap_or(ConfirmKind::Hostname);
    let target = m.and_then(|m| m.target.clone());
    match (kind, target) {
        (ConfirmKind::Target, Some(t)) if !t.starts_with('(') => Challenge {
            kind,
            target: Some(t),
        },
        (ConfirmKind::Target, _) => Challenge {
            kind: ConfirmKind::Hostname,
            target: None,
        },
        (kind, _) => Challenge { kind, target: None },
    }
}

/// The context a remote command is judged in: the fleet's knowledge of that host, or unknown
/// (treated as production).
fn remote_context(host: &HostContext, name: &str) -> HostContext {
    let mut ctx = host.clone();
    ctx.hostname = name.rsplit('@').next().unwrap_or(name).to_string();
    match host.fleet_host(&ctx.hostname) {
        Some(f) => {
            ctx.environment = f
                .environment
                .clone()
                .unwrap_or_else(|| host.environment.clone());
            ctx.role = f.role.clone();
        }
        None => {
            ctx.environment = "unknown".into();
            ctx.role = None;
        }
    }
    ctx
}

fn problem_match(p: &Problem, analysis: &Analysis) -> Match {
    let (rule, message, why) = match p {
        Problem::Unparseable { reason } => (
            UNPARSEABLE,
            format!("prodguard cannot parse this command ({reason})"),
            "A command the guard cannot read could do anything; it is never run silently.",
        ),
        Problem::UnknownPayload { program, reason } => (
            UNKNOWN_PAYLOAD,
            format!("what `{program}` will run cannot be known before it runs ({reason})"),
            "Commands built at run time bypass every rule; confirm that this one is what you mean.",
        ),
    };
    let invocation = match p {
        Problem::UnknownPayload { program, .. } => analysis
            .invocations
            .iter()
            .position(|i: &Invocation| &i.program == program)
            .unwrap_or(0),
        Problem::Unparseable { .. } => 0,
    };
    Match {
        rule: rule.to_string(),
        severity: Severity::High,
        action: Action::Confirm,
        confirm: Some(ConfirmKind::Hostname),
        approvers: None,
        message,
        why: Some(why.to_string()),
        instead: None,
        invocation,
        target: None,
    }
}
