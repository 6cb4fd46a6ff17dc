//! SQL statements → kinds, with `sqlparser` (one dialect per client) and the keyword scan as a
//! fallback for what it rejects.
//!
//! Each statement is parsed on its own, after the splitter has cut the payload, so one
//! statement the parser does not know turns into one `unknown` (or scanned) statement instead of
//! poisoning the whole payload. Statements over [`MAX_STATEMENT`] bytes or nested deeper than
//! [`MAX_DEPTH`] parentheses are never handed to the parser.

use super::scan::{self, Flavor, Piece};
use super::Statement;
use sqlparser::ast::{self, BinaryOperator, Expr, ObjectName, SetExpr, Value};
use sqlparser::dialect::{
    ClickHouseDialect, Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Largest single statement handed to the parser, in bytes.
pub(crate) const MAX_STATEMENT: usize = 64 * 1024;
/// Deepest parenthesis nesting handed to the parser.
pub(crate) const MAX_DEPTH: usize = 200;

static POSTGRES: PostgreSqlDialect = PostgreSqlDialect {};
static MYSQL: MySqlDialect = MySqlDialect {};
static SQLITE: SQLiteDialect = SQLiteDialect {};
static CLICKHOUSE: ClickHouseDialect = ClickHouseDialect {};
static GENERIC: GenericDialect = GenericDialect {};

fn dialect(flavor: Flavor) -> &'static dyn Dialect {
    match flavor {
        Flavor::Postgres => &POSTGRES,
        Flavor::MySql => &MYSQL,
        Flavor::Sqlite => &SQLITE,
        Flavor::ClickHouse => &CLICKHOUSE,
        Flavor::Generic => &GENERIC,
    }
}

/// Every statement and client command of `src`, classified in order.
pub(crate) fn payload(src: &str, flavor: Flavor, out: &mut Vec<Statement>) {
    for piece in scan::split(src, flavor) {
        match piece {
            Piece::Sql {
                text,
                clean,
                skel,
                depth,
            } => sql(&text, &clean, &skel, depth, flavor, out),
            Piece::Meta(m) => out.push(meta(&m, flavor)),
        }
    }
}

fn sql(
    text: &str,
    clean: &str,
    skel: &str,
    depth: usize,
    flavor: Flavor,
    out: &mut Vec<Statement>,
) {
    let too_big = if clean.len() > MAX_STATEMENT {
        Some(format!(
            "statement of {} bytes not parsed (limit {MAX_STATEMENT})",
            clean.len()
        ))
    } else if depth > MAX_DEPTH {
        Some(format!(
            "statement nested {depth} parentheses deep not parsed (limit {MAX_DEPTH})"
        ))
    } else {
        None
    };
    if let Some(why) = too_big {
        let (kind, target) = scan::scan_kind(skel, flavor);
        let mut st = Statement::new(kind, target, text);
        if kind == "unknown" {
            st.note = Some(why);
        }
        out.push(st);
        return;
    }
    if flavor == Flavor::Postgres {
        out.extend(postgres_statement(text, skel));
        return;
    }
    if flavor == Flavor::MySql {
        if let Some(k) = mysql_replication(skel) {
            out.push(Statement::new(k, None, text));
            return;
        }
    }
    let d = dialect(flavor);
    let parsed = catch_unwind(AssertUnwindSafe(|| Parser::parse_sql(d, clean)));
    match parsed {
        Ok(Ok(stmts)) => {
            for st in &stmts {
                for (kind, target) in kinds(st, skel, flavor, 0) {
                    out.push(Statement::new(kind, target, text));
                }
            }
        }
        Ok(Err(e)) => {
            let (kind, target) = scan::scan_kind(skel, flavor);
            let mut st = Statement::new(kind, target, text);
            st.note = Some(format!(
                "not understood by the SQL parser ({e}); keyword scan"
            ));
            out.push(st);
        }
        Err(_) => {
            let (kind, target) = scan::scan_kind(skel, flavor);
            let mut st = Statement::new(kind, target, text);
            st.note = Some("the SQL parser failed on this statement; keyword scan".to_owned());
            out.push(st);
        }
    }
}

pub(super) type Kinds = Vec<(&'static str, Option<String>)>;

/// MySQL statements that change binary logging or replication: `RESET MASTER` deletes every
/// binary log (replicas and point-in-time recovery lose their source), `PURGE BINARY LOGS`,
/// `CHANGE MASTER/REPLICATION SOURCE TO`, `STOP/RESET SLAVE|REPLICA`.
fn mysql_replication(skel: &str) -> Option<&'static str> {
    let words = scan::words(skel);
    let w = |k: usize| words.get(k).map(String::as_str).unwrap_or("");
    match (w(0), w(1)) {
        ("RESET", "MASTER" | "SLAVE" | "REPLICA" | "BINARY")
        | ("PURGE", "BINARY" | "MASTER")
        | ("CHANGE", "MASTER" | "REPLICATION")
        | ("STOP", "SLAVE" | "REPLICA") => Some("replication"),
        _ => None,
    }
}

/// A PostgreSQL statement read by the server's own grammar.
fn postgres_statement(text: &str, skel: &str) -> Vec<Statement> {
    match super::postgres::statement(text) {
        super::postgres::Read::Kinds(kinds, functions) => kinds
            .into_iter()
            .map(|(kind, target)| {
                let mut st = Statement::new(kind, target, text);
                st.functions.clone_from(&functions);
                st
            })
            .collect(),
        super::postgres::Read::Rejected(why) if psql_variable(skel) => {
            vec![Statement::new("unknown", None, text).with_note(format!(
                "holds a psql variable, substituted only when psql runs it ({why})"
            ))]
        }
        super::postgres::Read::Rejected(why) => {
            vec![
                Statement::new("syntax-error", None, text).with_note(format!(
                    "PostgreSQL's parser rejects it ({why}): the server would run none of it"
                )),
            ]
        }
    }
}

/// Whether `skel` (string contents removed) holds a psql variable reference: `:name`,
/// `:'name'`, `:"name"`, `:{?name}`, but not a `::type` cast.
fn psql_variable(skel: &str) -> bool {
    let b = skel.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b':'
            && (i == 0 || b[i - 1] != b':')
            && b.get(i + 1).is_some_and(|&n| {
                n.is_ascii_alphabetic() || matches!(n, b'_' | b'\'' | b'"' | b'{')
            })
    })
}

/// An object name as the user would type it, quotes removed (`public.users`).
fn name(n: &ObjectName) -> String {
    let mut s = String::new();
    for (k, part) in n.0.iter().enumerate() {
        if k > 0 {
            s.push('.');
        }
        match part.as_ident() {
            Some(id) => s.push_str(&id.value),
            None => s.push_str(&part.to_string()),
        }
    }
    s
}

fn table_factor_name(t: &ast::TableFactor) -> Option<String> {
    match t {
        ast::TableFactor::Table { name: n, .. } => Some(name(n)),
        _ => None,
    }
}

/// `WHERE true`, `WHERE 1`, `WHERE 1=1`, `WHERE x = x`, `WHERE … OR 1=1`: no restriction at all.
fn trivially_true(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => *b,
            Value::Number(n, _) => n.parse::<f64>().is_ok_and(|x| x != 0.0),
            _ => false,
        },
        Expr::Nested(inner) => trivially_true(inner),
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::Eq => left == right,
            BinaryOperator::Or => trivially_true(left) || trivially_true(right),
            BinaryOperator::And => trivially_true(left) && trivially_true(right),
            _ => false,
        },
        _ => false,
    }
}

/// Functions that change server state even when called from a `SELECT`.
const SIDE_EFFECT_FUNCTIONS: &[&str] = &[
    "PG_TERMINATE_BACKEND",
    "PG_CANCEL_BACKEND",
    "PG_DROP_REPLICATION_SLOT",
    "PG_PROMOTE",
    "PG_RELOAD_CONF",
    "PG_SWITCH_WAL",
    "PG_CREATE_RESTORE_POINT",
    "PG_WAL_REPLAY_PAUSE",
    "PG_FILE_WRITE",
    "PG_FILE_UNLINK",
    "PG_FILE_RENAME",
    "LO_UNLINK",
    "LO_IMPORT",
    "LO_EXPORT",
    "DBLINK_EXEC",
    "SET_CONFIG",
    "SETVAL",
    "NEXTVAL",
];

fn query_kinds(q: &ast::Query, flavor: Flavor, depth: usize, out: &mut Kinds) {
    if depth > 32 {
        out.push(("unknown", None));
        return;
    }
    if let Some(with) = &q.with {
        for cte in &with.cte_tables {
            query_kinds(&cte.query, flavor, depth + 1, out);
        }
    }
    setexpr_kinds(&q.body, flavor, depth + 1, out);
}

fn setexpr_kinds(s: &SetExpr, flavor: Flavor, depth: usize, out: &mut Kinds) {
    if depth > 32 {
        out.push(("unknown", None));
        return;
    }
    match s {
        SetExpr::Select(sel) => {
            if let Some(into) = &sel.into {
                out.push(("create", into.targets.first().map(ToString::to_string)));
            }
        }
        SetExpr::Query(q) => query_kinds(q, flavor, depth + 1, out),
        SetExpr::SetOperation { left, right, .. } => {
            setexpr_kinds(left, flavor, depth + 1, out);
            setexpr_kinds(right, flavor, depth + 1, out);
        }
        SetExpr::Insert(st) | SetExpr::Update(st) | SetExpr::Delete(st) | SetExpr::Merge(st) => {
            out.extend(kinds(st, "", flavor, depth + 1));
        }
        _ => {}
    }
}

/// The kinds of one parsed statement, one entry per object for multi-object `DROP`/`TRUNCATE`.
/// `skel` is the statement's skeleton (empty for nested statements).
fn kinds(st: &ast::Statement, skel: &str, flavor: Flavor, depth: usize) -> Kinds {
    use ast::Statement as S;
    let one = |k: &'static str, t: Option<String>| vec![(k, t)];
    if depth > 32 {
        return one("unknown", None);
    }
    let words = scan::words(skel);
    let w = |k: usize| words.get(k).map(String::as_str).unwrap_or("");
    match st {
        S::Query(q) => {
            let mut out = Vec::new();
            query_kinds(q, flavor, depth + 1, &mut out);
            if out.is_empty() {
                if let Some(f) = words
                    .iter()
                    .find(|x| SIDE_EFFECT_FUNCTIONS.contains(&x.as_str()))
                {
                    return one("write", Some(f.to_lowercase()));
                }
                out.push(("read-only", None));
            }
            out
        }
        S::Insert(i) => one("insert", Some(i.table.to_string())),
        S::Update(u) => {
            let kind = match &u.selection {
                Some(e) if !trivially_true(e) => "update",
                _ => "update-without-where",
            };
            one(kind, table_factor_name(&u.table.relation))
        }
        S::Delete(d) => {
            let kind = match &d.selection {
                Some(e) if !trivially_true(e) => "delete",
                _ if d.using.is_some() => "delete",
                _ => "delete-without-where",
            };
            let target = d.tables.first().map(name).or_else(|| match &d.from {
                ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => {
                    t.first().and_then(|t| table_factor_name(&t.relation))
                }
            });
            one(kind, target)
        }
        S::Merge(m) => one("update", table_factor_name(&m.table)),
        S::Truncate(t) => t
            .table_names
            .iter()
            .map(|t| ("truncate", Some(name(&t.name))))
            .collect(),
        S::Drop {
            object_type, names, ..
        } => {
            let kind = match object_type {
                ast::ObjectType::Database => "drop-database",
                ast::ObjectType::Schema if flavor == Flavor::MySql => "drop-database",
                ast::ObjectType::Schema => "drop-schema",
                ast::ObjectType::Table => "drop-table",
                ast::ObjectType::Role | ast::ObjectType::User | ast::ObjectType::Group => {
                    "drop-role"
                }
                _ => "drop-other",
            };
            if names.is_empty() {
                return one(kind, None);
            }
            names.iter().map(|n| (kind, Some(name(n)))).collect()
        }
        S::AlterTable(a) => {
            use ast::AlterTableOperation as Op;
            let drops = a.operations.iter().any(|op| {
                matches!(
                    op,
                    Op::DropConstraint { .. }
                        | Op::DropColumn { .. }
                        | Op::DropPrimaryKey { .. }
                        | Op::DropForeignKey { .. }
                        | Op::DropIndex { .. }
                        | Op::DropPartitions { .. }
                        | Op::DropProjection { .. }
                        | Op::DetachPartition { .. }
                        | Op::DetachPartitionOf { .. }
                        | Op::DropClusteringKey
                        | Op::DisableRowLevelSecurity
                )
            });
            one(
                if drops { "alter-drop" } else { "alter" },
                Some(name(&a.name)),
            )
        }
        S::AlterRole { name: n, .. } => one("alter-role", Some(n.value.clone())),
        S::AlterUser(u) => one("alter-role", Some(u.name.value.clone())),
        S::Grant(_) | S::GrantRole(_) | S::AlterDefaultPrivileges(_) => one("grant", None),
        S::Revoke(_) | S::RevokeRole(_) | S::Deny(_) => one("revoke", None),
        S::StartTransaction { .. }
        | S::Commit { .. }
        | S::Rollback { .. }
        | S::Savepoint { .. }
        | S::ReleaseSavepoint { .. } => one("transaction", None),
        S::Set(s) => {
            let global = match s {
                ast::Set::SingleAssignment { scope, .. } => {
                    matches!(scope, Some(ast::ContextModifier::Global))
                }
                ast::Set::MultipleAssignments { assignments } => assignments
                    .iter()
                    .any(|a| matches!(a.scope, Some(ast::ContextModifier::Global))),
                _ => false,
            };
            // `SET GLOBAL`/`SET PERSIST` change the server for everyone.
            if global || matches!(w(1), "GLOBAL" | "PERSIST" | "PERSIST_ONLY") {
                one("server-setting", None)
            } else if w(1) == "PASSWORD" {
                one("alter-role", None)
            } else {
                one("read-only", None)
            }
        }
        S::Explain {
            analyze,
            statement,
            options,
            ..
        } => {
            let analyze = *analyze
                || options.as_ref().is_some_and(|o| {
                    o.iter()
                        .any(|u| u.name.value.eq_ignore_ascii_case("analyze"))
                });
            // EXPLAIN ANALYZE runs the statement.
            let inner = if analyze {
                kinds(statement, "", flavor, depth + 1)
            } else {
                Vec::new()
            };
            if inner.iter().all(|(k, _)| *k == "read-only") {
                one("read-only", None)
            } else {
                inner
            }
        }
        S::Prepare { statement, .. } => kinds(statement, "", flavor, depth + 1),
        S::Copy { to, target, .. } => match target {
            ast::CopyTarget::Program { command } => one("shell", Some(command.clone())),
            _ if !*to => one("insert", None),
            ast::CopyTarget::Stdout => one("read-only", None),
            _ => one("unknown", None),
        },
        S::Pragma { value, name: n, .. } => one(
            if value.is_some() {
                "alter"
            } else {
                "read-only"
            },
            Some(name(n)),
        ),
        S::Use(_) | S::ExplainTable { .. } | S::Discard { .. } | S::Reset(_) => {
            one("read-only", None)
        }
        S::Declare { .. } | S::Fetch { .. } | S::Close { .. } | S::Deallocate { .. } => {
            one("read-only", None)
        }
        S::CreateRole(_) | S::CreateUser(_) => one("create", None),
        S::LoadData { .. } => one("insert", None),
        S::Vacuum(_)
        | S::Analyze(_)
        | S::Lock(_)
        | S::LockTables { .. }
        | S::UnlockTables
        | S::Flush { .. }
        | S::OptimizeTable { .. }
        | S::RefreshMaterializedView(_)
        | S::Comment { .. }
        | S::NOTIFY { .. }
        | S::LISTEN { .. }
        | S::UNLISTEN { .. }
        | S::Msck(_) => one("write", None),
        S::RenameTable(_) => one("alter", None),
        _ => match w(0) {
            "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN" => one("read-only", None),
            "CREATE" if w(1) == "OR" && matches!(w(2), "REPLACE" | "ALTER") => {
                one("create-or-replace", None)
            }
            "CREATE" => one("create", None),
            "ALTER" => one("alter", None),
            "DROP" => {
                let (k, t) = scan::scan_kind(skel, flavor);
                one(if k == "unknown" { "drop-other" } else { k }, t)
            }
            _ => one("unknown", None),
        },
    }
}

/// A client command (psql `\…`, mysql `source`/`system`/`\!`, sqlite3 `.…`).
fn meta(m: &str, flavor: Flavor) -> Statement {
    match flavor {
        Flavor::Postgres => psql_meta(m),
        Flavor::MySql => mysql_meta(m),
        Flavor::Sqlite => sqlite_dot(m),
        _ => Statement::new("unknown", None, m),
    }
}

fn split_command(m: &str, lead: usize) -> (String, &str) {
    let body = m.get(lead..).unwrap_or_default();
    let end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
    let (name, rest) = body.split_at(end);
    (name.to_ascii_lowercase(), rest.trim())
}

fn psql_meta(m: &str) -> Statement {
    let (name, args) = split_command(m, 1);
    // `\!cmd` needs no space.
    if let Some(cmd) = m.strip_prefix("\\!") {
        let cmd = cmd.trim();
        if cmd.is_empty() {
            return Statement::new("shell", None, m).with_note("opens an interactive shell");
        }
        return Statement::new("shell", Some(cmd.to_owned()), m);
    }
    let base = name.trim_end_matches('+');
    let kind = match base {
        "i" | "ir" | "include" | "include_relative" => {
            return Statement::new("unknown", Some(args.to_owned()), m)
                .with_note("runs the statements of another file");
        }
        "copy" => {
            let lower = args.to_ascii_lowercase();
            let words: Vec<&str> = lower.split_whitespace().collect();
            if words.contains(&"program") {
                "shell"
            } else if words.contains(&"from") {
                return Statement::new("unknown", None, m)
                    .with_note("loads client-side data into a table");
            } else {
                "read-only"
            }
        }
        "g" | "gx" | "o" | "out" | "w" | "write" if args.starts_with('|') => {
            return Statement::new("shell", Some(args[1..].trim().to_owned()), m);
        }
        "gexec" => {
            return Statement::new("unknown", None, m)
                .with_note("runs each result row as a statement");
        }
        "e" | "edit" | "ef" | "ev" => {
            return Statement::new("unknown", None, m).with_note("runs whatever the editor leaves");
        }
        "password" => "alter-role",
        "lo_unlink" => "delete",
        "lo_import" => "insert",
        _ if base.starts_with('d') => "read-only",
        "l" | "list" | "x" | "timing" | "conninfo" | "q" | "quit" | "echo" | "qecho" | "warn"
        | "pset" | "a" | "t" | "T" | "h" | "help" | "?" | "H" | "html" | "f" | "fset" | "c"
        | "connect" | "set" | "unset" | "setenv" | "getenv" | "sf" | "sv" | "encoding"
        | "errverbose" | "cd" | "p" | "print" | "r" | "reset" | "s" | "z" | "if" | "elif"
        | "else" | "endif" | "prompt" | "g" | "gx" | "gset" | "gdesc" | "watch" | "o" | "out"
        | "crosstabview" | "copyright" | "lo_list" | "lo_export" | "bind" | "w" | "write" => {
            "read-only"
        }
        _ => "unknown",
    };
    Statement::new(kind, None, m)
}

fn mysql_meta(m: &str) -> Statement {
    if let Some(cmd) = m.strip_prefix("\\!") {
        return Statement::new("shell", Some(cmd.trim().to_owned()), m);
    }
    if let Some(f) = m.strip_prefix("\\.") {
        return Statement::new("unknown", Some(f.trim().to_owned()), m)
            .with_note("runs the statements of another file");
    }
    if m.starts_with('\\') {
        return match m.get(1..2) {
            // \c clear, \q quit, \s status, \h help, \t notee, \n nopager, \w \W warnings.
            Some("c" | "q" | "s" | "h" | "?" | "t" | "n" | "w" | "W" | "e" | "p" | "R" | "r") => {
                Statement::new("read-only", None, m)
            }
            _ => Statement::new("unknown", None, m),
        };
    }
    let (name, args) = split_command(m, 0);
    match name.as_str() {
        "system" => Statement::new("shell", Some(args.to_owned()), m),
        "pager" if !args.is_empty() => Statement::new("shell", Some(args.to_owned()), m),
        "source" => Statement::new("unknown", Some(args.to_owned()), m)
            .with_note("runs the statements of another file"),
        "edit" => Statement::new("unknown", None, m).with_note("runs whatever the editor leaves"),
        _ => Statement::new("read-only", None, m),
    }
}

fn sqlite_dot(m: &str) -> Statement {
    let (name, args) = split_command(m, 1);
    match name.as_str() {
        "shell" | "system" => Statement::new("shell", Some(args.to_owned()), m),
        "read" => Statement::new("unknown", Some(args.to_owned()), m)
            .with_note("runs the statements of another file"),
        "import" => Statement::new(
            "insert",
            args.split_whitespace().last().map(str::to_owned),
            m,
        ),
        "tables" | "table" | "schema" | "fullschema" | "dump" | "indexes" | "indices"
        | "databases" | "headers" | "header" | "mode" | "help" | "show" | "width" | "timer"
        | "quit" | "exit" | "dbinfo" | "stats" | "eqp" | "explain" | "nullvalue" | "separator"
        | "print" | "echo" | "changes" | "bail" | "lint" | "expert" | "timeout" | "version"
        | "dbconfig" | "output" | "once" | "excel" | "log" | "trace" | "prompt" | "sha3sum" => {
            Statement::new("read-only", None, m)
        }
        _ => Statement::new("unknown", None, m),
    }
}
