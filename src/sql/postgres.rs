//! PostgreSQL statements read by PostgreSQL's own grammar: libpg_query through the `pg_query`
//! crate (chosen over sqlparser for this dialect because it *is* the server's parser: what it
//! accepts the server accepts, what it rejects the server rejects, and PL/pgSQL bodies are read
//! by the server's PL/pgSQL grammar too).
//!
//! The parse tree is walked as a whole, not just its top node: a `DELETE` inside a CTE, a
//! `COPY (DELETE …) TO`, the statements of a `DO` block or of a function body, a `RULE`'s action
//! and every function call anywhere (`SELECT pg_terminate_backend(pid) FROM …`) each add their
//! own kind. A statement whose walk finds nothing that changes state is `read-only`.

use super::classify::Kinds;
use pg_query::protobuf::{AlterTableType as At, BoolExprType, CmdType, ObjectType as Ot};
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// How many nested bodies (a `DO` block's `EXECUTE '…'`, a function's SQL) are read at most.
const MAX_NESTING: usize = 8;
/// How many tree nodes one statement may have before the rest is `unknown`.
const MAX_NODES: usize = 200_000;

/// What PostgreSQL's parser made of one statement.
pub(crate) enum Read {
    /// It parses: the kinds it has, one per object for multi-object statements, and the
    /// functions it calls (those of nested bodies included).
    Kinds(Kinds, Vec<String>),
    /// The server's grammar rejects it: the server runs nothing of it.
    Rejected(String),
}

/// Reads one statement (as the splitter cut it, comments included).
pub(crate) fn statement(text: &str) -> Read {
    read(text, 0)
}

fn read(text: &str, nesting: usize) -> Read {
    let parsed = catch_unwind(AssertUnwindSafe(|| pg_query::parse(text, 0)));
    let tree = match parsed {
        Ok(Ok(r)) => r.protobuf,
        // A NUL byte: no client sends it and the server refuses it, but the text is not SQL.
        Ok(Err(pg_query::Error::Conversion(_))) => {
            return Read::Kinds(vec![("unknown", None)], Vec::new())
        }
        Ok(Err(e)) => return Read::Rejected(parse_error(&e)),
        Err(_) => {
            return Read::Kinds(vec![("unknown", None)], Vec::new());
        }
    };
    let mut walk = Walk {
        text,
        nesting,
        nodes: 0,
        found: Vec::new(),
        functions: Vec::new(),
    };
    for raw in &tree.stmts {
        match serde_json::to_value(&raw.stmt) {
            Ok(v) => walk.value(&v),
            Err(_) => walk.found.push(("unknown", None)),
        }
    }
    if walk.nodes > MAX_NODES {
        walk.found.push(("unknown", None));
    }
    let mut out = walk.found;
    for f in &walk.functions {
        if let Some(kind) = function_kind(f) {
            out.push((kind, Some(f.clone())));
        }
    }
    if out.is_empty() {
        out.push(("read-only", None));
    }
    Read::Kinds(out, walk.functions)
}

fn parse_error(e: &pg_query::Error) -> String {
    match e {
        pg_query::Error::Parse(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Functions that change the server's state when called, even from a `SELECT`, and the kind
/// each one is. Names are matched without their schema and case-insensitively, as the server
/// resolves them through `pg_catalog`.
pub(crate) const FUNCTIONS: &[(&str, &str)] = &[
    // Backends: cutting every client off is an outage (`… FROM pg_stat_activity`).
    ("pg_terminate_backend", "terminate-backend"),
    ("pg_cancel_backend", "terminate-backend"),
    // Replication: a dropped slot or an early promotion breaks replicas and failover.
    ("pg_drop_replication_slot", "replication"),
    ("pg_replication_slot_advance", "replication"),
    ("pg_replication_origin_drop", "replication"),
    ("pg_replication_origin_advance", "replication"),
    ("pg_promote", "replication"),
    ("pg_wal_replay_pause", "replication"),
    ("pg_wal_replay_resume", "replication"),
    ("pg_logical_slot_get_changes", "replication"),
    ("pg_logical_slot_get_binary_changes", "replication"),
    ("pg_create_physical_replication_slot", "replication"),
    ("pg_create_logical_replication_slot", "replication"),
    // Configuration of the whole server.
    ("pg_reload_conf", "server-setting"),
    ("pg_rotate_logfile", "write"),
    // Large objects: `lo_unlink` deletes the data.
    ("lo_unlink", "drop-large-object"),
    ("lo_import", "write"),
    ("lo_export", "write"),
    ("lo_from_bytea", "write"),
    ("lo_put", "write"),
    ("lo_truncate", "write"),
    // Server files (adminpack) and other side effects.
    ("pg_file_write", "write"),
    ("pg_file_unlink", "write"),
    ("pg_file_rename", "write"),
    ("pg_file_sync", "write"),
    ("pg_switch_wal", "write"),
    ("pg_create_restore_point", "write"),
    ("pg_backup_start", "write"),
    ("pg_backup_stop", "write"),
    ("pg_truncate_visibility_map", "write"),
    ("pg_stat_reset", "write"),
    ("pg_stat_reset_shared", "write"),
    ("pg_stat_reset_single_table_counters", "write"),
    ("pg_notify", "write"),
    ("set_config", "write"),
    ("setval", "write"),
    ("nextval", "write"),
    // SQL run on another server: unknown.
    ("dblink_exec", "unknown"),
    ("dblink", "unknown"),
    ("dblink_send_query", "unknown"),
];

/// The kind of a call of the function `name` (`pg_catalog.pg_terminate_backend`), when calling
/// it changes state.
pub(crate) fn function_kind(name: &str) -> Option<&'static str> {
    let base = name.rsplit('.').next().unwrap_or(name);
    FUNCTIONS
        .iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(base))
        .map(|(_, k)| *k)
}

struct Walk<'a> {
    text: &'a str,
    nesting: usize,
    nodes: usize,
    found: Kinds,
    functions: Vec<String>,
}

fn int(m: &Map<String, Value>, key: &str) -> i64 {
    m.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn flag(m: &Map<String, Value>, key: &str) -> bool {
    m.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn string<'v>(m: &'v Map<String, Value>, key: &str) -> &'v str {
    m.get(key).and_then(Value::as_str).unwrap_or("")
}

fn list<'v>(m: &'v Map<String, Value>, key: &str) -> &'v [Value] {
    m.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The `(type, fields)` of a `{"node": {"Type": {…}}}` wrapper or a bare `{"Type": {…}}`.
fn node(v: &Value) -> Option<(&str, &Map<String, Value>)> {
    let m = v.as_object()?;
    let inner = match m.get("node") {
        Some(n) => n.as_object()?,
        None => m,
    };
    let (k, v) = inner.iter().next()?;
    Some((k.as_str(), v.as_object()?))
}

/// `schema.table` of a `RangeVar`.
fn range_var(m: &Map<String, Value>) -> Option<String> {
    let rel = string(m, "relname");
    if rel.is_empty() {
        return None;
    }
    let schema = string(m, "schemaname");
    Some(if schema.is_empty() {
        rel.to_owned()
    } else {
        format!("{schema}.{rel}")
    })
}

fn relation(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_object).and_then(range_var)
}

/// The dotted name of a `DROP` object: a list of strings, an `ObjectWithArgs`, a `TypeName`,
/// a `RoleSpec` or a plain string.
fn object_name(v: &Value) -> Option<String> {
    let (ty, m) = node(v)?;
    let parts: Vec<String> = match ty {
        "String" => vec![string(m, "sval").to_owned()],
        "List" => list(m, "items").iter().filter_map(object_name).collect(),
        "ObjectWithArgs" => list(m, "objname").iter().filter_map(object_name).collect(),
        "TypeName" => list(m, "names")
            .iter()
            .filter_map(object_name)
            .filter(|p| p != "pg_catalog")
            .collect(),
        "RoleSpec" => vec![string(m, "rolename").to_owned()],
        "RangeVar" => range_var(m).into_iter().collect(),
        _ => return None,
    };
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join("."))
}

/// The `DROP` kind of each object type: its own name, so that a record says what went.
fn drop_kind(object_type: i64) -> &'static str {
    let t = Ot::try_from(object_type as i32).unwrap_or(Ot::Undefined);
    match t {
        Ot::ObjectDatabase => "drop-database",
        Ot::ObjectSchema => "drop-schema",
        Ot::ObjectTable => "drop-table",
        Ot::ObjectRole => "drop-role",
        Ot::ObjectView => "drop-view",
        Ot::ObjectMatview => "drop-materialized-view",
        Ot::ObjectIndex => "drop-index",
        Ot::ObjectSequence => "drop-sequence",
        Ot::ObjectForeignTable => "drop-foreign-table",
        Ot::ObjectFunction | Ot::ObjectProcedure | Ot::ObjectRoutine | Ot::ObjectAggregate => {
            "drop-function"
        }
        Ot::ObjectTrigger | Ot::ObjectEventTrigger => "drop-trigger",
        Ot::ObjectRule => "drop-rule",
        Ot::ObjectPolicy => "drop-policy",
        Ot::ObjectType | Ot::ObjectDomain => "drop-type",
        Ot::ObjectExtension => "drop-extension",
        Ot::ObjectPublication => "drop-publication",
        Ot::ObjectForeignServer | Ot::ObjectFdw | Ot::ObjectUserMapping => "drop-server",
        Ot::ObjectTablespace => "drop-tablespace",
        _ => "drop-other",
    }
}

/// `WHERE true`, `WHERE 1=1`, `WHERE x = x`, `… OR true`: no restriction at all.
fn trivially_true(v: &Value) -> bool {
    let Some((ty, m)) = node(v) else {
        return false;
    };
    match ty {
        "AConst" => match m.get("val").and_then(node) {
            Some(("Boolval", b)) => flag(b, "boolval"),
            Some(("Ival", i)) => int(i, "ival") != 0,
            _ => false,
        },
        "AExpr" => {
            let op = list(m, "name")
                .iter()
                .filter_map(object_name)
                .collect::<Vec<_>>();
            let (l, r) = (m.get("lexpr"), m.get("rexpr"));
            op == ["="]
                && match (l, r) {
                    (Some(l), Some(r)) => without_locations(l) == without_locations(r),
                    _ => false,
                }
        }
        "BoolExpr" => {
            let args = list(m, "args");
            let op = BoolExprType::try_from(int(m, "boolop") as i32);
            match op {
                Ok(BoolExprType::AndExpr) => !args.is_empty() && args.iter().all(trivially_true),
                Ok(BoolExprType::OrExpr) => args.iter().any(trivially_true),
                _ => false,
            }
        }
        "TypeCast" => m.get("arg").is_some_and(trivially_true),
        _ => false,
    }
}

/// `v` with every `location` member removed, for comparing two expressions.
fn without_locations(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "location")
                .map(|(k, v)| (k.clone(), without_locations(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_locations).collect()),
        other => other.clone(),
    }
}

/// Whether the list of `DefElem` options has `name` switched on (`VACUUM (FULL)`,
/// `EXPLAIN (ANALYZE true)`, `REINDEX (CONCURRENTLY)`).
fn option_on(options: &[Value], name: &str) -> bool {
    options.iter().any(|o| {
        let Some(("DefElem", d)) = node(o) else {
            return false;
        };
        if !string(d, "defname").eq_ignore_ascii_case(name) {
            return false;
        }
        match d.get("arg").and_then(node) {
            None => true,
            Some(("String", s)) => !matches!(
                string(s, "sval").to_ascii_lowercase().as_str(),
                "false" | "off" | "0" | "no"
            ),
            Some(("Boolean", b)) => flag(b, "boolval"),
            Some(("Integer", i)) => int(i, "ival") != 0,
            Some(_) => true,
        }
    })
}

impl Walk<'_> {
    fn push(&mut self, kind: &'static str, target: Option<String>) {
        self.found.push((kind, target));
    }

    /// Visits every node of `v`.
    fn value(&mut self, v: &Value) {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, val) in m {
                    if let Some(fields) = val.as_object() {
                        if k.starts_with(|c: char| c.is_ascii_uppercase()) {
                            if self.typed(k, fields) {
                                self.value(val);
                            }
                            continue;
                        }
                    }
                    self.value(val);
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.value(x);
                }
            }
            _ => {}
        }
    }

    /// Judges one typed node; returns whether its children are to be visited.
    fn typed(&mut self, ty: &str, m: &Map<String, Value>) -> bool {
        match ty {
            "SelectStmt" => {
                if let Some(into) = m.get("into_clause").and_then(Value::as_object) {
                    self.push("create", relation(into, "rel"));
                }
                true
            }
            "InsertStmt" => {
                self.push("insert", relation(m, "relation"));
                true
            }
            "UpdateStmt" => {
                let bounded = m
                    .get("where_clause")
                    .is_some_and(|w| !w.is_null() && !trivially_true(w));
                let kind = if bounded {
                    "update"
                } else {
                    "update-without-where"
                };
                self.push(kind, relation(m, "relation"));
                true
            }
            "DeleteStmt" => {
                // `DELETE … USING` without WHERE deletes every row that has a partner: every row.
                let bounded = m
                    .get("where_clause")
                    .is_some_and(|w| !w.is_null() && !trivially_true(w));
                let kind = if bounded {
                    "delete"
                } else {
                    "delete-without-where"
                };
                self.push(kind, relation(m, "relation"));
                true
            }
            "MergeStmt" => {
                let deletes = list(m, "merge_when_clauses").iter().any(|c| {
                    matches!(node(c), Some(("MergeWhenClause", w))
                        if int(w, "command_type") == CmdType::CmdDelete as i64)
                });
                let kind = if deletes { "merge-delete" } else { "update" };
                self.push(kind, relation(m, "relation"));
                true
            }
            "TruncateStmt" => {
                for r in list(m, "relations") {
                    self.push("truncate", object_name(r));
                }
                false
            }
            "DropStmt" => {
                let kind = drop_kind(int(m, "remove_type"));
                let objects = list(m, "objects");
                if objects.is_empty() {
                    self.push(kind, None);
                }
                for o in objects {
                    self.push(kind, object_name(o));
                }
                false
            }
            "DropdbStmt" => {
                self.push("drop-database", Some(string(m, "dbname").to_owned()));
                false
            }
            "DropRoleStmt" => {
                for r in list(m, "roles") {
                    self.push("drop-role", object_name(r));
                }
                false
            }
            "DropOwnedStmt" => {
                self.push("drop-owned", list(m, "roles").first().and_then(object_name));
                false
            }
            "ReassignOwnedStmt" => {
                self.push(
                    "reassign-owned",
                    list(m, "roles").first().and_then(object_name),
                );
                false
            }
            "DropSubscriptionStmt" => {
                self.push("drop-subscription", Some(string(m, "subname").to_owned()));
                false
            }
            "DropTableSpaceStmt" => {
                self.push(
                    "drop-tablespace",
                    Some(string(m, "tablespacename").to_owned()),
                );
                false
            }
            "DropUserMappingStmt" => {
                self.push("drop-server", Some(string(m, "servername").to_owned()));
                false
            }
            "AlterTableStmt" => {
                self.alter_table(m);
                true
            }
            "RenameStmt" => {
                // Renaming a table, a column or a schema breaks every client that names it.
                let t = Ot::try_from(int(m, "rename_type") as i32).unwrap_or(Ot::Undefined);
                let breaks = matches!(
                    t,
                    Ot::ObjectTable
                        | Ot::ObjectColumn
                        | Ot::ObjectSchema
                        | Ot::ObjectView
                        | Ot::ObjectMatview
                        | Ot::ObjectDatabase
                        | Ot::ObjectForeignTable
                        | Ot::ObjectSequence
                );
                let target = relation(m, "relation")
                    .or_else(|| m.get("object").and_then(object_name))
                    .or_else(|| Some(string(m, "subname").to_owned()).filter(|s| !s.is_empty()));
                self.push(if breaks { "rename" } else { "alter" }, target);
                false
            }
            "IndexStmt" => {
                let kind = if flag(m, "concurrent") {
                    "create"
                } else {
                    "create-index"
                };
                self.push(kind, relation(m, "relation"));
                false
            }
            "ReindexStmt" => {
                let kind = if option_on(list(m, "params"), "concurrently") {
                    "write"
                } else {
                    "reindex"
                };
                let target = relation(m, "relation")
                    .or_else(|| Some(string(m, "name").to_owned()).filter(|s| !s.is_empty()));
                self.push(kind, target);
                false
            }
            "VacuumStmt" => {
                let full = flag(m, "is_vacuumcmd") && option_on(list(m, "options"), "full");
                let target = list(m, "rels").iter().find_map(|r| match node(r) {
                    Some(("VacuumRelation", v)) => relation(v, "relation"),
                    _ => None,
                });
                self.push(if full { "vacuum-full" } else { "write" }, target);
                false
            }
            "ClusterStmt" => {
                self.push("cluster", relation(m, "relation"));
                false
            }
            "LockStmt" => {
                // ShareLock (5) and above block every writer; AccessExclusive (8), the
                // default, blocks readers too.
                let kind = if int(m, "mode") >= 5 {
                    "lock-table"
                } else {
                    "write"
                };
                for r in list(m, "relations") {
                    self.push(kind, object_name(r));
                }
                false
            }
            "GrantStmt" => {
                let kind = if flag(m, "is_grant") {
                    "grant"
                } else {
                    "revoke"
                };
                self.push(kind, None);
                false
            }
            "GrantRoleStmt" => {
                let kind = if flag(m, "is_grant") {
                    "grant"
                } else {
                    "revoke"
                };
                self.push(kind, list(m, "grantee_roles").first().and_then(object_name));
                false
            }
            "AlterDefaultPrivilegesStmt" => {
                self.push("grant", None);
                false
            }
            "AlterRoleStmt" | "AlterRoleSetStmt" => {
                self.push("alter-role", m.get("role").and_then(object_name));
                false
            }
            "CreateRoleStmt" => {
                let powerful = option_on(list(m, "options"), "superuser");
                let kind = if powerful { "alter-role" } else { "create" };
                self.push(kind, Some(string(m, "role").to_owned()));
                false
            }
            "AlterSystemStmt" => {
                self.push("alter-system", None);
                false
            }
            "VariableSetStmt" | "VariableShowStmt" | "DiscardStmt" | "ListenStmt"
            | "UnlistenStmt" | "NotifyStmt" | "FetchStmt" | "ClosePortalStmt"
            | "DeallocateStmt" => false,
            "TransactionStmt" => {
                self.push("transaction", None);
                false
            }
            "CopyStmt" => {
                let file = string(m, "filename").to_owned();
                if flag(m, "is_program") {
                    self.push("shell", Some(file));
                } else if flag(m, "is_from") {
                    self.push("insert", relation(m, "relation"));
                } else if !file.is_empty() {
                    self.push("write", Some(file));
                }
                true
            }
            "ExplainStmt" => {
                // Only EXPLAIN ANALYZE runs the statement.
                option_on(list(m, "options"), "analyze")
            }
            "ExecuteStmt" => {
                self.found
                    .push(("unknown", Some(string(m, "name").to_owned())));
                false
            }
            "CheckPointStmt" | "LoadStmt" => {
                self.push("write", None);
                false
            }
            "DoStmt" => {
                self.plpgsql();
                false
            }
            "CreateFunctionStmt" => {
                let kind = if flag(m, "replace") {
                    "create-or-replace"
                } else {
                    "create"
                };
                self.push(
                    kind,
                    m.get("funcname").and_then(|_| {
                        let parts: Vec<String> =
                            list(m, "funcname").iter().filter_map(object_name).collect();
                        (!parts.is_empty()).then(|| parts.join("."))
                    }),
                );
                self.function_body(m);
                true
            }
            "CallStmt" => {
                // The call is a bare `FuncCall` message, not a node.
                if let Some(call) = m.get("funccall").and_then(Value::as_object) {
                    self.typed("FuncCall", call);
                }
                self.push("write", None);
                true
            }
            "FuncCall" => {
                let parts: Vec<String> =
                    list(m, "funcname").iter().filter_map(object_name).collect();
                if !parts.is_empty() {
                    self.functions.push(parts.join("."));
                }
                true
            }
            "ViewStmt" | "CreateTableAsStmt" | "RuleStmt" | "CreateTrigStmt" | "CreateStmt"
            | "DeclareCursorStmt" | "PrepareStmt" | "CommonTableExpr" => {
                match ty {
                    "ViewStmt" => {
                        let kind = if flag(m, "replace") {
                            "create-or-replace"
                        } else {
                            "create"
                        };
                        self.push(kind, relation(m, "view"));
                    }
                    "RuleStmt" | "CreateTrigStmt" => {
                        let kind = if flag(m, "replace") {
                            "create-or-replace"
                        } else {
                            "create"
                        };
                        self.push(kind, relation(m, "relation"));
                    }
                    "CreateTableAsStmt" | "CreateStmt" => {
                        self.push("create", None);
                    }
                    _ => {}
                }
                true
            }
            _ => {
                if ty.ends_with("Stmt") {
                    let kind = if ty.starts_with("Create") || ty.starts_with("Define") {
                        "create"
                    } else if ty.starts_with("Alter")
                        || ty.starts_with("Comment")
                        || ty.starts_with("Sec")
                        || ty.starts_with("Import")
                        || ty.starts_with("Refresh")
                    {
                        "alter"
                    } else if ty.starts_with("Drop") {
                        "drop-other"
                    } else {
                        "unknown"
                    };
                    self.push(kind, None);
                }
                true
            }
        }
    }

    fn alter_table(&mut self, m: &Map<String, Value>) {
        let target = relation(m, "relation");
        let mut kind = "alter";
        for c in list(m, "cmds") {
            let Some(("AlterTableCmd", cmd)) = node(c) else {
                continue;
            };
            let sub = At::try_from(int(cmd, "subtype") as i32).unwrap_or(At::Undefined);
            let this = match sub {
                At::AtDropColumn
                | At::AtDropConstraint
                | At::AtDropNotNull
                | At::AtDropInherit
                | At::AtDetachPartition
                | At::AtDetachPartitionFinalize
                | At::AtDropIdentity
                | At::AtDropExpression
                | At::AtDropOf
                | At::AtDisableRowSecurity
                | At::AtNoForceRowSecurity => "alter-drop",
                // A new type, persistence, access method or tablespace rewrites the whole
                // table under an ACCESS EXCLUSIVE lock.
                At::AtAlterColumnType
                | At::AtSetLogged
                | At::AtSetUnLogged
                | At::AtSetAccessMethod
                | At::AtSetTableSpace => "rewrite-table",
                _ => "alter",
            };
            // The most destructive subcommand names the statement.
            if this == "alter-drop" || (this == "rewrite-table" && kind == "alter") {
                kind = this;
            }
        }
        self.push(kind, target);
    }

    /// The statements of a `DO` block or a PL/pgSQL function, read by PL/pgSQL's grammar.
    fn plpgsql(&mut self) {
        if self.nesting >= MAX_NESTING {
            self.push("unknown", None);
            return;
        }
        let parsed = catch_unwind(AssertUnwindSafe(|| pg_query::parse_plpgsql(self.text)));
        match parsed {
            Ok(Ok(tree)) => {
                let mut queries = Vec::new();
                plpgsql_queries(&tree, &mut queries);
                for q in queries {
                    match q {
                        Some(q) => self.nested(&q),
                        // EXECUTE of a string built at run time.
                        None => self.push("unknown", None),
                    }
                }
            }
            // Another language, or a body PL/pgSQL rejects: what runs is not known.
            _ => self.push("unknown", None),
        }
    }

    /// The body of `CREATE FUNCTION`: PL/pgSQL through [`Walk::plpgsql`], SQL parsed as SQL
    /// (`BEGIN ATOMIC` bodies are part of the tree and walked already).
    fn function_body(&mut self, m: &Map<String, Value>) {
        let options = list(m, "options");
        let mut language = String::new();
        let mut body = None;
        for o in options {
            let Some(("DefElem", d)) = node(o) else {
                continue;
            };
            match string(d, "defname") {
                "language" => {
                    if let Some(("String", s)) = d.get("arg").and_then(node) {
                        language = string(s, "sval").to_ascii_lowercase();
                    }
                }
                "as" => {
                    body = d.get("arg").and_then(|a| match node(a) {
                        Some(("List", l)) => list(l, "items").first().and_then(|i| match node(i) {
                            Some(("String", s)) => Some(string(s, "sval").to_owned()),
                            _ => None,
                        }),
                        Some(("String", s)) => Some(string(s, "sval").to_owned()),
                        _ => None,
                    });
                }
                _ => {}
            }
        }
        match (language.as_str(), body) {
            ("plpgsql", Some(_)) => self.plpgsql(),
            ("sql", Some(b)) => self.nested(&b),
            _ => {}
        }
    }

    /// Kinds of SQL text found inside this statement (a body, `EXECUTE 'literal'`).
    fn nested(&mut self, sql: &str) {
        if self.nesting >= MAX_NESTING {
            self.push("unknown", None);
            return;
        }
        match read(sql, self.nesting + 1) {
            Read::Kinds(k, functions) => {
                self.found.extend(
                    k.into_iter()
                        .filter(|(kind, t)| *kind != "read-only" && !is_call(kind, t, &functions)),
                );
                self.functions.extend(functions);
            }
            // Text in a body that does not parse runs nothing when reached, but the body is
            // not read-only either when we cannot see into it.
            Read::Rejected(_) => self.push("unknown", None),
        }
    }
}

/// Whether `(kind, target)` is the kind of one of `functions` (added again by the caller).
fn is_call(kind: &str, target: &Option<String>, functions: &[String]) -> bool {
    target
        .as_ref()
        .is_some_and(|t| functions.contains(t) && function_kind(t) == Some(kind))
}

/// Every SQL text of a PL/pgSQL tree: statements (`parseMode` 0), expressions (run as
/// `SELECT expr`), and `EXECUTE` strings when they are literals; `None` for an `EXECUTE` of a
/// string built at run time.
fn plpgsql_queries(v: &Value, out: &mut Vec<Option<String>>) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                match (k.as_str(), val.as_object()) {
                    (
                        "PLpgSQL_stmt_dynexecute" | "PLpgSQL_stmt_dynfors" | "PLpgSQL_stmt_open",
                        Some(s),
                    ) => {
                        let q = s
                            .get("query")
                            .or_else(|| s.get("dynquery"))
                            .and_then(Value::as_object)
                            .and_then(|e| e.get("PLpgSQL_expr"))
                            .and_then(Value::as_object)
                            .map(|e| string(e, "query"));
                        match q.map(literal) {
                            Some(text) => out.push(text),
                            None => plpgsql_queries(val, out),
                        }
                        if k != "PLpgSQL_stmt_dynexecute" {
                            plpgsql_queries(val, out);
                        }
                    }
                    ("PLpgSQL_expr", Some(e)) => {
                        let q = string(e, "query");
                        if int(e, "parseMode") == 0 {
                            out.push(Some(q.to_owned()));
                        } else {
                            out.push(Some(format!("SELECT {q}")));
                        }
                    }
                    _ => plpgsql_queries(val, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| plpgsql_queries(x, out)),
        _ => {}
    }
}

/// The text of a plain SQL string literal `'…'` (quotes doubled inside), `None` for anything
/// else (concatenations, `format(…)`, variables).
fn literal(q: &str) -> Option<String> {
    let q = q.trim();
    let inner = q.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Only a doubled quote may appear inside.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<&'static str> {
        match statement(sql) {
            Read::Kinds(k, _) => k.into_iter().map(|(k, _)| k).collect(),
            Read::Rejected(e) => panic!("{sql}: rejected: {e}"),
        }
    }

    fn targets(sql: &str) -> Vec<String> {
        match statement(sql) {
            Read::Kinds(k, _) => k.into_iter().filter_map(|(_, t)| t).collect(),
            Read::Rejected(e) => panic!("{sql}: rejected: {e}"),
        }
    }

    #[test]
    fn every_drop_has_its_own_kind_and_target() {
        assert_eq!(kinds("DROP FUNCTION f(int), g"), ["drop-function"; 2]);
        assert_eq!(targets("DROP FUNCTION public.f(int), g"), ["public.f", "g"]);
        assert_eq!(kinds("DROP VIEW v"), ["drop-view"]);
        assert_eq!(
            kinds("DROP MATERIALIZED VIEW v"),
            ["drop-materialized-view"]
        );
        assert_eq!(kinds("DROP INDEX CONCURRENTLY i"), ["drop-index"]);
        assert_eq!(kinds("DROP TRIGGER t ON x"), ["drop-trigger"]);
        assert_eq!(kinds("DROP EVENT TRIGGER t"), ["drop-trigger"]);
        assert_eq!(kinds("DROP TYPE t"), ["drop-type"]);
        assert_eq!(kinds("DROP DOMAIN d"), ["drop-type"]);
        assert_eq!(kinds("DROP SEQUENCE s"), ["drop-sequence"]);
        assert_eq!(kinds("DROP EXTENSION hstore"), ["drop-extension"]);
        assert_eq!(kinds("DROP POLICY p ON t"), ["drop-policy"]);
        assert_eq!(kinds("DROP OWNED BY app"), ["drop-owned"]);
        assert_eq!(kinds("DROP SUBSCRIPTION s"), ["drop-subscription"]);
        assert_eq!(kinds("DROP TABLESPACE ts"), ["drop-tablespace"]);
        assert_eq!(kinds("DROP PUBLICATION p"), ["drop-publication"]);
        assert_eq!(kinds("DROP SERVER s CASCADE"), ["drop-server"]);
        assert_eq!(kinds("DROP DATABASE app"), ["drop-database"]);
        assert_eq!(targets("DROP DATABASE app"), ["app"]);
        assert_eq!(kinds("DROP TABLE a, b.c"), ["drop-table", "drop-table"]);
        assert_eq!(targets("DROP TABLE a, b.c"), ["a", "b.c"]);
        assert_eq!(kinds("DROP ROLE a, b"), ["drop-role", "drop-role"]);
    }

    #[test]
    fn deletes_hidden_inside_other_statements_are_found() {
        assert_eq!(kinds("DELETE FROM t USING u"), ["delete-without-where"]);
        assert_eq!(kinds("DELETE FROM t USING u WHERE t.id = u.id"), ["delete"]);
        assert_eq!(
            kinds("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"),
            ["delete-without-where"]
        );
        assert_eq!(
            kinds("COPY (DELETE FROM t RETURNING *) TO STDOUT"),
            ["delete-without-where"]
        );
        assert_eq!(
            kinds("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE"),
            ["merge-delete"]
        );
        assert_eq!(
            kinds("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1"),
            ["update"]
        );
        assert_eq!(kinds("DELETE FROM t WHERE 1 = 1"), ["delete-without-where"]);
        assert_eq!(
            kinds("DELETE FROM t WHERE id = id"),
            ["delete-without-where"]
        );
        assert_eq!(
            kinds("UPDATE t SET a = 1 WHERE true OR a > 2"),
            ["update-without-where"]
        );
        assert_eq!(kinds("DELETE FROM t WHERE id = 4"), ["delete"]);
    }

    #[test]
    fn plpgsql_bodies_are_read() {
        assert_eq!(
            kinds("DO $$BEGIN EXECUTE 'DROP TABLE x'; DELETE FROM y WHERE a = 1; END$$"),
            ["drop-table", "delete"]
        );
        assert_eq!(
            kinds("DO $$BEGIN PERFORM pg_terminate_backend(1); END$$"),
            ["terminate-backend"]
        );
        assert_eq!(
            kinds("DO $$BEGIN EXECUTE 'DROP TABLE ' || t; END$$"),
            ["unknown"]
        );
        assert_eq!(
            kinds("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN TRUNCATE t; END$$"),
            ["create", "truncate"]
        );
        assert_eq!(
            kinds("CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE sql AS 'DELETE FROM t'"),
            ["create-or-replace", "delete-without-where"]
        );
        assert_eq!(
            kinds("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END"),
            ["create"]
        );
    }

    #[test]
    fn outage_statements_have_their_own_kinds() {
        assert_eq!(
            kinds("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"),
            ["terminate-backend"]
        );
        assert_eq!(
            kinds("SELECT pg_drop_replication_slot('s')"),
            ["replication"]
        );
        assert_eq!(kinds("SELECT pg_promote()"), ["replication"]);
        assert_eq!(kinds("SELECT lo_unlink(4242)"), ["drop-large-object"]);
        assert_eq!(
            kinds("ALTER TABLE t ALTER COLUMN a TYPE bigint"),
            ["rewrite-table"]
        );
        assert_eq!(kinds("CREATE INDEX i ON t (a)"), ["create-index"]);
        assert_eq!(kinds("CREATE INDEX CONCURRENTLY i ON t (a)"), ["create"]);
        assert_eq!(kinds("VACUUM FULL t"), ["vacuum-full"]);
        assert_eq!(kinds("VACUUM (FULL) t"), ["vacuum-full"]);
        assert_eq!(kinds("VACUUM (TRUNCATE false) t"), ["write"]);
        assert_eq!(kinds("VACUUM t"), ["write"]);
        assert_eq!(kinds("CLUSTER t USING i"), ["cluster"]);
        assert_eq!(kinds("REINDEX TABLE t"), ["reindex"]);
        assert_eq!(kinds("REINDEX (CONCURRENTLY) TABLE t"), ["write"]);
        assert_eq!(kinds("LOCK TABLE t"), ["lock-table"]);
        assert_eq!(kinds("LOCK TABLE t IN ACCESS SHARE MODE"), ["write"]);
        assert_eq!(kinds("ALTER TABLE t RENAME TO u"), ["rename"]);
        assert_eq!(kinds("ALTER TABLE t RENAME COLUMN a TO b"), ["rename"]);
        assert_eq!(
            kinds("ALTER SYSTEM SET max_connections = 5"),
            ["alter-system"]
        );
        assert_eq!(kinds("ALTER TYPE t DROP ATTRIBUTE a"), ["alter-drop"]);
        assert_eq!(
            kinds("ALTER TABLE t ALTER COLUMN a DROP NOT NULL"),
            ["alter-drop"]
        );
        assert_eq!(kinds("ALTER TABLE t NO INHERIT p"), ["alter-drop"]);
        assert_eq!(kinds("REASSIGN OWNED BY a TO b"), ["reassign-owned"]);
        assert_eq!(
            kinds("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO x"),
            ["grant"]
        );
        assert_eq!(kinds("CREATE ROLE r SUPERUSER"), ["alter-role"]);
    }

    #[test]
    fn read_only_statements_that_look_dangerous_are_read_only() {
        for sql in [
            "TABLE v",
            "SELECT * FROM t",
            "FETCH 10 FROM c",
            "MOVE NEXT IN c",
            "SELECT sum(a) OVER (ORDER BY b ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) FROM t",
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT * FROM r",
            "SELECT COLLATION FOR ('a')",
            "SELECT JSON_QUERY(jsonb '[1]', '$[0]')",
            "EXPLAIN DELETE FROM t",
            "SHOW work_mem",
            "SET work_mem = '1GB'",
        ] {
            assert_eq!(kinds(sql), ["read-only"], "{sql}");
        }
        assert_eq!(
            kinds("EXPLAIN ANALYZE DELETE FROM t"),
            ["delete-without-where"]
        );
        assert_eq!(kinds("COMMIT PREPARED 'x'"), ["transaction"]);
        assert_eq!(
            kinds("CREATE TRIGGER g BEFORE TRUNCATE ON t EXECUTE FUNCTION f()"),
            ["create"]
        );
        assert_eq!(kinds("ALTER PUBLICATION p DROP TABLE t"), ["alter"]);
        assert_eq!(
            kinds("CREATE TABLE c (id int REFERENCES p ON DELETE CASCADE)"),
            ["create"]
        );
    }

    #[test]
    fn what_the_server_rejects_is_said_to_be_rejected() {
        assert!(matches!(statement("SELEC 1"), Read::Rejected(e) if e.contains("SELEC")));
        assert!(matches!(statement("DROP TABLE"), Read::Rejected(_)));
    }

    #[test]
    fn function_names_are_matched_without_schema_and_case() {
        assert_eq!(
            function_kind("pg_catalog.PG_TERMINATE_BACKEND"),
            Some("terminate-backend")
        );
        assert_eq!(function_kind("now"), None);
    }
}
