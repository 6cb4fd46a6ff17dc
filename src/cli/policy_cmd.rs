//! `prodguard policy lint|test|show|replay|diff|coverage|fmt|schema`: for policy authors.

use super::error::{Error, Status};
use super::replay;
use super::{Global, EXIT_OK, EXIT_REFUSED};
use crate::host::HostContext;
use crate::policy::{
    lint_files, lint_rules, site_pack_files, LoadOptions, PolicySet, Rule, DEFAULT_POLICY_DIR,
};
use crate::shell::{analyze, Context};
use clap::Subcommand;
use std::io::Read as _;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// Replay audit logs through the policy in --policy-dir (the proposal) and the one installed
    /// (or --against): which commands would be newly denied, prompted or allowed.
    Replay {
        /// Audit log files (`-` for standard input).
        #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
        audit: Vec<PathBuf>,
        /// The current site pack directory [default: /etc/prodguard/policies.d].
        #[arg(long, value_name = "DIR")]
        against: Option<PathBuf>,
        /// Print JSON (for CI).
        #[arg(long)]
        json: bool,
    },
    /// Replay a history through two site pack directories and report what changes.
    Diff {
        /// The current site pack directory.
        old: PathBuf,
        /// The proposed site pack directory.
        new: PathBuf,
        #[command(flatten)]
        history: HistoryArgs,
        /// Print JSON (for CI).
        #[arg(long)]
        json: bool,
    },
    /// Which rules matched anything in a history and which never did; rules without embedded
    /// examples are errors.
    Coverage {
        #[command(flatten)]
        history: HistoryArgs,
        /// Print JSON (for CI).
        #[arg(long)]
        json: bool,
    },
    /// Rewrite pack files in the canonical layout (comments are kept).
    Fmt {
        /// Pack files [default: the site pack directory's].
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 when a file is not in the canonical layout.
        #[arg(long)]
        check: bool,
    },
    /// Print the JSON Schema (draft 2020-12) of a policy pack, for editors.
    Schema,
}

/// Where a replayed history comes from.
#[derive(Debug, clap::Args)]
#[group(skip)]
pub struct HistoryArgs {
    /// A plain list of commands, one per line (`-` for standard input).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "audit",
        required_unless_present = "audit"
    )]
    commands: Option<PathBuf>,
    /// Audit log files: each command is replayed at its recorded time, by its recorded user.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    audit: Vec<PathBuf>,
    /// For --commands: the instant to decide at (RFC 3339) [default: now].
    #[arg(long, value_name = "RFC3339", requires = "commands")]
    now: Option<String>,
    /// For --commands: decide as this user (groups from this host's databases) [default: an
    /// unknown user: scoped rules apply, exemptions do not].
    #[arg(long, value_name = "NAME", requires = "commands")]
    user: Option<String>,
}

pub fn run(global: &Global, cmd: &PolicyCommand) -> Status {
    match cmd {
        PolicyCommand::Lint { files } => Ok(lint(global, files)),
        PolicyCommand::Test { rule, verbose } => Ok(test(global, rule.as_deref(), *verbose)),
        PolicyCommand::Show { json, id } => show(global, *json, id.as_deref()),
        PolicyCommand::Replay {
            audit,
            against,
            json,
        } => {
            let old = against
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
            let new = global
                .policy_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
            if old == new {
                eprintln!("prodguard: policy replay: the proposal (--policy-dir) is the current policy; nothing can change");
            }
            let history = HistoryArgs {
                commands: None,
                audit: audit.clone(),
                now: None,
                user: None,
            };
            diff(global, &old, &new, &history, *json)
        }
        PolicyCommand::Diff {
            old,
            new,
            history,
            json,
        } => diff(global, old, new, history, *json),
        PolicyCommand::Coverage { history, json } => coverage(global, history, *json),
        PolicyCommand::Fmt { files, check } => fmt(global, files, *check),
        PolicyCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::policy::schema::schema()).unwrap_or_default()
            );
            Ok(EXIT_OK)
        }
    }
}

/// One stream over every history file, a newline between files.
fn open_history(
    args: &HistoryArgs,
) -> Result<replay::Reader<std::io::BufReader<Box<dyn std::io::Read>>>, Error> {
    let (paths, source) = match &args.commands {
        Some(p) => (vec![p.clone()], replay::Source::Commands),
        None => (args.audit.clone(), replay::Source::Audit),
    };
    let mut stream: Box<dyn std::io::Read> = Box::new(std::io::empty());
    for p in paths {
        let r: Box<dyn std::io::Read> = if p.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(&p).map_err(Error::io(p.display().to_string()))?)
        };
        stream = Box::new(stream.chain(&b"\n"[..]).chain(r));
    }
    let mut reader = replay::Reader::new(std::io::BufReader::new(stream), source);
    reader.now = Some(match &args.now {
        Some(t) => t.parse::<jiff::Timestamp>().map_err(|e| {
            Error::Usage(format!(
                "--now {t}: {e} (write RFC 3339: 2026-12-24T15:00:00+01:00)"
            ))
        })?,
        None => jiff::Timestamp::now(),
    });
    if let Some(u) = &args.user {
        reader.subject = crate::subject::Subject::for_user(u);
    }
    Ok(reader)
}

fn load_dir(dir: &Path) -> Result<PolicySet, Error> {
    let set = PolicySet::load(&LoadOptions {
        policy_dir: Some(dir.to_path_buf()),
        no_embedded: false,
    });
    if set.strict {
        for e in &set.errors {
            eprint!("{e}");
        }
        return Err(Error::Usage(format!(
            "the policy in {} does not load; fix it first (`prodguard policy lint`)",
            dir.display()
        )));
    }
    Ok(set)
}

fn diff(global: &Global, old: &Path, new: &Path, history: &HistoryArgs, json: bool) -> Status {
    let (old, new) = (load_dir(old)?, load_dir(new)?);
    let mut reader = open_history(history)?;
    let host = HostContext::load(global.host_file.as_deref());
    let mut report = replay::diff(&mut reader, &old, &new, &host);
    report.skipped = reader.skipped;
    let text = if json {
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        report.render()
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(Error::io("cannot write the report"))?;
    Ok(EXIT_OK)
}

fn coverage(global: &Global, history: &HistoryArgs, json: bool) -> Status {
    let policy = load(global);
    if policy.strict {
        for e in &policy.errors {
            eprint!("{e}");
        }
        return Err(Error::Usage(
            "the policy does not load; fix it first (`prodguard policy lint`)".into(),
        ));
    }
    let mut reader = open_history(history)?;
    let host = HostContext::load(global.host_file.as_deref());
    let mut cov = replay::coverage(&mut reader, &policy, &host);
    cov.skipped = reader.skipped;
    let mut out = String::new();
    if json {
        out = serde_json::to_string_pretty(&cov).unwrap_or_default() + "\n";
    } else {
        let matched = cov.rules.values().filter(|n| **n > 0).count();
        out.push_str(&format!(
            "{} commands replayed; {matched} of {} rules matched something\n",
            cov.commands,
            cov.rules.len()
        ));
        out.push_str("\nmatched\n");
        for (id, n) in cov.rules.iter().filter(|(_, n)| **n > 0) {
            out.push_str(&format!("  {n:>7}  {id}\n"));
        }
        out.push_str("\nnever matched\n");
        for (id, _) in cov.rules.iter().filter(|(_, n)| **n == 0) {
            out.push_str(&format!("           {id}\n"));
        }
        for id in &cov.untested {
            out.push_str(&format!(
                "error: {id}: has no embedded examples (tests.match / tests.ignore)\n"
            ));
        }
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(Error::io("cannot write the coverage"))?;
    Ok(if cov.untested.is_empty() {
        EXIT_OK
    } else {
        EXIT_REFUSED
    })
}

fn fmt(global: &Global, files: &[PathBuf], check: bool) -> Status {
    let files = if files.is_empty() {
        let dir = global
            .policy_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
        match site_pack_files(&dir) {
            Ok(f) => f,
            Err(d) => {
                eprint!("{d}");
                return Err(Error::Usage(format!(
                    "cannot list the packs in {}",
                    dir.display()
                )));
            }
        }
    } else {
        files.to_vec()
    };
    let mut unformatted = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(Error::io(f.display().to_string()))?;
        let formatted = crate::policy::fmt::format(&text)
            .map_err(|e| Error::Usage(format!("{}: {e}", f.display())))?;
        if formatted == text {
            continue;
        }
        unformatted += 1;
        if check {
            println!("{}: not in the canonical layout", f.display());
        } else {
            std::fs::write(f, formatted).map_err(Error::io(f.display().to_string()))?;
            println!("formatted {}", f.display());
        }
    }
    Ok(if check && unformatted > 0 {
        EXIT_REFUSED
    } else {
        EXIT_OK
    })
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
    let (embedded, _) = PolicySet::embedded_only(true).all_rules();
    let mut site: Vec<Rule> = Vec::new();
    if files.is_empty() {
        checked += embedded.len();
        diags.extend(PolicySet::embedded_only(true).all_rules().1);
        let dir = global
            .policy_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR));
        match site_pack_files(&dir) {
            Ok(f) => {
                diags.extend(lint_files(&f));
                site = lint_rules(&f);
            }
            Err(d) => diags.push(d),
        }
    } else {
        diags.extend(lint_files(files));
        site = lint_rules(files);
    }
    // Warnings over every rule in force: the site's replace defaults of the same id.
    let mut all: Vec<&Rule> = embedded
        .iter()
        .map(|r| r.as_ref())
        .filter(|r| !site.iter().any(|s| s.id == r.id))
        .collect();
    all.extend(site.iter());
    let warnings = crate::policy::lint_warnings(&all);
    let site_ids: Vec<&str> = site.iter().map(|r| r.id.as_str()).collect();
    // Given files: only their rules' warnings (the defaults are checked by the test suite).
    let warnings: Vec<_> = warnings
        .into_iter()
        .filter(|w| {
            files.is_empty()
                || site_ids
                    .iter()
                    .any(|id| w.message.starts_with(&format!("rule `{id}`")))
        })
        .collect();
    {
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        for w in &warnings {
            let _ = write!(err, "{w}");
        }
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
    // The first role the rule names, or one it does not exclude.
    let roles: Vec<String> = rule
        .when
        .role
        .iter()
        .filter(|r| !r.starts_with('!'))
        .cloned()
        .collect();
    host.role = Some(pick(&roles, "test"));
    // A fixed database primary, so that examples do not depend on the machine they run on.
    host.protected = crate::host::Protected::example();
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

fn show(global: &Global, json: bool, id: Option<&str>) -> Status {
    let policy = load(global);
    let (rules, _) = policy.all_rules();
    let rules: Vec<_> = rules
        .into_iter()
        .filter(|r| id.is_none_or(|i| r.id == i))
        .collect();
    if let Some(i) = id {
        if rules.is_empty() {
            return Err(Error::Usage(format!("policy show: no rule `{i}`")));
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
        return Ok(EXIT_OK);
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
    Ok(EXIT_OK)
}
