//! Warnings for `policy lint`: rules that can never decide anything, regexes that can never
//! match (or always do). Each check is conservative: a warning is only given when it is
//! certain from the rule text, so a clean lint means nothing was found, not that nothing is
//! wrong.

use super::diag::Diagnostic;
use super::rule::{Action, LazyRegex, Matcher, Rule};
use regex_syntax::hir::{Hir, HirKind, Look};
use std::collections::BTreeSet;

/// Every warning for these rules (all rules in force, in load order).
pub fn warnings(rules: &[&Rule]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in rules {
        let file = format!("{}.toml", r.pack);
        let m = &r.m;
        for (what, list, negated) in [("args", &m.args, false), ("not_args", &m.not_args, true)] {
            for re in list {
                if let Some(w) = regex_problem(re, negated) {
                    out.push(
                        Diagnostic::file(
                            &file,
                            format!("rule `{}`: `{what}` regex `{}` {w}", r.id, re.source),
                        )
                        .as_warning(),
                    );
                }
            }
        }
        if let Some(re) = &m.raw {
            if let Some(w) = regex_problem(re, false) {
                out.push(
                    Diagnostic::file(
                        &file,
                        format!("rule `{}`: `raw` regex `{}` {w}", r.id, re.source),
                    )
                    .as_warning(),
                );
            }
        }
        for b in rules {
            if b.id != r.id && shadows(b, r) {
                out.push(
                    Diagnostic::file(
                        &file,
                        format!(
                            "rule `{}` ({}) never decides anything: `{}` ({}) matches every command it matches, wherever it applies",
                            r.id,
                            max_action(r).as_str(),
                            b.id,
                            b.action.as_str()
                        ),
                    )
                    .as_warning(),
                );
                break;
            }
        }
    }
    out
}

/// The most severe action `r` can give (its escalations included).
fn max_action(r: &Rule) -> Action {
    r.escalate
        .iter()
        .fold(r.action, |a, e| e.raise(a).max(a))
        .max(r.action)
}

/// The least severe action `b` gives when it matches: a deny whose target is not known before
/// run time is lowered to confirm; an exemption lowers it to allow.
fn min_action(b: &Rule) -> Action {
    if !b.exempt.is_empty() {
        return Action::Allow;
    }
    if (b.m.target.is_some() || b.m.redirect.is_some() || b.m.dynamic.is_some())
        && b.action > Action::Confirm
    {
        return Action::Confirm;
    }
    b.action
}

/// Whether `b` applies wherever `a` does and matches everything `a` matches, with a more
/// severe action than `a` can ever give. Syntactic and conservative.
fn shadows(b: &Rule, a: &Rule) -> bool {
    if min_action(b) <= max_action(a) {
        return false;
    }
    if !(b.when.is_empty()
        || (b.when.env == a.when.env
            && b.when.role == a.when.role
            && b.when.host == a.when.host
            && b.when.cond == a.when.cond))
    {
        return false;
    }
    superset(&b.m, &a.m)
}

fn sources(v: &[LazyRegex]) -> BTreeSet<&str> {
    v.iter().map(|r| r.source.as_str()).collect()
}

/// Whether matcher `b` matches everything `a` matches (each of `b`'s constraints is absent or
/// also imposed by `a`).
fn superset(b: &Matcher, a: &Matcher) -> bool {
    let programs = !b.program.is_empty()
        && !a.program.is_empty()
        && !b
            .program
            .iter()
            .chain(&a.program)
            .any(|p| super::glob::is_glob(p))
        && a.program.iter().all(|p| b.program.contains(p));
    let flags = b.flags.iter().all(|g| a.flags.contains(g));
    let not_flags = b.not_flags.iter().all(|f| a.not_flags.contains(f));
    let sub = b.subcommand.is_empty() || b.subcommand == a.subcommand;
    let args = sources(&b.args).is_subset(&sources(&a.args));
    let not_args = sources(&b.not_args).is_subset(&sources(&a.not_args));
    let globs =
        |x: &Option<super::rule::LazyGlobs>, y: &Option<super::rule::LazyGlobs>| match (x, y) {
            (None, _) => true,
            (Some(x), Some(y)) => x.sources == y.sources && x.protected == y.protected,
            (Some(_), None) => false,
        };
    let sql = b.sql.is_empty() || (!a.sql.is_empty() && a.sql.iter().all(|s| b.sql.contains(s)));
    let functions = b.sql_function.is_empty()
        || (!a.sql_function.is_empty()
            && a.sql_function.iter().all(|f| b.sql_function.contains(f)));
    let opt = |x: Option<bool>, y: Option<bool>| x.is_none() || x == y;
    let raw = match (&b.raw, &a.raw) {
        (None, _) => true,
        (Some(x), Some(y)) => x.source == y.source,
        (Some(_), None) => false,
    };
    programs
        && flags
        && not_flags
        && sub
        && args
        && not_args
        && globs(&b.target, &a.target)
        && globs(&b.redirect, &a.redirect)
        && sql
        && functions
        && (b.via.is_empty() || (!a.via.is_empty() && a.via.iter().all(|v| b.via.contains(v))))
        && opt(b.other_host, a.other_host)
        && opt(b.remote, a.remote)
        && opt(b.dynamic, a.dynamic)
        && raw
}

/// Why a regex is useless, if it certainly is.
fn regex_problem(re: &LazyRegex, negated: bool) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(&re.source).ok()?;
    if hir.properties().minimum_len().is_none() || never(&hir) {
        return Some(if negated {
            "can never match: it excludes nothing".into()
        } else {
            "can never match: the rule never matches".into()
        });
    }
    let compiled = re.get()?;
    let looks = hir.properties().look_set();
    if compiled.is_match("") && !(looks.contains(Look::Start) && looks.contains(Look::End)) {
        return Some(if negated {
            "matches every argument (an empty alternative?): the rule never matches".into()
        } else {
            "matches every argument (an empty alternative?): it restricts nothing".into()
        });
    }
    if !negated && re.source == "^$" {
        return Some("matches only an empty argument".into());
    }
    None
}

/// Whether `hir` can certainly never match: a start anchor after text that must be consumed,
/// or an end anchor before it (in one concatenation; multi-line anchors excepted).
fn never(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Concat(parts) => {
            let mut consumed = false;
            for (i, p) in parts.iter().enumerate() {
                if let HirKind::Look(Look::Start) = p.kind() {
                    if consumed {
                        return true;
                    }
                }
                if let HirKind::Look(Look::End) = p.kind() {
                    if parts[i + 1..]
                        .iter()
                        .any(|q| q.properties().minimum_len().unwrap_or(0) > 0)
                    {
                        return true;
                    }
                }
                if p.properties().minimum_len().unwrap_or(0) > 0 {
                    consumed = true;
                }
                if never(p) {
                    return true;
                }
            }
            false
        }
        HirKind::Alternation(alts) => alts.iter().all(never),
        HirKind::Capture(c) => never(&c.sub),
        HirKind::Repetition(r) => r.min > 0 && never(&r.sub),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load::parse_pack;

    fn warn(pack: &str) -> Vec<String> {
        let (p, d) = parse_pack("t.toml", "t", pack);
        assert!(d.is_empty(), "{d:?}");
        let rules: Vec<&Rule> = p.rules.iter().collect();
        warnings(&rules).into_iter().map(|d| d.message).collect()
    }

    fn rule(id: &str, action: &str, m: &str) -> String {
        format!("[[rule]]\nid = \"{id}\"\naction = \"{action}\"\nmatch = {m}\nmessage = \"m\"\n")
    }

    #[test]
    fn useless_regexes() {
        for (re, bad) in [
            ("a^b", true),
            ("x$y", true),
            ("(^a|b^)c", false),
            ("^$", true),
            ("^(rm|)", true),
            ("^(rm|)$", false),
            ("(rm|)", true),
            ("[^\\\\s\\\\S]", true),
            ("^--force$", false),
        ] {
            let w = warn(&rule(
                "a",
                "warn",
                &format!("{{ program = [\"x\"], args = [\"{re}\"] }}"),
            ));
            assert_eq!(!w.is_empty(), bad, "{re}: {w:?}");
        }
    }

    #[test]
    fn shadowed_rules() {
        let w = warn(&format!(
            "{}{}",
            rule(
                "warn-rm",
                "warn",
                "{ program = [\"rm\"], flags = [\"recursive\"], args = [\"^/srv\"] }"
            ),
            rule(
                "deny-rm",
                "deny",
                "{ program = [\"rm\", \"rmdir\"], flags = [\"recursive\"] }"
            ),
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("rule `warn-rm` (warn) never decides anything: `deny-rm`"),
            "{w:?}"
        );
        // Not when the stricter rule is narrower, softer, or scoped.
        for (b, scoped) in [
            (
                rule(
                    "b",
                    "deny",
                    "{ program = [\"rm\"], flags = [\"recursive\", \"force\"] }",
                ),
                false,
            ),
            (rule("b", "warn", "{ program = [\"rm\"] }"), false),
            (rule("b", "deny", "{ program = [\"rm\"] }"), true),
            (
                rule("b", "deny", "{ program = [\"rm\"], target = [\"/\"] }"),
                false,
            ),
        ] {
            let b = if scoped {
                b.replace("match =", "when = { env = [\"production\"] }\nmatch =")
            } else {
                b
            };
            let w = warn(&format!(
                "{}{b}",
                rule(
                    "a",
                    "confirm",
                    "{ program = [\"rm\"], flags = [\"recursive\"] }"
                )
            ));
            assert!(w.is_empty(), "{b}: {w:?}");
        }
    }
}
