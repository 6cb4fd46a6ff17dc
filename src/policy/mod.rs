//! Policies: TOML packs, loaded, validated and matched.
//!
//! A pack is a TOML file of `[[rule]]` tables (schema: `man/prodguard-policy.5`). Packs are read in
//! order: the ones embedded in the binary (`policies/*.toml`), then the site's
//! (`/etc/prodguard/policies.d/*.toml` in lexical order). A later rule with the same `id` replaces
//! an earlier one; `disable = ["id", …]` removes earlier rules.
//!
//! Embedded packs are indexed by program name at build time, so a check parses and compiles only
//! the rules that could apply to the programs on the command line.

mod blocks;
mod diag;
mod embedded;
pub mod fmt;
mod glob;
mod lint;
mod load;
mod matcher;
mod raw;
mod reach;
mod require;
mod rule;
pub mod schema;
pub mod when;

pub use diag::{did_you_mean, Diagnostic};
pub use glob::name_matches;
pub use lint::warnings as lint_warnings;
pub use load::{
    lint_files, lint_rules, site_pack_files, LoadOptions, PolicySet, SourceInfo,
    DEFAULT_POLICY_DIR, MAX_PACK_BYTES,
};
pub use matcher::{named_hosts, Match};
pub use require::{
    duration_spec, human_duration, human_size, parse_duration, parse_size, placeholders,
    PreconditionResult, Require, RequireKind, Unmet, FILE_PLACEHOLDER, REQUIRE_PLACEHOLDERS,
};
pub use rule::{Action, ConfirmKind, Escalation, Exemption, Rule, Severity, TestCase, When};
pub use when::{Conditions, Freeze};
