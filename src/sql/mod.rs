//! SQL and data-store payloads: what a database client is about to send, classified.
//!
//! [`classify`] takes one client invocation as the shell analyser saw it and returns the
//! statements (or store commands) it would send, each with a *kind* that policy `sql = [...]`
//! matchers name. The work is split by concern:
//!
//! * `clients` — which text reaches the server: `psql -c/-f`, `mysql -e`, stdin, `sqlite3 DB SQL`,
//!   `mysqladmin drop`, `dropdb`, … (argument parsing per client, file reading with a size cap);
//! * `scan` — splitting a payload into statements by the client's quoting rules, stripping
//!   comments, and the keyword scan used when the parser gives up;
//! * `classify` — `sqlparser` (chosen because it is the well-kept SQL parser for Rust with
//!   per-dialect support: PostgreSQL, MySQL, SQLite, ClickHouse, generic) turning each statement
//!   into a kind;
//! * `stores` — non-SQL stores: redis-cli, mongosh, Elasticsearch through curl, etcdctl, consul.
//!
//! Fail-closed rules: what cannot be read, parsed or recognised is `unknown`, never `read-only`;
//! statements over 64 KiB or nested over 200 parentheses are not parsed; the parser runs inside
//! `catch_unwind`; files are read only when the invoking (real) user may read them, only when
//! they are regular files, and at most [`MAX_FILE`] bytes of them.

mod classify;
mod clients;
mod postgres;
mod scan;
mod stores;

use serde::Serialize;

/// Most bytes read from a `-f FILE` or `< FILE` payload; the rest is reported as `unknown`.
pub const MAX_FILE: u64 = 1024 * 1024;

/// Longest `text` kept in a [`Statement`], in bytes; longer text ends with `…`.
pub const MAX_TEXT: usize = 4096;

/// Every kind [`classify`] can emit, for validating policy matchers.
///
/// SQL: `drop-database` (also `DROP SCHEMA` in MySQL, `DROP KEYSPACE` in CQL, `dropdb`,
/// `mysqladmin drop`, Mongo `dropDatabase()`, InfluxDB bucket delete), `drop-schema`,
/// `drop-table`, `drop-other` (views, indexes, functions, …), `drop-cluster` (`pg_dropcluster`),
/// `drop-role` (`DROP ROLE/USER`), `truncate`, `delete-without-where` / `update-without-where`
/// (also `WHERE true`, `WHERE 1=1`), `delete`, `update` (with a condition; `MERGE` is `update`),
/// `alter-drop` (`ALTER TABLE … DROP …`), `alter`, `alter-role` (`ALTER ROLE/USER`, password
/// changes), `grant`, `revoke`, `create-or-replace`, `create`, `insert`, `write` (other state
/// changes: `VACUUM`, `LOCK`, side-effect functions such as `pg_terminate_backend()`),
/// `read-only`, `transaction` (`BEGIN`/`COMMIT`/`ROLLBACK`/`SAVEPOINT`), `shell` (`\!`, `system`,
/// `COPY … PROGRAM`; target is the command), `unknown`.
///
/// Stores: `flushall`, `flushdb`, `del`, `unlink`, `shutdown` (redis, `mysqladmin shutdown`,
/// Mongo `shutdownServer`), `config-set`, `config-rewrite`, `debug`, `replicaof`,
/// `drop-collection`, `delete-index`, `delete-by-query`, `delete-prefix`, `http-delete` (a
/// `DELETE` request through curl to something that does not look like Elasticsearch).
pub fn statement_kinds() -> &'static [&'static str] {
    &[
        "drop-database",
        "drop-schema",
        "drop-table",
        "drop-other",
        "drop-view",
        "drop-materialized-view",
        "drop-index",
        "drop-sequence",
        "drop-foreign-table",
        "drop-function",
        "drop-trigger",
        "drop-rule",
        "drop-policy",
        "drop-type",
        "drop-extension",
        "drop-publication",
        "drop-subscription",
        "drop-server",
        "drop-tablespace",
        "drop-owned",
        "drop-large-object",
        "reassign-owned",
        "merge-delete",
        "alter-system",
        "rewrite-table",
        "create-index",
        "reindex",
        "vacuum-full",
        "cluster",
        "lock-table",
        "rename",
        "terminate-backend",
        "replication",
        "server-setting",
        "blocking",
        "syntax-error",
        "drop-cluster",
        "drop-role",
        "truncate",
        "delete-without-where",
        "update-without-where",
        "delete",
        "update",
        "alter-drop",
        "alter",
        "alter-role",
        "grant",
        "revoke",
        "create-or-replace",
        "create",
        "insert",
        "write",
        "read-only",
        "transaction",
        "shell",
        "unknown",
        "flushall",
        "flushdb",
        "del",
        "unlink",
        "shutdown",
        "config-set",
        "config-rewrite",
        "debug",
        "replicaof",
        "drop-collection",
        "delete-index",
        "delete-by-query",
        "delete-prefix",
        "http-delete",
    ]
}

/// One statement (or store command) a client would send, classified.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Statement {
    /// Kind name used by policy `sql`/`store` matchers (`drop-database`, `read-only`, `unknown`, …).
    /// Always one of [`statement_kinds`].
    pub kind: String,
    /// The object acted on when known (database, table, key pattern). Names are unquoted and
    /// schema-qualified as written (`public.users`). A `DROP`/`TRUNCATE` of several objects
    /// yields one statement per object. Always serialized (`null` when unknown), so that every
    /// statement in `explain --json` has the same `kind`, `target`, `text`.
    pub target: Option<String>,
    /// The statement text as written, comments included, at most [`MAX_TEXT`] bytes.
    pub text: String,
    /// The database the client connects to when the command line names it (`psql -d app`,
    /// `mysql … wordpress`, `sqlite3 app.db`, `redis-cli -n 2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Why the kind is what it is when that is not obvious: the file could not be read, the
    /// payload was truncated, the parser rejected the statement and the keyword scan decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Functions the statement calls, as written (`pg_terminate_backend`, `app.purge`), for
    /// policy `sql_function` matchers. PostgreSQL only: read from the server's parse tree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}

impl Statement {
    /// A statement of `kind` (one of [`statement_kinds`]) with `text` capped at [`MAX_TEXT`].
    pub(crate) fn new(kind: &'static str, target: Option<String>, text: &str) -> Self {
        debug_assert!(statement_kinds().contains(&kind), "kind {kind} not listed");
        Statement {
            kind: kind.to_owned(),
            target,
            text: cap(text),
            database: None,
            note: None,
            functions: Vec::new(),
        }
    }

    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

fn cap(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// What a database client is being asked to run, as far as the command line tells.
#[derive(Debug, Clone, Copy)]
pub struct ClientCall<'a> {
    /// Program basename (`psql`, `mysql`, `redis-cli`, …).
    pub program: &'a str,
    /// Arguments after quote removal, as the program receives them.
    pub args: &'a [String],
    /// Text reaching stdin when statically known (heredoc, here-string, `echo … |`).
    pub stdin: Option<&'a str>,
    /// A file redirected into stdin (`< dump.sql`), absolute.
    pub stdin_file: Option<&'a str>,
    /// Stdin carries text that is not known (a pipe from another program, or data the guard
    /// cannot see): a client reading it is sending `unknown` statements, not opening an
    /// interactive session. Ignored when `stdin` or `stdin_file` is given.
    pub stdin_unknown: bool,
    /// Working directory, for resolving `-f FILE`.
    pub cwd: &'a str,
}

/// The statements `call` would send, classified. Empty when `call.program` is not a known
/// client or sends nothing classifiable (an interactive session). A payload that cannot be read
/// or parsed yields a statement of kind `unknown`, never `read-only`.
///
/// Known programs: `psql`, `mysql`, `mariadb`, `mysqladmin`, `mariadb-admin`, `dropdb`,
/// `pg_dropcluster`, `sqlite3`, `clickhouse-client`, `clickhouse client|local`,
/// `clickhouse-local`, `cqlsh`, `influx`, `redis-cli` (and `valkey-cli`, `keydb-cli`),
/// `mongosh`, `mongo`, `curl` (Elasticsearch/OpenSearch, any `DELETE`), `etcdctl`, `consul kv`.
pub fn classify(call: &ClientCall<'_>) -> Vec<Statement> {
    let mut out = match call.program {
        "redis-cli" | "valkey-cli" | "keydb-cli" => stores::redis(call),
        "mongosh" | "mongo" => stores::mongo(call),
        "curl" => stores::curl(call),
        "etcdctl" => stores::etcdctl(call),
        "consul" => stores::consul(call),
        _ => clients::sql_client(call),
    };
    for st in &mut out {
        debug_assert!(statement_kinds().contains(&st.kind.as_str()));
        if st.text.len() > MAX_TEXT {
            st.text = cap(&st.text);
        }
    }
    out
}

/// Whether `text`, typed into the interactive SQL client `program`, ends where the client would
/// stop reading and run what it has: after a terminator or a client command, outside any quote,
/// dollar quote or comment, with nothing left in the client's query buffer. `None` for programs
/// whose input is not split into SQL statements (`redis-cli` runs every line).
pub fn input_complete(program: &str, text: &str) -> Option<bool> {
    let flavor = match program {
        "psql" => scan::Flavor::Postgres,
        "mysql" | "mariadb" => scan::Flavor::MySql,
        "sqlite3" => scan::Flavor::Sqlite,
        "clickhouse-client" | "clickhouse" => scan::Flavor::ClickHouse,
        "cqlsh" => scan::Flavor::Generic,
        _ => return None,
    };
    Some(!scan::pending(text, flavor))
}

#[cfg(test)]
mod tests;
