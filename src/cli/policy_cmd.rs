//! `prodguard policy lint|test|show`: for policy authors.

use super::{Global, EXIT_OK, EXIT_REFUSED, EXIT_USAGE};
use crate::host::HostContext;
use crate::policy::{
    lint_files, site_pack_files, LoadOptions, PolicySet, Rule, DEFAULT_POLICY_DIR,
};
use crate::shell::{analyze, Context};
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check pack files and report every error as file:line:col (default: the embedded packs and
    /// the site pack directory).
    Lint {
        /// Pack files to check.
        files: Vec<PathBuf>,
    },
    /// Run every rule's embedded examples (`tests.match`, `tests.ignore`).
    Test {
        /// Only rules whose id starts with this.
        #[arg(long)]
        rule: Option<String>,
        /// Print every example, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
    /// List the rules in force.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Only the rule with this id.
        id: Option<String>,
    },
}

pub fn run(global: &Global, cmd: &PolicyCommand) -> u8 {
    match cmd {
        PolicyCommand::Lint { files } => lint(global, files),
        PolicyCommand::Test { rule, verbose } => test(global, rule.as_deref(), *verbose),
        PolicyCommand::Show { json, id } => show(global, *json, id.as_deref()),
    }
}

fn load(global: &Global) -> PolicySet {
    PolicySet::load(&LoadOptions {
        policy_dir: global.policy_dir.clone(),
        no_embedded: false,
    })
}

fn lint(global: &Global, files: &[PathBuf]) -> u8 {
    let mut diags = Vec::new();
    let mut checked = 0;
    if files.is_empty() {
        let (rules, d) = PolicySet::embedded_only(true).all_rules();
        checked += rules.len();
        diags.extend(d);
        let dir = global
            .policy_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
        match site_pack_files(&dir) {
            Ok(f) => diags.extend(lint_files(&f)),
            Err(d) => diags.push(d),
        }
    } else {
        diags.extend(lint_files(files));
    }
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    for d in &diags {
        let _ = write!(err, "{d}");
    }
    if diags.is_empty() {
        let _ = writeln!(
            err,
            "prodguard: policy lint: no errors{}",
            if checked > 0 {
                format!(" ({checked} embedded rules)")
            } else {
                String::new()
            }
        );
        EXIT_OK
    } else {
        let _ = writeln!(
            err,
            "prodguard: policy lint: {} error{}",
            diags.len(),
            if diags.len() == 1 { "" } else { "s" }
        );
        EXIT_REFUSED
    }
}

/// A host on which `rule`'s `when` holds, for running its examples.
pub fn test_host(rule: &Rule) -> HostContext {
    let mut host = HostContext::unknown();
    let pick = |v: &[String], default: &str| -> String {
        v.first()
            .map(|s| s.replace(['*', '?'], "x"))
            .unwrap_or_else(|| default.to_string())
    };
    host.hostname = pick(&rule.when.host, "testhost.example.com");
    host.environment = pick(&rule.when.env, "production");
    host.role = Some(pick(&rule.when.role, "test"));
    host.fleet = vec![crate::host::FleetHost {
        name: "otherhost.example.com".into(),
        role: Some("db-replica".into()),
        environment: None,
    }];
    host
}

/// Run one rule's examples; the failures, as messages.
pub fn rule_failures(rule: &Rule, ctx: &Context) -> (usize, Vec<String>) {
    let host = test_host(rule);
    let mut failures = Vec::new();
    for t in &rule.tests {
        let analysis = analyze(&t.command, ctx);
        let hit = rule.applies_on(&host)
            && analysis
                .invocations
                .iter()
                .enumerate()
                .any(|(i, inv)| rule.matches(inv, i, &host).is_some());
        if hit != t.should_match {
            failures.push(format!(
                "{}: {} `{}`",
                rule.id,
                if t.should_match {
                    "does not match"
                } else {
                    "matches (listed in tests.ignore)"
                },
                t.command
            ));
        }
    }
    (rule.tests.len(), failures)
}

fn test(global: &Global, prefix: Option<&str>, verbose: bool) -> u8 {
    let policy = load(global);
    let (rules, diags) = policy.all_rules();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for d in diags.iter().chain(&policy.errors) {
        let _ = write!(out, "{d}");
    }
    let ctx = Context {
        cwd: "/root".into(),
        home: Some("/root".into()),
        env: Vec::new(),
        stdin_unknown: false,
    };
    let (mut passed, mut failed, mut untested) = (0usize, 0usize, Vec::new());
    for rule in rules
        .iter()
        .filter(|r| prefix.is_none_or(|p| r.id.starts_with(p)))
    {
        if rule.tests.is_empty() {
            untested.push(rule.id.clone());
        }
        let (n, failures) = rule_failures(rule, &ctx);
        passed += n - failures.len();
        failed += failures.len();
        for f in &failures {
            let _ = writeln!(out, "FAIL {f}");
        }
        if verbose && failures.is_empty() && n > 0 {
            let _ = writeln!(out, "ok   {} ({n} examples)", rule.id);
        }
    }
    for id in &untested {
        let _ = writeln!(
            out,
            "FAIL {id}: has no embedded examples (tests.match / tests.ignore)"
        );
    }
    failed += untested.len();
    let _ = writeln!(out, "policy test: {passed} passed, {failed} failed");
    if failed > 0 || !diags.is_empty() || policy.strict {
        EXIT_REFUSED
    } else {
        EXIT_OK
    }
}

fn show(global: &Global, json: bool, id: Option<&str>) -> u8 {
    let policy = load(global);
    let (rules, _) = policy.all_rules();
    let rules: Vec<_> = rules
        .into_iter()
        .filter(|r| id.is_none_or(|i| r.id == i))
        .collect();
    if let Some(i) = id {
        if rules.is_empty() {
            eprintln!("prodguard: policy show: no rule `{i}`");
            return EXIT_USAGE;
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let v: Vec<&Rule> = rules.iter().map(|r| r.as_ref()).collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
        return EXIT_OK;
    }
    let _ = writeln!(
        out,
        "policy {} ({} rules{})",
        &policy.digest[..12],
        rules.len(),
        if policy.strict {
            ", STRICT FALLBACK"
        } else {
            ""
        }
    );
    for s in &policy.sources {
        let _ = writeln!(out, "  {}  {}", &s.sha256[..12], s.name);
    }
    for r in &rules {
        let _ = writeln!(
            out,
            "{:<40} {:<8} {:<8} {}",
            r.id,
            r.action.as_str(),
            r.severity.as_str(),
            r.message
        );
    }
    EXIT_OK
}
