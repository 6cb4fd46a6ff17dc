//! `prodguard sql -- CLIENT` against real servers, driven through a pseudo-terminal as a person
//! would drive it: a PostgreSQL cluster made with `initdb` in a temp dir (unix socket there,
//! a free loopback port), and a `redis-server` on a free port with persistence off.
//!
//! Each test skips, saying why, when the server is not installed (`scripts/test` installs it);
//! under `CI=true` it fails instead.
//! Servers are stopped by `Drop` guards, so a failing test leaves nothing running.

#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;

use pty::{Options, Out, Pty, Stdin};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

const HOST: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
[audit]
syslog = "none"
"#;

/// A free TCP port on loopback (bound and released; the server binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The host description, empty policy directory and audit log of one test.
struct Guard {
    dir: tempfile::TempDir,
}

impl Guard {
    fn new() -> Guard {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("host.toml"), HOST).expect("host.toml");
        std::fs::create_dir(dir.path().join("policies")).expect("policies dir");
        Guard { dir }
    }

    fn args(&self) -> Vec<String> {
        let p = self.dir.path();
        vec![
            "--host-file".into(),
            p.join("host.toml").display().to_string(),
            "--policy-dir".into(),
            p.join("policies").display().to_string(),
            "--audit-file".into(),
            p.join("audit.jsonl").display().to_string(),
        ]
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("record is JSON"))
            .collect()
    }
}

/// `prodguard sql -- CLIENT` on a fresh 50×200 terminal of its own holding its stdin, stdout
/// and stderr, as the session leader with that terminal as its controlling terminal (so
/// `/dev/tty` is this pty).
fn spawn(guard: &Guard, client: &[&str]) -> Pty {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodguard"));
    cmd.args(guard.args())
        .arg("sql")
        .arg("--")
        .args(client)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("PSQLRC", "/dev/null")
        .env("PAGER", "cat")
        .env_remove("PRODGUARD_SESSION")
        .env_remove("COLUMNS")
        .env_remove("LINES");
    Pty::with(
        cmd,
        Options {
            stdout: Out::Tty,
            stderr: Out::Tty,
            ..Options::piped(Stdin::Tty).size(50, 200)
        },
    )
}

/// Spawning in a new session: no controlling terminal, so nothing can be asked.
trait SpawnDetached {
    fn spawn_detached(&mut self) -> std::io::Result<Child>;
}

impl SpawnDetached for Command {
    fn spawn_detached(&mut self) -> std::io::Result<Child> {
        // SAFETY: setsid is async-signal-safe and touches no parent memory.
        unsafe {
            self.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self.spawn()
    }
}

// ---------------------------------------------------------------- PostgreSQL

/// A throw-away PostgreSQL cluster, stopped on drop.
struct Pg {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    /// Run the server tools as this user (root may not run them).
    as_user: Option<String>,
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

impl Pg {
    fn start() -> Option<Pg> {
        let Some(bin) = pg_bin() else {
            support::skip(
                "no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb); install postgresql",
            );
            return None;
        };
        if Command::new("psql").arg("--version").output().is_err() {
            support::skip("no psql (package postgresql-client)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("prodguard-pg-")
            .tempdir()
            .expect("temp dir");
        let as_user = if nix::unistd::geteuid().is_root() {
            let Some(user) = nix::unistd::User::from_name("postgres").ok().flatten() else {
                support::skip("running as root and there is no postgres user to run the server as");
                return None;
            };
            std::os::unix::fs::chown(dir.path(), Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .expect("chown the cluster dir");
            Some("postgres".to_owned())
        } else {
            None
        };
        let mut pg = Pg {
            dir,
            port: 0,
            bin,
            as_user,
        };
        let data = pg.dir.path().join("data");
        let out = pg
            .tool("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for _ in 0..5 {
            pg.port = free_port();
            let opts = format!(
                "-k {} -p {} -c listen_addresses=127.0.0.1 -c fsync=off",
                pg.dir.path().display(),
                pg.port
            );
            let out = pg
                .tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-w", "-t", "30", "-o", &opts, "-l"])
                .arg(pg.dir.path().join("log"))
                .arg("start")
                .output()
                .expect("run pg_ctl");
            if out.status.success() {
                return Some(pg);
            }
        }
        panic!(
            "the PostgreSQL server did not start: {}",
            std::fs::read_to_string(pg.dir.path().join("log")).unwrap_or_default()
        );
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        match &self.as_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Run `sql` on a second connection; the unaligned, tuples-only output.
    fn query(&self, db: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-X", "-A", "-t", "-h", &self.socket_dir(), "-p"])
            .arg(self.port.to_string())
            .args(["-U", "postgres", "-d", db, "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn client(&self) -> Vec<String> {
        vec![
            "psql".into(),
            "-h".into(),
            self.socket_dir(),
            "-p".into(),
            self.port.to_string(),
            "-U".into(),
            "postgres".into(),
            "app".into(),
        ]
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .tool("pg_ctl")
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn psql_session_asks_for_destructive_statements_only() {
    let Some(pg) = Pg::start() else { return };
    pg.query("postgres", "CREATE DATABASE app");
    pg.query("postgres", "CREATE DATABASE victim");
    pg.query(
        "app",
        "CREATE TABLE users (id int); INSERT INTO users VALUES (1), (2), (3)",
    );
    let guard = Guard::new();
    let client = pg.client();
    let mut t = spawn(&guard, &strs(&client));
    t.expect("app=#");

    // A read passes and prints its result.
    t.send(b"SELECT 40 + 2 AS answer;\r");
    t.expect("42");
    t.expect("(1 row)");
    t.expect("app=#");
    assert_eq!(
        t.count("SELECT 40 + 2"),
        1,
        "the statement is shown once:\n{}",
        t.text()
    );

    // A narrower window reaches psql: `\x auto` switches to expanded output.
    t.send(b"\\x auto\r");
    t.expect("app=#");
    t.resize(50, 30);
    std::thread::sleep(Duration::from_millis(200));
    t.send(b"SELECT repeat('x', 60) AS wide, 2 AS n;\r");
    t.expect("-[ RECORD 1 ]");
    t.expect("app=#");
    t.resize(50, 200);
    std::thread::sleep(Duration::from_millis(200));

    // A meta-command on its own line passes.
    t.send(b"\\l\r");
    t.expect("List of databases");
    t.expect("app=#");

    // DROP DATABASE asks for the name; a wrong name keeps it.
    t.send(b"DROP DATABASE victim;\r");
    t.expect("psql session: database app on");
    t.expect("database victim");
    t.expect("target:");
    t.send(b"prod\r");
    t.expect("not sent");
    t.expect("app=#");
    assert_eq!(
        pg.query(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'victim'"
        ),
        "1"
    );

    // The right name drops it.
    t.send(b"DROP DATABASE victim;\r");
    t.expect("target:");
    t.send(b"victim\r");
    t.expect("DROP DATABASE");
    t.expect("app=#");
    assert_eq!(
        pg.query(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'victim'"
        ),
        "0"
    );

    // A DELETE without WHERE over three lines asks once the statement is complete; Ctrl-C at
    // the question sends nothing and the session goes on.
    t.send(b"DELETE\r");
    t.send(b"FROM users\r");
    t.send(b";\r");
    t.expect("target:");
    t.send(b"\x03");
    t.expect("not sent");
    t.expect("app=#");
    assert_eq!(pg.query("app", "SELECT count(*) FROM users"), "3");

    // Transactions: BEGIN and ROLLBACK pass, the DELETE between them asks.
    t.send(b"BEGIN;\r");
    t.expect("BEGIN");
    t.expect("app=*#");
    t.send(b"DELETE FROM users;\r");
    t.expect("target:");
    t.send(b"users\r");
    t.expect("DELETE 3");
    t.send(b"ROLLBACK;\r");
    t.expect("ROLLBACK");
    t.expect("app=#");
    assert_eq!(pg.query("app", "SELECT count(*) FROM users"), "3");

    t.send(b"\\q\r");
    assert!(t.wait().success(), "{}", t.text());
    assert!(
        pty::cooked(&t.termios()),
        "the terminal is back in its normal modes"
    );

    // Records: one per decision, all with the session's id; one summary with the counts.
    let recs = guard.records();
    let session_recs: Vec<_> = recs
        .iter()
        .filter(|r| r["detail"].as_str().is_some_and(|d| d.contains("psql")))
        .collect();
    let ids: std::collections::BTreeSet<_> = session_recs
        .iter()
        .map(|r| r["session"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids.len(), 1, "one session id: {session_recs:#?}");
    let decisions: Vec<_> = session_recs
        .iter()
        .filter(|r| r["event"] == "command")
        .collect();
    assert_eq!(decisions.len(), 4, "{decisions:#?}");
    assert!(decisions.iter().all(|r| r["action"] == "confirm"));
    let outcomes: Vec<_> = decisions
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(outcomes, ["denied", "confirmed", "aborted", "confirmed"]);
    let end = session_recs.last().expect("summary");
    assert_eq!(end["event"], "session");
    assert_eq!(end["outcome"], "exit");
    let detail = end["detail"].as_str().unwrap_or("");
    assert!(detail.contains("read-only"), "{detail}");
    assert!(detail.contains("inputs not sent: 2"), "{detail}");
    assert!(
        !recs
            .iter()
            .any(|r| r["command"].as_str().is_some_and(|c| c.contains("40 + 2"))),
        "plain reads are counted, not recorded"
    );
}

/// Statements read by PostgreSQL's own parser inside a `prodguard sql -- psql` session: a
/// `DROP FUNCTION` and a `CREATE INDEX` on a big table are asked about and, answered wrong, not
/// sent; a `SELECT` with window functions runs.
#[test]
fn psql_session_asks_for_drop_function_and_blocking_index_builds() {
    let Some(pg) = Pg::start() else { return };
    pg.query("postgres", "CREATE DATABASE app");
    pg.query(
        "app",
        "CREATE FUNCTION refresh_totals() RETURNS int LANGUAGE sql AS 'SELECT 1'; \
         CREATE TABLE orders AS SELECT g AS id, g % 97 AS customer FROM generate_series(1, 200000) g",
    );
    let guard = Guard::new();
    let client = pg.client();
    let mut t = spawn(&guard, &strs(&client));
    t.expect("app=#");

    t.send(b"SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) AS s FROM orders WHERE id <= 3 ORDER BY id;\r");
    t.expect("(3 rows)");
    t.expect("app=#");

    t.send(b"DROP FUNCTION refresh_totals();\r");
    t.expect("refresh_totals");
    t.expect("target:");
    t.send(b"wrong\r");
    t.expect("not sent");
    t.expect("app=#");
    assert_eq!(pg.query("app", "SELECT refresh_totals()"), "1");

    t.send(b"CREATE INDEX orders_customer ON orders (customer);\r");
    t.expect("target:");
    t.send(b"wrong\r");
    t.expect("not sent");
    t.expect("app=#");
    assert_eq!(
        pg.query(
            "app",
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer'"
        ),
        "0"
    );

    t.send(b"\\q\r");
    assert!(t.wait().success(), "{}", t.text());
    let kinds: Vec<String> = guard
        .records()
        .iter()
        .filter(|r| r["event"] == "command")
        .filter_map(|r| r["invocations"][0]["sql"][0].as_str().map(str::to_owned))
        .collect();
    assert_eq!(kinds, ["drop-function", "create-index"], "{}", t.text());
}

#[test]
fn piped_input_is_judged_before_the_first_statement() {
    let Some(pg) = Pg::start() else { return };
    pg.query("postgres", "CREATE DATABASE app");
    pg.query("app", "CREATE TABLE t (id int)");
    let guard = Guard::new();
    let client = pg.client();
    let run = |input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_prodguard"))
            .args(guard.args())
            .arg("sql")
            .arg("--")
            .args(&client)
            .env("PSQLRC", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn_detached()
            .expect("start prodguard");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait")
    };
    let out = run("INSERT INTO t VALUES (1);\nSELECT count(*) FROM t;\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains('1'));
    // The INSERT is first, the DROP last: nothing runs.
    let out = run("INSERT INTO t VALUES (2);\nDROP TABLE t;\n");
    assert_eq!(
        out.status.code(),
        Some(126),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(pg.query("app", "SELECT count(*) FROM t"), "1");
}

// ---------------------------------------------------------------- Redis

struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Option<Redis> {
        if Command::new("redis-cli").arg("--version").output().is_err() {
            support::skip("no redis-cli; install redis-tools");
            return None;
        }
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let Ok(child) = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                ])
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            else {
                support::skip("no redis-server; install redis-server");
                return None;
            };
            let mut r = Redis {
                child,
                port,
                _dir: dir,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if r.cli(&["PING"]) == "PONG" {
                    return Some(r);
                }
                if r.child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken after all: try another
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("redis-server did not start");
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redis_session_asks_for_flushall() {
    let Some(redis) = Redis::start() else { return };
    let guard = Guard::new();
    let port = redis.port.to_string();
    let mut t = spawn(&guard, &["redis-cli", "-p", &port]);
    let prompt = format!("127.0.0.1:{port}>");
    t.expect(&prompt);
    t.send(b"SET k v\r");
    t.expect("OK");
    t.expect(&prompt);
    t.send(b"GET k\r");
    t.expect("\"v\"");
    t.expect(&prompt);

    t.send(b"FLUSHALL\r");
    t.expect("host name:");
    t.send(b"db2\r");
    t.expect("not sent");
    t.expect(&prompt);
    assert_eq!(redis.cli(&["GET", "k"]), "v");

    t.send(b"FLUSHALL\r");
    t.expect("host name:");
    t.send(b"db1\r");
    t.expect("OK");
    t.expect(&prompt);
    assert_eq!(redis.cli(&["GET", "k"]), "");

    t.send(b"\x04");
    assert!(t.wait().success(), "{}", t.text());
    assert!(
        pty::cooked(&t.termios()),
        "the terminal is back in its normal modes"
    );
}

#[test]
fn unsupported_clients_are_refused_with_the_way_out() {
    let guard = Guard::new();
    let out = Command::new(env!("CARGO_BIN_EXE_prodguard"))
        .args(guard.args())
        .args(["sql", "--", "bash"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prodguard -- bash"));
}
