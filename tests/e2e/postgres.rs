//! Issue "SQL and data-store awareness" against a real PostgreSQL server: `prodguard -- psql`
//! with no terminal refuses the DROP DATABASE and the database is still there; a SELECT runs.
//!
//! The server is a throwaway cluster: `initdb` in a temp dir, listening on a free loopback port
//! and a socket directory of its own, stopped by `Drop`. PostgreSQL refuses to run as root, so
//! as root it runs as the `postgres` user the Debian package creates (`runuser`). Without the
//! server binaries (package `postgresql`, see scripts/test) the tests say they are skipped, and
//! under `CI=true` they fail.

use crate::util::*;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The superuser of the throwaway cluster.
const ADMIN: &str = "prodguard_e2e";

struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Who runs the server: `Some("postgres")` as root, else the current user.
    run_as: Option<String>,
    port: u16,
    started: bool,
}

/// The newest `/usr/lib/postgresql/*/bin` with `initdb` in it.
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn show(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

impl Postgres {
    /// Start a cluster, or say why not (the caller skips the test).
    fn start() -> Result<Postgres, String> {
        let bin = server_bin().ok_or("no /usr/lib/postgresql/*/bin/initdb (package postgresql)")?;
        let which = |p: &str| {
            std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).exists()))
        };
        if !which("psql") {
            return Err("no psql (package postgresql-client)".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("prodguard-e2e-pg")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or("running as root and there is no postgres user to run the server as")?;
            if !which("runuser") {
                return Err("running as root and there is no runuser (util-linux)".into());
            }
            // The cluster's directory belongs to the user that runs the server.
            std::os::unix::fs::chown(dir.path(), Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| format!("chown {}: {e}", dir.path().display()))?;
            Some("postgres".to_string())
        } else {
            None
        };
        let mut pg = Postgres {
            dir,
            bin,
            run_as,
            port: 0,
            started: false,
        };
        let initdb = pg.server_tool(
            "initdb",
            &[
                "-D",
                &pg.data().display().to_string(),
                "-U",
                ADMIN,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        if !initdb.status.success() {
            return Err(format!("initdb failed: {}", show(&initdb)));
        }
        // A port found free can be taken before the server binds it: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            pg.port = free_port();
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                pg.port,
                pg.sockets().display()
            );
            let started = pg.server_tool(
                "pg_ctl",
                &[
                    "-D",
                    &pg.data().display().to_string(),
                    "-l",
                    &pg.dir.path().join("server.log").display().to_string(),
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            );
            if started.status.success() {
                pg.started = true;
                return Ok(pg);
            }
            last = format!(
                "{}\nserver.log:\n{}",
                show(&started),
                std::fs::read_to_string(pg.dir.path().join("server.log")).unwrap_or_default()
            );
        }
        Err(format!("pg_ctl start failed: {last}"))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The unix socket directory: the cluster's own temp dir, which the server's user owns.
    fn sockets(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Run a server tool (initdb, pg_ctl) as the server's user.
    fn server_tool(&self, tool: &str, args: &[&str]) -> Output {
        let path = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", path.display()))
    }

    /// The connection options of psql for this server.
    fn conn(&self) -> Vec<String> {
        [
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            ADMIN,
            "-d",
            "postgres",
            "-X",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// Run SQL with psql directly, not through the guard; the unaligned, tuples-only output.
    fn sql(&self, sql: &str) -> String {
        let o = Command::new("psql")
            .args(self.conn())
            .args(["-v", "ON_ERROR_STOP=1", "-tAc", sql])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        assert!(o.status.success(), "psql -c {sql:?}: {}", show(&o));
        text(&o.stdout)
    }

    fn database_exists(&self, name: &str) -> bool {
        self.sql(&format!(
            "SELECT 1 FROM pg_database WHERE datname = '{name}'"
        ))
        .trim()
            == "1"
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.started {
            let o = self.server_tool(
                "pg_ctl",
                &[
                    "-D",
                    &self.data().display().to_string(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            );
            if !o.status.success() {
                eprintln!("postgres: pg_ctl stop failed: {}", show(&o));
            }
        }
    }
}

/// Start a server, or say why the test is skipped (under `CI=true`: fail).
fn server(test: &str) -> Option<Postgres> {
    match Postgres::start() {
        Ok(pg) => Some(pg),
        Err(why) => {
            crate::support::skip(&format!("{test}: {why}"));
            None
        }
    }
}

/// `prodguard -- psql CONN ARGS…` on production db1 with no terminal, stdin `stdin`.
fn guarded_psql(world: &World, pg: &Postgres, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let conn = pg.conn();
    let mut argv: Vec<&str> = vec!["--", "psql"];
    argv.extend(conn.iter().map(String::as_str));
    argv.extend(args);
    let mut cmd = world.command(&argv);
    detach(&mut cmd);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin {
        None => {
            cmd.stdin(Stdio::null());
            cmd.output().expect("run prodguard")
        }
        Some(data) => {
            use std::io::Write;
            cmd.stdin(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn prodguard");
            let mut pipe = child.stdin.take().expect("stdin");
            // The guard may refuse without reading it: a broken pipe is fine.
            let _ = pipe.write_all(data);
            drop(pipe);
            child.wait_with_output().expect("wait prodguard")
        }
    }
}

#[test]
fn drop_database_is_refused_without_a_terminal_and_select_runs() {
    let Some(pg) = server("drop_database_is_refused_without_a_terminal_and_select_runs") else {
        return;
    };
    pg.sql("CREATE DATABASE victim");
    assert!(pg.database_exists("victim"));
    let w = World::new(DB1);

    let o = guarded_psql(&w, &pg, &["-c", "DROP DATABASE victim"], None);
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "db.drop-database needs a typed confirmation (target) and there is no terminal"
        ),
        "{err}"
    );
    assert_eq!(text(&o.stdout), "", "psql must not have run");
    assert!(pg.database_exists("victim"), "the database was dropped");

    let rec = w.records().pop().expect("the refusal is recorded");
    assert_eq!(rec["outcome"], "denied", "{rec}");
    assert_eq!(rec["rules"][0], "db.drop-database", "{rec}");

    let o = guarded_psql(&w, &pg, &["-tA", "-c", "SELECT 1"], None);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(text(&o.stdout), "1\n");
    let rec = w.records().pop().expect("recorded");
    assert_eq!(rec["outcome"], "allowed", "{rec}");
}

/// What is tried, psql's arguments after the connection options, and its stdin.
type Case<'a> = (&'a str, Vec<&'a str>, Option<&'a [u8]>);

#[test]
fn other_ways_of_sending_the_drop_are_refused_too() {
    let Some(pg) = server("other_ways_of_sending_the_drop_are_refused_too") else {
        return;
    };
    pg.sql("CREATE DATABASE victim");
    let w = World::new(DB1);
    let file = w.dir.path().join("cleanup.sql");
    std::fs::write(&file, "SELECT 1;\nDROP DATABASE victim;\n").expect("write sql file");
    let file = file.display().to_string();

    let cases: Vec<Case> = vec![
        ("-f FILE", vec!["-f", &file], None),
        (
            "lower case",
            vec!["-c", "drop database if exists victim"],
            None,
        ),
        (
            "behind a SELECT",
            vec!["-c", "SELECT 1; DROP DATABASE victim"],
            None,
        ),
        (
            "SQL on stdin",
            vec![],
            Some(b"DROP DATABASE victim;\n".as_slice()),
        ),
    ];
    for (what, args, stdin) in cases {
        let o = guarded_psql(&w, &pg, &args, stdin);
        assert_eq!(o.status.code(), Some(126), "{what}: {}", show(&o));
        assert!(
            pg.database_exists("victim"),
            "{what}: the database was dropped"
        );
        if stdin.is_some() {
            // The guard cannot read a pipe without taking it from psql: what psql would read
            // there is unknown SQL, asked about on production like any unreadable payload.
            assert!(text(&o.stderr).contains("db.unknown-sql"), "{}", show(&o));
        }
    }

    // dropdb is the same DROP DATABASE.
    let mut cmd = w.command(&[
        "--",
        &pg.bin.join("dropdb").display().to_string(),
        "-h",
        "127.0.0.1",
        "-p",
        &pg.port.to_string(),
        "-U",
        ADMIN,
        "victim",
    ]);
    detach(&mut cmd);
    let o = cmd.stdin(Stdio::null()).output().expect("run prodguard");
    assert_eq!(o.status.code(), Some(126), "dropdb: {}", show(&o));
    assert!(pg.database_exists("victim"), "dropdb dropped it");
}

#[test]
fn the_cluster_is_gone_after_the_test() {
    let Some(pg) = server("the_cluster_is_gone_after_the_test") else {
        return;
    };
    let dir: PathBuf = pg.dir.path().to_path_buf();
    let port = pg.port;
    drop(pg);
    assert!(!Path::new(&dir).exists(), "{} left behind", dir.display());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server still listens on {port}"
    );
}

/// Statements read by PostgreSQL's own parser, against the real server: a `DROP FUNCTION` and a
/// `CREATE INDEX` on a big table are asked about (and so refused without a terminal), the
/// function and the table stay as they were; a `SELECT` with window functions runs. The record
/// names each statement's kind.
#[test]
fn drop_function_and_a_blocking_index_build_are_asked_and_a_window_select_runs() {
    let Some(pg) =
        server("drop_function_and_a_blocking_index_build_are_asked_and_a_window_select_runs")
    else {
        return;
    };
    pg.sql("CREATE FUNCTION refresh_totals() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    pg.sql("CREATE TABLE orders AS SELECT g AS id, g % 97 AS customer FROM generate_series(1, 200000) g");
    let w = World::new(DB1);

    let o = guarded_psql(&w, &pg, &["-c", "DROP FUNCTION refresh_totals()"], None);
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    assert!(text(&o.stderr).contains("db.drop-object"), "{}", show(&o));
    assert_eq!(
        pg.sql("SELECT refresh_totals()").trim(),
        "1",
        "the function was dropped"
    );
    let rec = w.records().pop().expect("recorded");
    assert_eq!(rec["outcome"], "denied", "{rec}");
    assert_eq!(rec["invocations"][0]["sql"][0], "drop-function", "{rec}");

    let o = guarded_psql(
        &w,
        &pg,
        &["-c", "CREATE INDEX orders_customer ON orders (customer)"],
        None,
    );
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("db.exclusive-lock"),
        "{}",
        show(&o)
    );
    assert_eq!(
        pg.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_customer'")
            .trim(),
        "0",
        "the index was built"
    );
    let rec = w.records().pop().expect("recorded");
    assert_eq!(rec["invocations"][0]["sql"][0], "create-index", "{rec}");

    let window = "SELECT customer, sum(id) OVER (PARTITION BY customer ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM orders WHERE id <= 3 ORDER BY id";
    let o = guarded_psql(&w, &pg, &["-tA", "-c", window], None);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(text(&o.stdout), "1|1\n2|2\n3|3\n", "{}", show(&o));
    let rec = w.records().pop().expect("recorded");
    assert_eq!(rec["outcome"], "allowed", "{rec}");
    assert_eq!(rec["invocations"][0]["sql"][0], "read-only", "{rec}");
}

/// `explain --json CMD` in `w`: the verdict's action and the ids of its matches.
fn judged(w: &World, cmd: &str) -> (String, Vec<String>, String) {
    let o = w.run_detached(&["explain", "--json", cmd]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("explain --json {cmd}: {e}\n{}", show(&o)));
    let rules = v["matches"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let messages = v["matches"].to_string();
    (
        v["action"].as_str().unwrap_or("").to_string(),
        rules,
        messages,
    )
}

#[test]
fn a_running_clusters_data_directory_is_protected_where_it_is() {
    let Some(pg) = server("a_running_clusters_data_directory_is_protected_where_it_is") else {
        return;
    };
    // The cluster lives in a temp dir no rule names: only discovery can know it is state.
    let data = pg.data().display().to_string();
    let w = World::new(DB1);

    let pid = std::fs::read_to_string(pg.data().join("postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let cases = [
        (format!("rm -rf {data}/base"), "state.delete"),
        (format!("sudo rm -rf {data}"), "state.delete"),
        (format!("chown -R nobody {data}"), "state.owner-mode"),
        (
            format!("find {data} -name '*.old' -delete"),
            "state.find-delete",
        ),
        (
            format!("cat /dev/null > {data}/PG_VERSION"),
            "state.truncate-redirect",
        ),
        (format!("mv {data} {data}.old"), "state.move"),
        (format!("kill -9 {pid}"), "state.kill-server"),
        (
            format!("kill -9 $(head -1 {data}/postmaster.pid)"),
            "state.kill-server",
        ),
    ];
    for (cmd, rule) in &cases {
        let (action, rules, messages) = judged(&w, cmd);
        assert_eq!(action, "confirm", "{cmd}: {rules:?} {messages}");
        assert!(rules.iter().any(|r| r == rule), "{cmd}: {rules:?}");
        assert!(messages.contains("protected:"), "{cmd}: {messages}");
    }
    // Next to it, in the same temp dir, is ordinary.
    let beside = pg.dir.path().join("scratch");
    std::fs::create_dir_all(beside.join("x")).expect("scratch dir");
    let (action, rules, _) = judged(&w, &format!("rm -rf {}/x", beside.display()));
    assert_eq!(action, "allow", "{rules:?}");
    // `status` names it and says why.
    let o = w.run_detached(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status --json");
    let entries = v["protected"]["entries"].to_string();
    assert!(entries.contains(&data), "{entries}");
    assert!(entries.contains("running, pid"), "{entries}");
}
