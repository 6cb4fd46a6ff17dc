//! Real server SQL, labelled by the real parser, judged as an engineer would send it.
//!
//! The corpus is PostgreSQL 16.1's own regression suite (tests/data/pg-regress, PostgreSQL
//! licence). Every distinct statement is labelled here from PostgreSQL's parse tree (libpg_query),
//! independently of prodguard's classifier: *destructive* (every DROP, TRUNCATE, DELETE/UPDATE
//! without WHERE anywhere in the tree, MERGE … DELETE, GRANT/REVOKE, ALTER … DROP, REASSIGN
//! OWNED, ALTER ROLE, ALTER SYSTEM) or *read-only* (a query, SHOW, FETCH or plain EXPLAIN that
//! modifies nothing and calls none of the server's administration functions). Each is then sent
//! as `psql -h db1 -d app -c '…'` on a production database primary with the embedded policy.
//!
//! Run with `cargo test --test sql_corpus -- --nocapture` for the table by kind.

use prodguard::decide::decide;
use prodguard::host::HostContext;
use prodguard::policy::{Action, PolicySet};
use prodguard::shell::{analyze, Context};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn primary() -> HostContext {
    HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n",
        None,
    )
}

fn replica() -> HostContext {
    HostContext::from_toml(
        "hostname = \"db2.example.com\"\nenvironment = \"production\"\nrole = \"db-replica\"\n",
        None,
    )
}

fn ctx() -> Context {
    Context {
        cwd: "/root".into(),
        home: Some("/root".into()),
        env: Vec::new(),
        stdin_unknown: false,
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn action(cmd: &str, host: &HostContext, policy: &PolicySet) -> Action {
    decide(&analyze(cmd, &ctx()), policy, host).action
}

fn stops(a: Action) -> bool {
    matches!(a, Action::Confirm | Action::Approve | Action::Deny)
}

/// Every distinct statement of the corpus, psql meta-command lines removed.
fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pg-regress");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/pg-regress")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(
        files.len() > 200,
        "corpus incomplete: {} files",
        files.len()
    );
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let sql: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('\\'))
            .map(|l| format!("{l}\n"))
            .collect();
        let Ok(parts) = pg_query::split_with_scanner(&sql) else {
            continue;
        };
        for p in parts {
            let p = p.trim();
            if !p.is_empty() && seen.insert(p.to_owned()) {
                out.push(p.to_owned());
            }
        }
    }
    out
}

// --- the labeller: PostgreSQL's parse tree, read independently of prodguard ------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    Destructive(String),
    ReadOnly,
    Other,
}

/// The server's administration functions that change state (PostgreSQL docs, "System
/// Administration Functions", and large objects): a SELECT calling one is not read-only.
const ADMIN: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "set_config",
    "setval",
    "nextval",
    "lo_unlink",
    "lo_import",
    "lo_export",
    "lo_from_bytea",
    "lo_put",
    "lo_truncate",
    "pg_notify",
    "dblink",
    "dblink_exec",
];

fn nodes<'v>(v: &'v Value, out: &mut Vec<(&'v str, &'v Map<String, Value>)>) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                if let Some(f) = val.as_object() {
                    if k.starts_with(|c: char| c.is_ascii_uppercase()) {
                        out.push((k.as_str(), f));
                    }
                }
                nodes(val, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| nodes(x, out)),
        _ => {}
    }
}

fn label(sql: &str) -> Option<Label> {
    let tree = pg_query::parse(sql, 0).ok()?;
    let v = serde_json::to_value(&tree.protobuf).ok()?;
    let mut all = Vec::new();
    nodes(&v, &mut all);
    let top = all.first().map(|(t, _)| *t)?;
    let int = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_i64).unwrap_or(0);
    let null = |m: &Map<String, Value>, k: &str| m.get(k).is_none_or(Value::is_null);
    let explain_analyze = top == "ExplainStmt"
        && v.to_string()
            .to_lowercase()
            .contains("\"defname\":\"analyze\"");
    // EXPLAIN without ANALYZE plans the statement and runs nothing of it.
    if top == "ExplainStmt" && !explain_analyze {
        return Some(Label::ReadOnly);
    }
    for (ty, m) in &all {
        let d = match *ty {
            "DropStmt" => {
                let t = pg_query::protobuf::ObjectType::try_from(int(m, "remove_type") as i32)
                    .map(|t| t.as_str_name().trim_start_matches("OBJECT_").to_lowercase())
                    .unwrap_or_default();
                Some(format!("DROP {t}"))
            }
            "DropdbStmt"
            | "DropRoleStmt"
            | "DropOwnedStmt"
            | "DropSubscriptionStmt"
            | "DropTableSpaceStmt"
            | "DropUserMappingStmt"
            | "ReassignOwnedStmt"
            | "TruncateStmt"
            | "GrantStmt"
            | "GrantRoleStmt"
            | "AlterDefaultPrivilegesStmt"
            | "AlterRoleStmt"
            | "AlterSystemStmt" => Some(ty.to_string()),
            "DeleteStmt" if null(m, "where_clause") => Some("DELETE without WHERE".into()),
            "UpdateStmt" if null(m, "where_clause") => Some("UPDATE without WHERE".into()),
            "MergeStmt" => {
                let del = m
                    .get("merge_when_clauses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|c| c.to_string().contains("\"command_type\":5"));
                del.then(|| "MERGE … DELETE".into())
            }
            "AlterTableCmd" => {
                use pg_query::protobuf::AlterTableType as At;
                let s = At::try_from(int(m, "subtype") as i32).unwrap_or(At::Undefined);
                matches!(
                    s,
                    At::AtDropColumn
                        | At::AtDropConstraint
                        | At::AtDropNotNull
                        | At::AtDropInherit
                        | At::AtDetachPartition
                )
                .then(|| format!("ALTER {}", s.as_str_name().to_lowercase()))
            }
            _ => None,
        };
        if let Some(d) = d {
            return Some(Label::Destructive(d));
        }
    }
    let reads = matches!(
        top,
        "SelectStmt" | "VariableShowStmt" | "FetchStmt" | "ExplainStmt"
    );
    let writes = all.iter().any(|(t, m)| {
        matches!(*t, "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt")
            || (*t == "SelectStmt" && !null(m, "into_clause"))
            || (*t == "FuncCall"
                && m.get("funcname").is_some_and(|f| {
                    let s = f.to_string().to_lowercase();
                    ADMIN.iter().any(|a| s.contains(&format!("\"{a}\"")))
                }))
    });
    Some(if reads && !writes {
        Label::ReadOnly
    } else {
        Label::Other
    })
}

#[test]
fn regression_suite_destructive_statements_are_stopped_and_read_only_ones_run() {
    let policy = PolicySet::embedded_only(true);
    let host = primary();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut ro, mut ro_stopped, mut ro_warned) = (0usize, 0usize, 0usize);
    let mut rejected = 0usize;
    let mut ro_examples = Vec::new();
    let mut missed = Vec::new();
    let statements = corpus();
    for sql in &statements {
        let Some(l) = label(sql) else {
            rejected += 1;
            continue;
        };
        let cmd = format!("psql -h db1 -d app -c {}", shell_quote(sql));
        match l {
            Label::Destructive(kind) => {
                let a = action(&cmd, &host, &policy);
                let e = by_kind.entry(kind.clone()).or_default();
                e.0 += 1;
                if stops(a) {
                    e.1 += 1;
                } else if missed.len() < 20 {
                    missed.push(format!("{kind}: {sql}"));
                }
            }
            Label::ReadOnly => {
                ro += 1;
                let a = action(&cmd, &host, &policy);
                if stops(a) {
                    ro_stopped += 1;
                    if ro_examples.len() < 20 {
                        ro_examples.push(sql.clone());
                    }
                } else if a == Action::Warn {
                    ro_warned += 1;
                }
            }
            Label::Other => {}
        }
    }
    let (d, ds) = by_kind
        .values()
        .fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    eprintln!(
        "{} distinct statements; {rejected} rejected by the parser (psql variables, deliberate errors)",
        statements.len()
    );
    eprintln!("destructive, by kind (stopped / total):");
    for (k, (n, s)) in &by_kind {
        eprintln!("  {k:<40} {s:>5} / {n:<5}");
    }
    eprintln!(
        "destructive stopped: {ds} / {d} ({:.2} %)",
        100.0 * ds as f64 / d.max(1) as f64
    );
    eprintln!(
        "read-only falsely stopped: {ro_stopped} / {ro} ({:.3} %), warned {ro_warned}",
        100.0 * ro_stopped as f64 / ro.max(1) as f64
    );
    for m in &missed {
        eprintln!("  missed: {}", m.chars().take(160).collect::<String>());
    }
    for m in &ro_examples {
        eprintln!("  false stop: {}", m.chars().take(160).collect::<String>());
    }
    assert!(
        d > 3000 && ro > 10000,
        "corpus too small: {d} destructive, {ro} read-only"
    );
    assert!(
        ds * 1000 >= d * 995,
        "destructive stopped {ds}/{d} < 99.5 %"
    );
    assert!(
        ro_stopped * 1000 <= ro * 5,
        "read-only falsely stopped {ro_stopped}/{ro} > 0.5 %"
    );
}

/// Statements that take production down, and what the default pack does with each on a primary
/// and on a replica.
#[test]
fn outage_statements_get_their_packs_action() {
    let policy = PolicySet::embedded_only(true);
    let (p, r) = (primary(), replica());
    let cases: &[(&str, Action, Action)] = &[
        (
            "psql -c 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity'",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c 'SELECT pg_cancel_backend(pid) FROM pg_stat_activity'",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c \"SELECT pg_drop_replication_slot('r1')\"",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c 'SELECT pg_promote()'",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c 'SELECT lo_unlink(4242)'",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c 'ALTER TABLE orders ALTER COLUMN total TYPE bigint'",
            Action::Confirm,
            Action::Warn,
        ),
        (
            "psql -c 'CREATE INDEX i ON orders (user_id)'",
            Action::Confirm,
            Action::Warn,
        ),
        (
            "psql -c 'VACUUM FULL orders'",
            Action::Confirm,
            Action::Warn,
        ),
        (
            "psql -c 'CLUSTER orders USING orders_pkey'",
            Action::Confirm,
            Action::Warn,
        ),
        (
            "psql -c 'REINDEX TABLE orders'",
            Action::Confirm,
            Action::Warn,
        ),
        (
            "psql -c 'LOCK TABLE orders IN ACCESS EXCLUSIVE MODE'",
            Action::Confirm,
            Action::Warn,
        ),
        (
            "psql -c 'ALTER TABLE orders RENAME TO orders_old'",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c 'ALTER SYSTEM SET max_connections = 10'",
            Action::Confirm,
            Action::Confirm,
        ),
        (
            "psql -c 'SELECT pg_reload_conf()'",
            Action::Confirm,
            Action::Confirm,
        ),
        ("mysql -e 'RESET MASTER'", Action::Confirm, Action::Confirm),
        (
            "mysql -e 'SET GLOBAL read_only = 0'",
            Action::Confirm,
            Action::Confirm,
        ),
        ("redis-cli KEYS '*'", Action::Confirm, Action::Confirm),
        (
            "psql -c 'CREATE INDEX CONCURRENTLY i ON orders (user_id)'",
            Action::Allow,
            Action::Allow,
        ),
        (
            "psql -c 'VACUUM ANALYZE orders'",
            Action::Allow,
            Action::Allow,
        ),
        (
            "psql -c 'SELECT pid, state FROM pg_stat_activity'",
            Action::Allow,
            Action::Allow,
        ),
        ("psql -c 'SELEC 1'", Action::Allow, Action::Allow),
    ];
    let mut wrong = Vec::new();
    for (cmd, on_primary, on_replica) in cases {
        let (a, b) = (action(cmd, &p, &policy), action(cmd, &r, &policy));
        if a != *on_primary || b != *on_replica {
            wrong.push(format!(
                "{cmd}: primary {a:?} (want {on_primary:?}), replica {b:?} (want {on_replica:?})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A site pack names its own side-effect functions with `sql_function`.
#[test]
fn a_site_pack_names_its_own_dangerous_functions() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("site.toml"),
        r#"
[pack]
name = "site"

[[rule]]
id = "site.purge"
severity = "critical"
action = "deny"
match = { program = ["psql"], sql_function = ["purge_*", "billing.reset_all"] }
message = "{target} deletes customer data."
tests.match = ["psql -c 'SELECT app.purge_customers(42)'", "psql -c 'CALL billing.reset_all()'"]
tests.ignore = ["psql -c 'SELECT other.reset_all()'", "psql -c 'SELECT purge'"]
"#,
    )
    .expect("write pack");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_prodguard"))
        .args(["--policy-dir"])
        .arg(dir.path())
        .args(["--host-file", "/nonexistent/host.toml", "policy", "test"])
        .output()
        .expect("run prodguard");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" 0 failed"), "{text}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_prodguard"))
        .args(["--policy-dir"])
        .arg(dir.path())
        .args(["explain", "psql -c 'SELECT app.PURGE_customers(42)'"])
        .output()
        .expect("run prodguard");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("site.purge"), "{text}");
    assert!(
        text.contains("app.purge_customers deletes customer data"),
        "{text}"
    );
    assert!(text.contains("verdict: DENY"), "{text}");
}
