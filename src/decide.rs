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
/// Rule id of the synthetic match refusing a command aimed at another host than the one the
/// engineer declared with `prodguard intent`.
pub const WRONG_HOST: &str = "prodguard.wrong-host";

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
    decide_with(analysis, policy, host, None)
}

/// Decide, knowing which host the engineer declared they mean to work on (`prodguard intent`).
pub fn decide_with(
    analysis: &Analysis,
    policy: &PolicySet,
    host: &HostContext,
    intent: Option<&str>,
) -> Verdict {
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
    let wrong = wrong_host(analysis, host, &mut matches, intent);
    matches.extend(wrong);
    let mut verdict = Verdict {
        action: Action::Allow,
        matches,
        challenge: None,
        approvers: None,
    };
    verdict.settle();
    verdict
}

impl Verdict {
    /// Order the matches most severe first and derive the action, challenge and approvers from
    /// them again: after a match's action changed (an unmet precondition raised it).
    pub fn settle(&mut self) {
        let matches = &mut self.matches;
        // Most severe first: action, then severity; stable for equal ones.
        matches.sort_by(|a, b| b.action.cmp(&a.action).then(b.severity.cmp(&a.severity)));
        self.action = matches.first().map_or(Action::Allow, |m| m.action);
        self.challenge = (self.action == Action::Confirm).then(|| challenge_for(matches));
        self.approvers = (self.action == Action::Approve).then(|| {
            matches
                .iter()
                .filter(|m| m.action == Action::Approve)
                .filter_map(|m| m.approvers)
                .max()
                .unwrap_or(1)
        });
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

fn short(name: &str) -> &str {
    let name = name.rsplit('@').next().unwrap_or(name);
    name.split('.').next().unwrap_or(name)
}

fn describe(host: &HostContext, name: &str) -> String {
    match host.fleet_host(name).and_then(|f| f.role.clone()) {
        Some(role) => format!("{} ({role})", short(name)),
        None => short(name).to_string(),
    }
}

/// Wrong-host awareness. A risky match on a command that acts on another host than this one
/// (`ssh db2 …`, `psql -h db2`, `kubectl --context …`) names both hosts, and its confirmation asks
/// for the name of the host it acts on; a warning there becomes a confirmation. With an intent
/// declared, a risky command acting on any other host than the declared one is refused.
fn wrong_host(
    analysis: &Analysis,
    host: &HostContext,
    matches: &mut [Match],
    intent: Option<&str>,
) -> Option<Match> {
    let here = match &host.role {
        Some(r) => format!("{} ({r})", host.short_name()),
        None => host.short_name().to_string(),
    };
    let mut refusal = None;
    for m in matches.iter_mut().filter(|m| m.action >= Action::Warn) {
        let Some(inv) = analysis.invocations.get(m.invocation) else {
            continue;
        };
        // A kubectl context names a cluster, not a host: it counts only when the fleet knows it.
        let is_context = |h: &str| inv.options.iter().any(|(k, v)| k == "context" && v == h);
        let other = crate::policy::named_hosts(inv)
            .into_iter()
            .find(|h| !host.is_this_host(h) && (!is_context(h) || host.fleet_host(h).is_some()));
        if let Some(other) = &other {
            m.message = format!(
                "{}; this acts on {}, not on this host {here}",
                m.message.trim_end_matches('.'),
                describe(host, other)
            );
            if m.action == Action::Warn {
                m.action = Action::Confirm;
            }
            if m.action == Action::Confirm {
                m.confirm = Some(ConfirmKind::Target);
                m.target = Some(short(other).to_string());
            }
        }
        let (Some(declared), true) = (intent, m.action >= Action::Confirm) else {
            continue;
        };
        let acting = other.as_deref().unwrap_or(&host.hostname);
        if short(acting).eq_ignore_ascii_case(short(declared)) || refusal.is_some() {
            continue;
        }
        let what = if other.is_some() {
            describe(host, acting)
        } else {
            here.clone()
        };
        refusal = Some(Match {
            rule: WRONG_HOST.to_string(),
            severity: Severity::Critical,
            action: Action::Deny,
            confirm: None,
            approvers: None,
            message: format!("you declared {declared}; this is {what}"),
            why: Some(format!(
                "You said you meant to work on {declared}. GitLab, 2017: rm -rf ran on db1 by an engineer who believed he was on db2."
            )),
            instead: Some(format!(
                "Check where you are (`hostname`). If you really mean {}, declare it first: prodguard intent {}",
                short(acting),
                short(acting)
            )),
            invocation: m.invocation,
            target: Some(short(acting).to_string()),
            preconditions: Vec::new(),
            raised_from: None,
        });
    }
    refusal
}

/// The context a remote command is judged in: the fleet's knowledge of that host, or unknown
/// (treated as production).
fn remote_context(host: &HostContext, name: &str) -> HostContext {
    let mut ctx = host.clone();
    ctx.hostname = name.rsplit('@').next().unwrap_or(name).to_string();
    // This host's discovered state says nothing about that one.
    ctx.protected = crate::host::Protected::elsewhere();
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
        preconditions: Vec::new(),
        raised_from: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{analyze, Context};

    fn host(name: &str, role: &str) -> HostContext {
        HostContext::from_toml(
            &format!(
                "hostname = \"{name}.example.com\"\nenvironment = \"production\"\nrole = \"{role}\"\nfleet = [{{ name = \"db1.example.com\", role = \"db-primary\" }}, {{ name = \"db2.example.com\", role = \"db-replica\" }}]\n"
            ),
            None,
        )
    }

    fn verdict(cmd: &str, host: &HostContext, intent: Option<&str>) -> Verdict {
        let ctx = Context {
            cwd: "/root".into(),
            home: Some("/root".into()),
            env: Vec::new(),
            stdin_unknown: false,
        };
        decide_with(
            &analyze(cmd, &ctx),
            &PolicySet::embedded_only(true),
            host,
            intent,
        )
    }

    #[test]
    fn a_command_aimed_at_another_host_names_both_and_asks_for_that_host() {
        let v = verdict(
            "psql -h db2 -c 'DROP DATABASE app'",
            &host("db1", "db-primary"),
            None,
        );
        assert_eq!(v.action, Action::Confirm);
        assert_eq!(
            v.challenge,
            Some(Challenge {
                kind: ConfirmKind::Target,
                target: Some("db2".into())
            })
        );
        let m = v.decisive().map(|m| m.message.clone()).unwrap_or_default();
        assert!(
            m.contains("acts on db2 (db-replica), not on this host db1 (db-primary)"),
            "{m}"
        );
    }

    #[test]
    fn the_gitlab_mistake_is_refused_when_the_intent_was_the_other_host() {
        let db1 = host("db1", "db-primary");
        let v = verdict(
            "sudo rm -rf /var/opt/gitlab/postgresql/data",
            &db1,
            Some("db2"),
        );
        assert_eq!(v.action, Action::Deny);
        let m = v.decisive().cloned();
        assert_eq!(m.as_ref().map(|m| m.rule.as_str()), Some(WRONG_HOST));
        assert_eq!(
            m.map(|m| m.message),
            Some("you declared db2; this is db1 (db-primary)".into())
        );
        // On the replica, as declared, the same command asks for the hostname.
        let v = verdict(
            "sudo rm -rf /var/opt/gitlab/postgresql/data",
            &host("db2", "db-replica"),
            Some("db2"),
        );
        assert_eq!(v.action, Action::Confirm);
        assert_eq!(v.challenge.map(|c| c.kind), Some(ConfirmKind::Hostname));
    }

    #[test]
    fn intent_follows_the_host_a_remote_command_acts_on() {
        let db1 = host("db1", "db-primary");
        let v = verdict(
            "ssh db2 'sudo rm -rf /var/lib/postgresql/15/main'",
            &db1,
            Some("db1"),
        );
        assert_eq!(v.action, Action::Deny);
        assert!(v
            .matches
            .iter()
            .any(|m| m.message == "you declared db1; this is db2 (db-replica)"));
        // Safe commands are never refused for the intent.
        assert_eq!(verdict("ls -la", &db1, Some("db2")).action, Action::Allow);
    }

    #[test]
    fn unparseable_is_at_least_confirm() {
        let v = verdict("rm -rf /tmp/x 'unclosed", &host("db1", "db-primary"), None);
        assert!(v.action >= Action::Confirm);
        assert!(v.matches.iter().any(|m| m.rule == UNPARSEABLE));
    }
}
