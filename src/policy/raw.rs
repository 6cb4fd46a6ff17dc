//! The policy file as written: serde structs that reject unknown keys.

use super::rule::{Action, ConfirmKind, Severity};
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPack {
    /// Validated (unknown keys are errors) but informational only.
    #[serde(default)]
    #[allow(dead_code)]
    pub pack: Option<RawPackMeta>,
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    #[serde(default)]
    pub freeze: Vec<RawFreeze>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// A dated change freeze: `[[freeze]] name = "holidays", from = "2026-12-20", to = "2027-01-04"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFreeze {
    pub name: Spanned<String>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPackMeta {
    #[allow(dead_code)]
    pub name: Option<String>,
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub id: Spanned<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    pub action: Action,
    #[serde(default)]
    pub confirm: Option<ConfirmKind>,
    #[serde(default)]
    pub approvers: Option<u32>,
    #[serde(default)]
    pub when: RawWhen,
    #[serde(rename = "match")]
    pub matcher: Spanned<RawMatch>,
    #[serde(default)]
    pub escalate: Vec<RawEscalate>,
    #[serde(default)]
    pub exempt: Vec<Spanned<RawExempt>>,
    pub message: Spanned<String>,
    #[serde(default)]
    pub why: Option<String>,
    #[serde(default)]
    pub instead: Option<String>,
    #[serde(default)]
    pub tests: RawTests,
    /// Preconditions checked before the question is asked (`[[rule.require]]`).
    #[serde(default)]
    pub require: Vec<Spanned<RawRequire>>,
    /// What an unmet precondition does: `raise` (the default) or `deny`.
    #[serde(default)]
    pub unmet: Option<Spanned<super::require::Unmet>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWhen {
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub role: Vec<String>,
    #[serde(default)]
    pub host: Vec<String>,
    #[serde(default)]
    pub user: Vec<NameOrId>,
    #[serde(default)]
    pub group: Vec<NameOrId>,
    #[serde(default)]
    pub tty: Option<bool>,
    #[serde(default)]
    pub ssh: Vec<Spanned<String>>,
    #[serde(default)]
    pub time: Vec<Spanned<String>>,
}

/// A user or group: a name, or a numeric uid/gid.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum NameOrId {
    Name(String),
    Id(u32),
}

impl NameOrId {
    pub fn text(&self) -> String {
        match self {
            NameOrId::Name(s) => s.clone(),
            NameOrId::Id(n) => n.to_string(),
        }
    }
}

/// Raise the rule's action while a condition holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEscalate {
    pub when: RawWhen,
    /// Raise to at least this action; one step when absent.
    #[serde(default)]
    pub to: Option<Action>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Who the rule does not ask: every condition must be known to hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExempt {
    #[serde(default)]
    pub user: Vec<NameOrId>,
    #[serde(default)]
    pub group: Vec<NameOrId>,
    #[serde(default)]
    pub tty: Option<bool>,
    #[serde(default)]
    pub ssh: Vec<Spanned<String>>,
    #[serde(default)]
    pub time: Vec<Spanned<String>>,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatch {
    #[serde(default)]
    pub program: Vec<String>,
    #[serde(default)]
    pub subcommand: Vec<Spanned<String>>,
    #[serde(default)]
    pub flags: Vec<Spanned<String>>,
    #[serde(default)]
    pub not_flags: Vec<Spanned<String>>,
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
    #[serde(default)]
    pub not_args: Vec<Spanned<String>>,
    #[serde(default)]
    pub target: Vec<Spanned<String>>,
    #[serde(default)]
    pub redirect: Vec<Spanned<String>>,
    #[serde(default)]
    pub redirect_append: Vec<Spanned<String>>,
    #[serde(default)]
    pub sql: Vec<Spanned<String>>,
    #[serde(default)]
    pub sql_function: Vec<Spanned<String>>,
    #[serde(default)]
    pub other_host: Option<bool>,
    #[serde(default)]
    pub via: Vec<String>,
    #[serde(default)]
    pub remote: Option<bool>,
    #[serde(default)]
    pub dynamic: Option<bool>,
    #[serde(default)]
    pub raw: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTests {
    #[serde(default, rename = "match")]
    pub matches: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// One `[[rule.require]]` table as written. Which keys apply depends on `kind`; `compile` says
/// which are missing or out of place.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequire {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub max_age: Option<Spanned<String>>,
    #[serde(default)]
    pub min_size: Option<Spanned<String>>,
    #[serde(default)]
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub exists: Option<Spanned<bool>>,
}
