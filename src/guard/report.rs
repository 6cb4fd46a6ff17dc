//! Human-readable rendering of analyses and verdicts.

use crate::decide::Verdict;
use crate::host::HostContext;
use crate::policy::{Action, Match, PolicySet};
use crate::shell::{Analysis, Invocation, Target};
use std::fmt::Write as _;

/// One line describing an invocation: program, flags, targets, wrappers.
pub fn invocation_line(inv: &Invocation) -> String {
    let mut s = inv.program.clone();
    if !inv.flags.is_empty() {
        let _ = write!(
            s,
            "  flags: {}",
            inv.flags.iter().cloned().collect::<Vec<_>>().join(",")
        );
    }
    if !inv.targets.is_empty() {
        let t: Vec<String> = inv.targets.iter().map(target_str).collect();
        let _ = write!(s, "  targets: {}", t.join(" "));
    } else if !inv.operands.is_empty() {
        let _ = write!(s, "  operands: {}", inv.operands.join(" "));
    }
    if inv.dynamic_operands {
        s.push_str("  (+ operands at run time)");
    }
    for r in &inv.redirects {
        let _ = write!(
            s,
            "  {}{} {}",
            if r.fd == 1 {
                String::new()
            } else {
                r.fd.to_string()
            },
            if r.append { ">>" } else { ">" },
            target_str(&r.target)
        );
    }
    if let Some(h) = &inv.remote_host {
        let _ = write!(s, "  on: {h}");
    }
    if let Some(u) = &inv.run_as {
        let _ = write!(s, "  as: {u}");
    }
    if !inv.via.is_empty() {
        let _ = write!(s, "  via: {}", inv.via.join(" → "));
    }
    s
}

fn target_str(t: &Target) -> String {
    match t {
        Target::Path(p) => p.clone(),
        Target::Unknown(s) => format!("{s} (unknown)"),
    }
}

/// `PRODUCTION · db1 · db-primary`
pub fn host_line(host: &HostContext) -> String {
    let mut s = host.environment.to_uppercase();
    if host.environment == "unknown" {
        s.push_str(" (treated as production)");
    }
    let _ = write!(s, " · {}", host.short_name());
    if let Some(r) = &host.role {
        let _ = write!(s, " · {r}");
    }
    s
}

/// The refusal printed on stderr when a command may not run.
pub fn refusal(command: &str, verdict: &Verdict, host: &HostContext, reason: &str) -> String {
    // A multi-line command (a paste) is shown in full, each line indented under the first.
    let shown = command
        .lines()
        .map(crate::prompt::display_safe)
        .collect::<Vec<_>>()
        .join("\n    ");
    let mut s = format!("prodguard: refused: {shown}\n  {}\n", host_line(host));
    for m in verdict.matches.iter().filter(|m| m.action > Action::Allow) {
        let _ = writeln!(
            s,
            "  ✗ {} ({}, {}): {}",
            m.rule,
            m.severity.as_str(),
            m.action.as_str(),
            m.message
        );
        if let Some(w) = &m.why {
            let _ = writeln!(s, "    why: {w}");
        }
        if let Some(i) = &m.instead {
            let _ = writeln!(s, "    instead: {i}");
        }
        preconditions(&mut s, m, "    ");
    }
    let _ = writeln!(s, "  {reason}");
    s
}

/// The warning printed before a `warn` command runs.
pub fn warning(verdict: &Verdict, host: &HostContext) -> String {
    let mut s = format!("prodguard: warning on {}\n", host_line(host));
    for m in verdict.matches.iter().filter(|m| m.action == Action::Warn) {
        let _ = writeln!(s, "  ! {}: {}", m.rule, m.message);
        preconditions(&mut s, m, "    ");
    }
    s
}

/// One line per checked precondition (`✓ backup: newest backup: …`), and the raise an unmet one
/// caused.
fn preconditions(s: &mut String, m: &Match, indent: &str) {
    for p in &m.preconditions {
        let _ = writeln!(
            s,
            "{indent}{} {}: {}",
            if p.met { "✓" } else { "✗" },
            p.kind.as_str(),
            p.evidence
        );
    }
    if let Some(from) = m.raised_from {
        let _ = writeln!(
            s,
            "{indent}raised from {} to {}: a precondition is not met",
            from.as_str(),
            m.action.as_str()
        );
    }
}

/// The `explain` trace.
pub fn explain(
    command: &str,
    analysis: &Analysis,
    verdict: &Verdict,
    host: &HostContext,
    policy: &PolicySet,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "command: {command}");
    let _ = writeln!(
        s,
        "host:    {}  (policy {}, {} pack{}{})",
        host_line(host),
        &policy.digest[..12.min(policy.digest.len())],
        policy.sources.len(),
        if policy.sources.len() == 1 { "" } else { "s" },
        if policy.strict {
            ", STRICT FALLBACK"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "parsed:");
    if analysis.invocations.is_empty() {
        let _ = writeln!(s, "  (no command)");
    }
    for (i, inv) in analysis.invocations.iter().enumerate() {
        let _ = writeln!(s, "  [{i}] {}", invocation_line(inv));
        for st in &inv.statements {
            let _ = writeln!(
                s,
                "      {}{}: {}",
                st.kind,
                st.target
                    .as_ref()
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default(),
                st.text
            );
        }
    }
    for p in &analysis.problems {
        let _ = writeln!(
            s,
            "problem: {}",
            serde_json::to_string(p).unwrap_or_default()
        );
    }
    let _ = writeln!(s, "matches:");
    if verdict.matches.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for m in &verdict.matches {
        let _ = writeln!(
            s,
            "  [{}] {}  {}  {}",
            m.invocation,
            m.rule,
            m.severity.as_str(),
            m.action.as_str()
        );
        let _ = writeln!(s, "      {}", m.message);
        if let Some(w) = &m.why {
            let _ = writeln!(s, "      why: {w}");
        }
        if let Some(i) = &m.instead {
            let _ = writeln!(s, "      instead: {i}");
        }
        if !m.preconditions.is_empty() {
            let _ = writeln!(s, "      preconditions:");
            for p in &m.preconditions {
                let _ = writeln!(
                    s,
                    "        {} {}: {}",
                    if p.met { "met    " } else { "NOT MET" },
                    p.kind.as_str(),
                    p.required
                );
                let _ = writeln!(s, "          {}", p.evidence);
            }
        }
        if let Some(from) = m.raised_from {
            let _ = writeln!(
                s,
                "      raised from {} to {}: a precondition is not met",
                from.as_str(),
                m.action.as_str()
            );
        }
    }
    let _ = write!(s, "verdict: {}", verdict.action.as_str().to_uppercase());
    if let Some(c) = &verdict.challenge {
        let _ = write!(
            s,
            " (type the {}{})",
            c.kind.as_str(),
            c.target
                .as_ref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default()
        );
    }
    if let Some(n) = verdict.approvers {
        let _ = write!(s, " ({n} approver{})", if n == 1 { "" } else { "s" });
    }
    s.push('\n');
    s
}
