//! A validated rule, ready to match. Regexes and path globs compile on first use, so loading a
//! pack costs only what parsing it costs.

use super::diag::{did_you_mean, Diagnostic};
use super::raw::{NameOrId, RawMatch, RawRule, RawWhen};
use super::require::{compile_requires, Require, Unmet};
use super::when::{Conditions, IdPattern, NetPattern, TimeSpec};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// What a rule demands, least to most severe. The most severe matching action wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Run it.
    Allow,
    /// Run it, after a notice.
    Warn,
    /// Run it after a typed confirmation.
    Confirm,
    /// Run it after a second person approves this exact command.
    Approve,
    /// Never run it.
    Deny,
}

impl Action {
    /// One step more severe (deny stays deny).
    pub fn step_up(self) -> Action {
        match self {
            Action::Allow => Action::Warn,
            Action::Warn => Action::Confirm,
            Action::Confirm => Action::Approve,
            Action::Approve | Action::Deny => Action::Deny,
        }
    }

    /// The policy-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Warn => "warn",
            Action::Confirm => "confirm",
            Action::Approve => "approve",
            Action::Deny => "deny",
        }
    }
}

/// How bad the outcome would be if the command were a mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    High,
    Critical,
}

impl Severity {
    /// The policy-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What the human must type to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfirmKind {
    /// This host's short name.
    Hostname,
    /// The database / namespace / path being destroyed.
    Target,
    /// A random word.
    Phrase,
    /// A ticket id and a reason.
    Ticket,
    /// A plain yes.
    Yes,
}

impl ConfirmKind {
    /// The policy-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmKind::Hostname => "hostname",
            ConfirmKind::Target => "target",
            ConfirmKind::Phrase => "phrase",
            ConfirmKind::Ticket => "ticket",
            ConfirmKind::Yes => "yes",
        }
    }
}

/// Where a rule applies. Empty lists apply everywhere.
#[derive(Debug, Clone, Default, Serialize)]
pub struct When {
    pub env: Vec<String>,
    pub role: Vec<String>,
    pub host: Vec<String>,
    /// Who, from where, at what time (`user`, `group`, `tty`, `ssh`, `time`).
    #[serde(flatten)]
    pub cond: Conditions,
}

impl When {
    /// Whether nothing restricts it.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.role.is_empty() && self.host.is_empty() && self.cond.is_empty()
    }
}

impl Rule {
    /// Whether where the session comes from (`ssh`) can change what this rule does: its
    /// `when`, an `escalate` or an `exempt` names it.
    pub fn uses_origin(&self) -> bool {
        !self.when.cond.ssh.is_empty()
            || self.escalate.iter().any(|e| !e.when.cond.ssh.is_empty())
            || self.exempt.iter().any(|e| !e.cond.ssh.is_empty())
    }
}

/// `[[rule.escalate]]`: while `when` holds, the rule's action is raised one step (allow → warn →
/// confirm → approve → deny), or to `to`.
#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    pub when: When,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Escalation {
    /// The action `from` becomes.
    pub fn raise(&self, from: Action) -> Action {
        match self.to {
            Some(to) => from.max(to),
            None => from.step_up(),
        }
    }
}

/// `[[rule.exempt]]`: who this rule does not ask. Holds only when every condition is known to
/// hold; names at least one user or group; carries a reason that is shown and recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Exemption {
    #[serde(flatten)]
    pub cond: Conditions,
    pub reason: String,
}

/// One embedded example: a command and whether the rule must match it.
#[derive(Debug, Clone, Serialize)]
pub struct TestCase {
    pub command: String,
    pub should_match: bool,
}

/// A validated rule.
#[derive(Debug, Serialize)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub action: Action,
    /// The challenge for `confirm` (hostname unless the rule says otherwise).
    pub confirm: Option<ConfirmKind>,
    /// Number of approvers for `approve`.
    pub approvers: u32,
    pub when: When,
    /// Raise the action while a condition holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub escalate: Vec<Escalation>,
    /// Who the rule does not ask.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exempt: Vec<Exemption>,
    pub message: String,
    pub why: Option<String>,
    pub instead: Option<String>,
    pub tests: Vec<TestCase>,
    /// Preconditions checked before the question is asked (`[[rule.require]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<Require>,
    /// What an unmet precondition does.
    #[serde(skip_serializing_if = "Unmet::is_default")]
    pub unmet: Unmet,
    /// Name of the pack the rule comes from.
    pub pack: String,
    #[serde(rename = "match")]
    pub(crate) m: Matcher,
}

/// The `match` table, validated.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Matcher {
    pub program: Vec<String>,
    /// Each entry: words that must start the operands (`delete ns`).
    pub subcommand: Vec<Vec<String>>,
    /// Each entry: alternatives separated by `|`, one of which must be present.
    pub flags: Vec<Vec<String>>,
    pub not_flags: Vec<String>,
    pub args: Vec<LazyRegex>,
    pub not_args: Vec<LazyRegex>,
    pub target: Option<LazyGlobs>,
    /// Truncating redirects (`>`, `>|`, `&>`) into these paths.
    pub redirect: Option<LazyGlobs>,
    /// Appending redirects (`>>`) into these paths.
    pub redirect_append: Option<LazyGlobs>,
    pub sql: Vec<String>,
    /// Functions a statement calls (`purge_*`, `billing.reset_all`), matched without case;
    /// a pattern without a schema matches the function in any schema.
    pub sql_function: Vec<String>,
    pub other_host: Option<bool>,
    /// Wrappers the program is reached through (`sudo`, `ssh`, `xargs`), by the wrapper's
    /// first word, with `*` globs: one of them must be among the invocation's.
    pub via: Vec<String>,
    pub remote: Option<bool>,
    /// Operands are supplied at run time (`xargs`, `find -exec`).
    pub dynamic: Option<bool>,
    pub raw: Option<LazyRegex>,
}

/// A regex compiled on first use.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct LazyRegex {
    pub source: String,
    #[serde(skip)]
    cell: OnceLock<Option<regex::Regex>>,
}

impl LazyRegex {
    fn new(source: String) -> Self {
        LazyRegex {
            source,
            cell: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` if it does not compile (load-time validation reports that).
    pub fn get(&self) -> Option<&regex::Regex> {
        self.cell
            .get_or_init(|| regex::Regex::new(&self.source).ok())
            .as_ref()
    }
}

/// Target classes a `target`, `redirect` or `redirect_append` list may name instead of a path
/// pattern.
pub const TARGET_CLASSES: &[&str] = &["protected"];

/// A set of path globs compiled on first use. `**` crosses directories, `*` does not. With
/// `protected`, a target the host's protected state holds matches too (`crate::host::state`).
#[derive(Debug)]
pub(crate) struct LazyGlobs {
    pub sources: Vec<String>,
    /// The list names the class `protected`.
    pub protected: bool,
    cell: OnceLock<Option<globset::GlobSet>>,
}

/// As written: the class first, then the patterns.
impl Serialize for LazyGlobs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.sources.len() + usize::from(self.protected)))?;
        if self.protected {
            seq.serialize_element("protected")?;
        }
        for p in &self.sources {
            seq.serialize_element(p)?;
        }
        seq.end()
    }
}

impl LazyGlobs {
    fn new(entries: Vec<String>) -> Self {
        let protected = entries.iter().any(|e| e == "protected");
        LazyGlobs {
            sources: entries.into_iter().filter(|e| e.starts_with('/')).collect(),
            protected,
            cell: OnceLock::new(),
        }
    }

    pub fn get(&self) -> Option<&globset::GlobSet> {
        self.cell
            .get_or_init(|| build_globset(&self.sources).ok())
            .as_ref()
    }
}

fn path_glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn build_globset(patterns: &[String]) -> Result<globset::GlobSet, globset::Error> {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        b.add(path_glob(p)?);
    }
    b.build()
}

/// Whether compiling a rule checks its regexes and path patterns now (site packs, lint) or leaves
/// that to first use (embedded packs, which the test suite validates in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validate {
    Now,
    Skip,
}

/// Placeholders a `message` may use.
pub const PLACEHOLDERS: &[&str] = &[
    "host",
    "short_host",
    "env",
    "ENV",
    "role",
    "cluster",
    "program",
    "target",
    "remote_host",
    "user",
];

/// Names `flags` may not be empty etc.: all checks that need no other rule.
pub(crate) fn compile(
    raw: RawRule,
    pack: &str,
    file: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    validate: Validate,
) -> Option<Rule> {
    let before = diags.len();
    let id = raw.id.get_ref().trim().to_string();
    if id.is_empty() || id.contains(char::is_whitespace) {
        diags.push(Diagnostic::at(
            file,
            text,
            raw.id.span(),
            "a rule id must be a non-empty word such as `fs.rm-root`".into(),
        ));
    }
    let m = compile_matcher(raw.matcher.get_ref(), file, text, diags, validate);
    if m.is_empty() {
        diags.push(Diagnostic::at(
            file,
            text,
            raw.matcher.span(),
            format!("rule `{id}` has an empty `match`: it would match every command"),
        ));
    }
    check_placeholders(&raw.message, file, text, diags);
    let id_span = raw.id.span();
    let when = compile_when(&raw.when, file, text, id_span.clone(), diags);
    let escalate: Vec<Escalation> = raw
        .escalate
        .iter()
        .map(|e| {
            let when = compile_when(&e.when, file, text, id_span.clone(), diags);
            if when.is_empty() {
                diags.push(Diagnostic::at(
                    file,
                    text,
                    id_span.clone(),
                    format!("rule `{id}` has an `escalate` with an empty `when`: it would always raise the action; change `action` instead"),
                ));
            }
            Escalation {
                when,
                to: e.to,
                reason: e.reason.clone(),
            }
        })
        .collect();
    let exempt: Vec<Exemption> = raw
        .exempt
        .iter()
        .map(|e| {
            let span = e.span();
            let e = e.get_ref();
            let cond = compile_conditions(
                &e.user, &e.group, e.tty, &e.ssh, &e.time, file, text, span.clone(), diags,
            );
            if !cond.user.iter().chain(&cond.group).any(|p| !p.negated) {
                diags.push(Diagnostic::at(
                    file,
                    text,
                    span.clone(),
                    format!("rule `{id}`: an `exempt` must name the users or groups it exempts (`user = [\"deploy-bot\"]`); an exemption for everyone but some is a hole"),
                ));
            }
            if e.reason.trim().is_empty() {
                diags.push(Diagnostic::at(
                    file,
                    text,
                    span,
                    format!("rule `{id}`: an `exempt` needs a `reason`; it is shown and recorded"),
                ));
            }
            Exemption {
                cond,
                reason: e.reason.trim().to_string(),
            }
        })
        .collect();
    if raw.confirm.is_some() && raw.action != Action::Confirm {
        diags.push(Diagnostic::at(
            file,
            text,
            raw.id.span(),
            format!(
                "rule `{id}` sets `confirm` but its action is `{}`; `confirm` only applies to action = \"confirm\"",
                raw.action.as_str()
            ),
        ));
    }
    let require = compile_requires(
        &raw.require,
        raw.unmet.as_ref().map(|u| (*u.get_ref(), u.span())),
        file,
        text,
        diags,
    );
    if diags[before..].iter().any(|d| !d.warning) {
        return None;
    }
    let severity = raw.severity.unwrap_or(match raw.action {
        Action::Allow => Severity::Info,
        Action::Warn => Severity::Warning,
        Action::Confirm | Action::Approve => Severity::High,
        Action::Deny => Severity::Critical,
    });
    let tests = raw
        .tests
        .matches
        .into_iter()
        .map(|command| TestCase {
            command,
            should_match: true,
        })
        .chain(raw.tests.ignore.into_iter().map(|command| TestCase {
            command,
            should_match: false,
        }))
        .collect();
    Some(Rule {
        id,
        severity,
        action: raw.action,
        confirm: match raw.action {
            Action::Confirm => Some(raw.confirm.unwrap_or(ConfirmKind::Hostname)),
            _ => None,
        },
        approvers: raw.approvers.unwrap_or(1).max(1),
        when,
        escalate,
        exempt,
        message: raw.message.into_inner(),
        why: raw.why,
        instead: raw.instead,
        tests,
        require,
        unmet: raw.unmet.map(|u| u.into_inner()).unwrap_or_default(),
        pack: pack.to_string(),
        m,
    })
}

fn compile_when(
    raw: &RawWhen,
    file: &str,
    text: &str,
    span: std::ops::Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> When {
    When {
        env: raw.env.iter().map(|s| s.to_ascii_lowercase()).collect(),
        role: raw.role.clone(),
        host: raw.host.clone(),
        cond: compile_conditions(
            &raw.user, &raw.group, raw.tty, &raw.ssh, &raw.time, file, text, span, diags,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn compile_conditions(
    user: &[NameOrId],
    group: &[NameOrId],
    tty: Option<bool>,
    ssh: &[toml::Spanned<String>],
    time: &[toml::Spanned<String>],
    file: &str,
    text: &str,
    span: std::ops::Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Conditions {
    let mut ids = |list: &[NameOrId], what: &str| -> Vec<IdPattern> {
        list.iter()
            .filter_map(|n| match IdPattern::parse(&n.text()) {
                Ok(p) => Some(p),
                Err(e) => {
                    diags.push(Diagnostic::at(
                        file,
                        text,
                        span.clone(),
                        format!("`{what}`: {e}"),
                    ));
                    None
                }
            })
            .collect()
    };
    let user = ids(user, "user");
    let group = ids(group, "group");
    let ssh = ssh
        .iter()
        .filter_map(|s| match NetPattern::parse(s.get_ref()) {
            Ok(p) => Some(p),
            Err(e) => {
                diags.push(Diagnostic::at(file, text, s.span(), format!("`ssh`: {e}")));
                None
            }
        })
        .collect();
    let time = time
        .iter()
        .filter_map(|s| match TimeSpec::parse(s.get_ref()) {
            Ok(p) => Some(p),
            Err(e) => {
                diags.push(Diagnostic::at(file, text, s.span(), format!("`time`: {e}")));
                None
            }
        })
        .collect();
    Conditions {
        user,
        group,
        tty,
        ssh,
        time,
    }
}

impl Matcher {
    fn is_empty(&self) -> bool {
        self.program.is_empty()
            && self.subcommand.is_empty()
            && self.flags.is_empty()
            && self.args.is_empty()
            && self.target.is_none()
            && self.redirect.is_none()
            && self.redirect_append.is_none()
            && self.sql.is_empty()
            && self.sql_function.is_empty()
            && self.other_host.is_none()
            && self.via.is_empty()
            && self.remote.is_none()
            && self.dynamic.is_none()
            && self.raw.is_none()
    }
}

fn compile_matcher(
    raw: &RawMatch,
    file: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    validate: Validate,
) -> Matcher {
    let mut regexes = |list: &[toml::Spanned<String>]| -> Vec<LazyRegex> {
        list.iter()
            .map(|s| {
                if validate == Validate::Skip {
                    return LazyRegex::new(s.get_ref().clone());
                }
                if let Err(e) = regex::Regex::new(s.get_ref()) {
                    diags.push(Diagnostic::at(
                        file,
                        text,
                        s.span(),
                        format!("invalid regular expression: {}", one_line(&e.to_string())),
                    ));
                }
                LazyRegex::new(s.get_ref().clone())
            })
            .collect()
    };
    let args = regexes(&raw.args);
    let not_args = regexes(&raw.not_args);
    let raw_re = raw.raw.as_ref().map(|r| {
        let mut v = regexes(std::slice::from_ref(r));
        v.remove(0)
    });
    let mut globs = |list: &[toml::Spanned<String>]| -> Option<LazyGlobs> {
        if list.is_empty() {
            return None;
        }
        for s in list {
            let p = s.get_ref();
            if validate == Validate::Skip || TARGET_CLASSES.contains(&p.as_str()) {
                continue;
            }
            if !p.starts_with('/') && !p.contains('/') && !p.contains('*') {
                diags.push(
                    Diagnostic::at(
                        file,
                        text,
                        s.span(),
                        format!("unknown target class `{p}`; a path pattern must be absolute"),
                    )
                    .with_help(
                        did_you_mean(p, TARGET_CLASSES.iter().copied())
                            .or_else(|| Some(format!("classes are {}", TARGET_CLASSES.join(", ")))),
                    ),
                );
            } else if !p.starts_with('/') {
                diags.push(Diagnostic::at(
                    file,
                    text,
                    s.span(),
                    format!("path pattern `{p}` must be absolute (operands are resolved against the working directory)"),
                ));
            } else if let Err(e) = path_glob(p) {
                diags.push(Diagnostic::at(
                    file,
                    text,
                    s.span(),
                    format!("invalid path pattern: {e}"),
                ));
            }
        }
        Some(LazyGlobs::new(
            list.iter().map(|s| s.get_ref().clone()).collect(),
        ))
    };
    let target = globs(&raw.target);
    let redirect = globs(&raw.redirect);
    let redirect_append = globs(&raw.redirect_append);
    let kinds = crate::sql::statement_kinds();
    for s in &raw.sql {
        if !kinds.contains(&s.get_ref().as_str()) {
            diags.push(
                Diagnostic::at(
                    file,
                    text,
                    s.span(),
                    format!("unknown statement kind `{}`", s.get_ref()),
                )
                .with_help(did_you_mean(s.get_ref(), kinds.iter().copied())),
            );
        }
    }
    if validate == Validate::Now {
        check_flag_names(raw, file, text, diags);
        check_subcommands(raw, file, text, diags);
    }
    Matcher {
        program: raw.program.clone(),
        subcommand: raw
            .subcommand
            .iter()
            .map(|s| s.get_ref().split_whitespace().map(str::to_string).collect())
            .collect(),
        flags: raw
            .flags
            .iter()
            .map(|f| {
                f.get_ref()
                    .split('|')
                    .map(|a| a.trim().trim_start_matches('-').to_string())
                    .collect()
            })
            .collect(),
        not_flags: raw
            .not_flags
            .iter()
            .map(|f| f.get_ref().trim_start_matches('-').to_string())
            .collect(),
        args,
        not_args,
        target,
        redirect,
        redirect_append,
        sql: raw.sql.iter().map(|s| s.get_ref().clone()).collect(),
        sql_function: raw
            .sql_function
            .iter()
            .map(|s| s.get_ref().to_ascii_lowercase())
            .collect(),
        other_host: raw.other_host,
        via: raw.via.clone(),
        remote: raw.remote,
        dynamic: raw.dynamic,
        raw: raw_re,
    }
}

/// Flag names in `flags` and `not_flags` that none of the rule's programs has, as warnings
/// (`policy lint` makes them errors): a misspelt flag never matches, so the rule would fail open.
/// A rule without programs, with a program pattern, or naming a program without an option table
/// accepts any flag name.
fn check_flag_names(raw: &RawMatch, file: &str, text: &str, diags: &mut Vec<Diagnostic>) {
    use crate::clients::{rule_flag, rule_flag_names, RuleFlag};
    if raw.program.is_empty()
        || raw
            .program
            .iter()
            .any(|p| super::glob::is_glob(p) || rule_flag_names(p).is_none())
    {
        return;
    }
    let entries = raw
        .flags
        .iter()
        .map(|f| (f, "flags"))
        .chain(raw.not_flags.iter().map(|f| (f, "not_flags")));
    for (entry, field) in entries {
        for alt in entry.get_ref().split('|') {
            let name = alt.trim().trim_start_matches('-');
            if name.is_empty() {
                continue;
            }
            let meanings: Vec<RuleFlag> = raw
                .program
                .iter()
                .filter_map(|p| rule_flag(p, name))
                .collect();
            if meanings.contains(&RuleFlag::Known) {
                continue;
            }
            let programs = raw.program.join(", ");
            let (message, help) = match meanings.iter().find_map(|m| match m {
                RuleFlag::Alias(c) => Some(*c),
                _ => None,
            }) {
                Some(canon) => (
                    format!("`{field}`: flag `{name}` is read as `{canon}` for {programs}; a rule naming `{name}` never matches"),
                    Some(format!("write `{canon}`")),
                ),
                None => {
                    let known: std::collections::BTreeSet<&str> = raw
                        .program
                        .iter()
                        .filter_map(|p| rule_flag_names(p))
                        .flatten()
                        .collect();
                    (
                        format!("`{field}`: unknown flag `{name}` for {programs}"),
                        did_you_mean(name, known.iter().copied()).or_else(|| {
                            Some(format!(
                                "the option table of {programs} knows: {}",
                                known.iter().copied().collect::<Vec<_>>().join(", ")
                            ))
                        }),
                    )
                }
            };
            diags.push(
                Diagnostic::at(file, text, entry.span(), message)
                    .with_help(help)
                    .as_warning(),
            );
        }
    }
}

/// First `subcommand` words that none of the rule's programs has, as warnings (`policy lint`
/// makes them errors): `kubectl delte` never matches, so the rule would fail open. Only the first
/// word is checked, and only when every program of the rule has a fixed set of subcommands
/// (the tables in `crate::clients`); a pattern alternative (`*-instance`) passes.
fn check_subcommands(raw: &RawMatch, file: &str, text: &str, diags: &mut Vec<Diagnostic>) {
    use crate::clients::rule_subcommands;
    if raw.program.iter().any(|p| super::glob::is_glob(p)) {
        return;
    }
    let Some(tables) = raw
        .program
        .iter()
        .map(|p| rule_subcommands(p))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    if tables.is_empty() {
        return;
    }
    let known: std::collections::BTreeSet<&str> = tables.into_iter().flatten().collect();
    let programs = raw.program.join(", ");
    for entry in &raw.subcommand {
        let Some(first) = entry.get_ref().split_whitespace().next() else {
            continue;
        };
        for word in first.split('|') {
            if word.is_empty() || super::glob::is_glob(word) || known.contains(word) {
                continue;
            }
            diags.push(
                Diagnostic::at(
                    file,
                    text,
                    entry.span(),
                    format!("`subcommand`: unknown subcommand `{word}` for {programs}"),
                )
                .with_help(did_you_mean(word, known.iter().copied()))
                .as_warning(),
            );
        }
    }
}

fn check_placeholders(
    msg: &toml::Spanned<String>,
    file: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let s = msg.get_ref();
    let mut rest = s.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            diags.push(
                Diagnostic::at(
                    file,
                    text,
                    msg.span(),
                    format!("unknown placeholder `{{{name}}}` in message"),
                )
                .with_help(
                    did_you_mean(name, PLACEHOLDERS.iter().copied())
                        .or_else(|| Some(format!("placeholders are {}", PLACEHOLDERS.join(", ")))),
                ),
            );
        }
        rest = &after[close + 1..];
    }
}

/// The regex crate's multi-line error, reduced to its last line ("unclosed group").
fn one_line(s: &str) -> String {
    let last = s
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(s);
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

impl Rule {
    /// Program names this rule is indexed under; `*` when it applies to any program.
    pub fn index_keys(&self) -> Vec<&str> {
        if self.m.program.is_empty() || self.m.program.iter().any(|p| super::glob::is_glob(p)) {
            vec!["*"]
        } else {
            self.m.program.iter().map(String::as_str).collect()
        }
    }
}

#[cfg(test)]
mod flag_name_tests {
    use super::super::load::{lint_files, parse_pack, LoadOptions, PolicySet};
    use super::super::Diagnostic;

    fn pack(matcher: &str) -> String {
        format!("[[rule]]\nid = \"t.one\"\naction = \"deny\"\nmessage = \"m\"\nmatch = {matcher}\n")
    }

    fn diags(matcher: &str) -> (usize, Vec<Diagnostic>) {
        let (p, d) = parse_pack("t.toml", "t", &pack(matcher));
        (p.rules.len(), d)
    }

    #[test]
    fn misspelt_long_flag_is_a_warning_with_position_and_suggestion() {
        let (rules, d) = diags(r#"{ program = ["rm"], flags = ["--recusive"] }"#);
        assert_eq!(rules, 1, "a warning does not stop the rule loading");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].warning);
        assert_eq!((d[0].line, d[0].col), (5, 38));
        assert_eq!(d[0].message, "`flags`: unknown flag `recusive` for rm");
        assert_eq!(d[0].help.as_deref(), Some("did you mean `recursive`?"));
    }

    #[test]
    fn short_letter_read_under_its_long_name_is_reported() {
        let (_, d) = diags(r#"{ program = ["rm"], flags = ["r"] }"#);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0]
            .message
            .contains("flag `r` is read as `recursive` for rm"));
        assert_eq!(d[0].help.as_deref(), Some("write `recursive`"));
    }

    #[test]
    fn long_alias_read_under_its_canonical_name_is_reported() {
        let (_, d) = diags(r#"{ program = ["vault"], flags = ["ns"] }"#);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("read as `namespace`"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn every_alternative_and_not_flags_are_checked() {
        let (_, d) =
            diags(r#"{ program = ["kubectl"], flags = ["force|forec"], not_flags = ["dry-rn"] }"#);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "`flags`: unknown flag `forec` for kubectl",
                "`not_flags`: unknown flag `dry-rn` for kubectl"
            ]
        );
        assert_eq!(d[1].help.as_deref(), Some("did you mean `dry-run`?"));
    }

    #[test]
    fn known_flags_and_help_pass() {
        let (_, d) = diags(
            r#"{ program = ["rm"], flags = ["recursive", "force|interactive"], not_flags = ["help", "version"] }"#,
        );
        assert!(d.is_empty(), "{d:?}");
        let (_, d) = diags(r#"{ program = ["kill"], flags = ["signal"] }"#);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn unlisted_short_letters_pass() {
        // `rm -x` is reported as `x`: the table cannot tell it is wrong.
        let (_, d) = diags(r#"{ program = ["rm"], flags = ["x"] }"#);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn program_without_a_table_accepts_any_flag() {
        let (_, d) = diags(r#"{ program = ["mytool"], flags = ["recusive"] }"#);
        assert!(d.is_empty(), "{d:?}");
        let (_, d) = diags(r#"{ program = ["rm", "mytool"], flags = ["recusive"] }"#);
        assert!(d.is_empty(), "one program without a table: {d:?}");
        let (_, d) = diags(r#"{ program = ["r*"], flags = ["recusive"] }"#);
        assert!(d.is_empty(), "a program pattern: {d:?}");
        let (_, d) = diags(r#"{ args = ["x"], flags = ["recusive"] }"#);
        assert!(d.is_empty(), "no program: {d:?}");
    }

    #[test]
    fn a_flag_known_to_any_of_the_programs_passes() {
        let (_, d) = diags(r#"{ program = ["rm", "kubectl"], flags = ["namespace"] }"#);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn misspelt_subcommand_is_reported_with_position_and_suggestion() {
        let (rules, d) = diags(r#"{ program = ["kubectl", "oc"], subcommand = ["delte ns"] }"#);
        assert_eq!(rules, 1);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].warning);
        assert_eq!((d[0].line, d[0].col), (5, 54));
        assert_eq!(
            d[0].message,
            "`subcommand`: unknown subcommand `delte` for kubectl, oc"
        );
        assert_eq!(d[0].help.as_deref(), Some("did you mean `delete`?"));
        let (_, d) = diags(r#"{ program = ["terraform"], subcommand = ["destory|apply"] }"#);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].help.as_deref(), Some("did you mean `destroy`?"));
        let (_, d) = diags(r#"{ program = ["systemctl"], subcommand = ["restrat"] }"#);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `restart`?"));
        let (_, d) = diags(r#"{ program = ["git"], subcommand = ["psuh"] }"#);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `push`?"));
    }

    #[test]
    fn known_subcommands_patterns_and_open_programs_pass() {
        for m in [
            r#"{ program = ["kubectl"], subcommand = ["delete ns|namespace", "adm drain"] }"#,
            r#"{ program = ["git"], subcommand = ["stash clear|drop", "push"] }"#,
            r#"{ program = ["docker", "docker-compose"], subcommand = ["down", "compose * down"] }"#,
            r#"{ program = ["helm"], subcommand = ["uninstall|delete|del|un"] }"#,
            r#"{ program = ["aws"], subcommand = ["* delete-*"] }"#,
            r#"{ program = ["kubectl", "mytool"], subcommand = ["frobnicate"] }"#,
            r#"{ program = ["kube*"], subcommand = ["frobnicate"] }"#,
            r#"{ subcommand = ["frobnicate"] }"#,
        ] {
            let (_, d) = diags(m);
            assert!(d.is_empty(), "{m}: {d:?}");
        }
    }

    #[test]
    fn lint_rejects_unknown_subcommands_and_sql_kinds_at_their_position() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("20-site.toml");
        std::fs::write(
            &file,
            format!(
                "{}{}",
                pack(r#"{ program = ["helm"], subcommand = ["unistall"] }"#),
                pack(r#"{ program = ["psql"], sql = ["drop-databse"] }"#).replace("t.one", "t.two"),
            ),
        )
        .unwrap();
        let lint = lint_files(std::slice::from_ref(&file));
        let shown: Vec<String> = lint.iter().map(ToString::to_string).collect();
        assert_eq!(lint.len(), 2, "{shown:?}");
        assert!(lint.iter().all(|d| !d.warning), "{shown:?}");
        let name = file.display().to_string();
        assert!(
            shown[0].contains(&format!("{name}:5:"))
                && shown[0].contains("unknown subcommand `unistall` for helm")
                && shown[0].contains("did you mean `uninstall`?"),
            "{}",
            shown[0]
        );
        assert!(
            shown[1].contains(&format!("{name}:10:"))
                && shown[1].contains("unknown statement kind `drop-databse`")
                && shown[1].contains("did you mean `drop-database`?"),
            "{}",
            shown[1]
        );
    }

    #[test]
    fn loading_keeps_it_as_a_warning_and_lint_makes_it_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("10-site.toml");
        std::fs::write(
            &file,
            pack(r#"{ program = ["rm"], flags = ["--recusive"] }"#),
        )
        .unwrap();
        let set = PolicySet::load(&LoadOptions {
            policy_dir: Some(dir.path().to_path_buf()),
            no_embedded: true,
        });
        assert!(!set.strict, "{:?}", set.errors);
        assert!(set.errors.is_empty());
        assert_eq!(set.warnings.len(), 1);
        assert!(set.warnings[0].warning);
        let lint = lint_files(&[file]);
        assert_eq!(lint.len(), 1);
        assert!(!lint[0].warning);
        assert!(lint[0].to_string().starts_with("error: "), "{}", lint[0]);
    }
}

#[cfg(test)]
mod target_class_tests {
    use super::super::load::parse_pack;
    use crate::host::{state, HostContext, Protected};
    use crate::shell::{analyze, Context};

    fn pack(matcher: &str) -> String {
        format!("[[rule]]\nid = \"t.one\"\naction = \"deny\"\nmessage = \"m\"\nmatch = {matcher}\n")
    }

    #[test]
    fn a_misspelt_class_is_an_error_with_a_suggestion() {
        let (p, d) = parse_pack(
            "t.toml",
            "t",
            &pack(r#"{ program = ["rm"], target = ["protectd"] }"#),
        );
        assert!(p.rules.is_empty());
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("unknown target class `protectd`"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].help.as_deref(), Some("did you mean `protected`?"));
        let (p, d) = parse_pack(
            "t.toml",
            "t",
            &pack(r#"{ program = ["rm"], target = ["var/lib/*"] }"#),
        );
        assert!(p.rules.is_empty());
        assert!(
            d[0].message.contains("must be absolute"),
            "{}",
            d[0].message
        );
    }

    /// A host whose state is discovered under `root` (`dir/proc` its proc), and a context in
    /// `/root`.
    fn discovered(dir: &std::path::Path, root: &std::path::Path) -> (HostContext, Context) {
        let mut host = HostContext::unknown();
        host.protected = Protected::discover(
            state::Roots {
                root: root.to_owned(),
                proc: dir.join("proc"),
                sys: dir.join("sys"),
            },
            Vec::new(),
            Vec::new(),
        );
        let ctx = Context {
            cwd: "/root".into(),
            ..Context::default()
        };
        (host, ctx)
    }

    #[test]
    fn the_class_matches_what_discovery_found_and_patterns_still_match() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("var/lib/myapp")).unwrap();
        std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        std::fs::write(dir.path().join("proc/self/mountinfo"), "").unwrap();
        let (p, d) = parse_pack(
            "t.toml",
            "t",
            &pack(r#"{ program = ["rm"], target = ["protected", "/tmp/keep/**"] }"#),
        );
        assert!(d.is_empty(), "{d:?}");
        let rule = &p.rules[0];
        let (host, ctx) = discovered(dir.path(), &root);
        let hit = |cmd: &str| {
            analyze(cmd, &ctx)
                .invocations
                .iter()
                .enumerate()
                .find_map(|(i, inv)| rule.matches(inv, i, &host))
        };
        let m = hit("rm -rf /var/lib/myapp").expect("discovered state");
        assert!(
            m.message.contains("protected: /var/lib/myapp"),
            "{}",
            m.message
        );
        assert!(hit("rm -rf /var/lib/gone").is_none(), "not there");
        assert!(
            hit("rm -rf /tmp/keep/x").is_some(),
            "a pattern next to the class"
        );
        assert!(hit("rm -rf /tmp/other").is_none());
    }

    #[test]
    fn a_find_above_the_state_is_judged_on_the_files_there() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("var/lib/postgresql/15/main/base")).unwrap();
        std::fs::write(root.join("var/lib/postgresql/15/main/base/1259"), "x").unwrap();
        std::fs::create_dir_all(root.join("var/lib/myapp")).unwrap();
        std::fs::write(root.join("var/lib/myapp/state.db"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        std::fs::write(dir.path().join("proc/self/mountinfo"), "").unwrap();
        let (host, ctx) = discovered(dir.path(), &root);
        let rule_of = |m: &str| {
            let (p, d) = parse_pack("t.toml", "t", &pack(m));
            assert!(d.is_empty(), "{d:?}");
            p.rules.into_iter().next().unwrap()
        };
        let find = rule_of(
            r#"{ program = ["find"], args = ["^-delete$"], target = ["protected", "/var/lib/postgresql/**"] }"#,
        );
        let rm = rule_of(r#"{ program = ["rm"], target = ["protected"] }"#);
        let hit = |rule: &super::Rule, cmd: &str| {
            analyze(cmd, &ctx)
                .invocations
                .iter()
                .enumerate()
                .any(|(i, inv)| rule.matches(inv, i, &host).is_some())
        };
        for cmd in [
            "find / -name core -delete",
            "find /var -name '*.log' -delete",
            "find /var/lib -type f -name '*.tmp' -delete",
        ] {
            assert!(!hit(&find, cmd), "{cmd}: no such file in the state");
        }
        for cmd in [
            "find / -name 1259 -delete",
            "find /var -type f -mtime +30 -delete",
            "find /var/lib/postgresql -name '*.nothing' -delete",
            "find /var/lib/myapp -name '*.nothing' -delete",
        ] {
            assert!(hit(&find, cmd), "{cmd}");
        }
        assert!(!hit(&rm, r"find /var -name core -exec rm {} \;"));
        assert!(!hit(&rm, "find / -name '*.mp3' | xargs rm"));
        assert!(hit(&rm, r"find /var/lib -name myapp -exec rm -rf {} +"));
        assert!(hit(&rm, r"find /var -name state.db -exec rm {} \;"));
        // `/home/*` is the home directories, not every file in them.
        std::fs::create_dir_all(root.join("home/alice/logs")).unwrap();
        std::fs::write(root.join("home/alice/logs/error_log"), "x").unwrap();
        let homes = rule_of(r#"{ program = ["rm"], target = ["/home/*"] }"#);
        assert!(!hit(
            &homes,
            r"find /home -name error_log -exec rm -rf {} \;"
        ));
        assert!(hit(&homes, r"find /home -name alice -exec rm -rf {} \;"));
        assert!(hit(&homes, r"find /home -maxdepth 1 -exec rm -rf {} +"));
    }
}
