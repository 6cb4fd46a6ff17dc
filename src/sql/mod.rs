//! SQL and data-store payloads: what a database client is about to send, classified.

use serde::Serialize;

/// One statement (or store command) a client would send, classified.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Statement {
    /// Kind name used by policy `sql`/`store` matchers (`drop-database`, `read-only`, `unknown`, …).
    pub kind: String,
    /// The object acted on when known (database, table, key pattern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The statement text.
    pub text: String,
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
    /// Working directory, for resolving `-f FILE`.
    pub cwd: &'a str,
}

/// The statements `call` would send, classified. Empty when `call.program` is not a known
/// client or sends nothing classifiable (an interactive session). A payload that cannot be read
/// or parsed yields a statement of kind `unknown`, never `read-only`.
pub fn classify(call: &ClientCall<'_>) -> Vec<Statement> {
    let _ = call;
    Vec::new()
}

/// Every statement kind `classify` can emit; policy `sql` matchers are checked against it.
pub fn statement_kinds() -> &'static [&'static str] {
    &[
        "drop-database",
        "drop-schema",
        "drop-table",
        "drop-other",
        "truncate",
        "delete-without-where",
        "update-without-where",
        "delete",
        "update",
        "alter-drop",
        "alter",
        "grant",
        "revoke",
        "alter-role",
        "drop-role",
        "create-or-replace",
        "insert",
        "create",
        "read-only",
        "transaction",
        "unknown",
        "shell",
        "drop-cluster",
        "flushall",
        "flushdb",
        "del",
        "unlink",
        "shutdown",
        "config-set",
        "config-rewrite",
        "debug",
        "write",
        "drop-collection",
        "delete-index",
        "delete-by-query",
        "delete-prefix",
    ]
}
