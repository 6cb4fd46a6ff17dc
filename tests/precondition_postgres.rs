//! A real PostgreSQL: `pg_dump -Fc` of a real database is the backup, `pg_restore --list` the
//! probe that proves it readable; a truncated or garbled dump fails the probe.
//!
//! Needs root (the server runs as `postgres` through `runuser`), and PostgreSQL's binaries in
//! /usr/lib/postgresql/*/bin; otherwise the test says why it is skipped and passes, and under
//! `CI=true` it fails.

use prodguard::decide::{decide, Verdict};
use prodguard::host::HostContext;
use prodguard::policy::{Action, LoadOptions, Match, PolicySet};
use prodguard::precondition;
use prodguard::shell::{analyze, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

mod support;

/// The newest PostgreSQL bin directory with initdb.
fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, b)| b)
}

/// A PostgreSQL server on a temp dir, unix socket only; stopped and removed on drop.
struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sock(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// Run a PostgreSQL program as `postgres`.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("runuser {program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Start a server, or say why not (the reason to skip).
    fn start() -> Result<Postgres, String> {
        if !nix::unistd::getuid().is_root() {
            return Err("running the server as postgres needs root".into());
        }
        let bin = pg_bin().ok_or("no /usr/lib/postgresql/*/bin/initdb")?;
        let user = nix::unistd::User::from_name("postgres")
            .ok()
            .flatten()
            .ok_or("no postgres user")?;
        if Command::new("runuser").arg("--version").output().is_err() {
            return Err("no runuser".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("prodguard-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let own = |p: &Path| {
            std::os::unix::fs::chown(p, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| format!("chown {}: {e}", p.display()))
        };
        own(dir.path())?;
        for sub in ["sock", "backups"] {
            let p = dir.path().join(sub);
            std::fs::create_dir(&p).map_err(|e| e.to_string())?;
            own(&p)?;
        }
        let port = 20_000 + u16::try_from(std::process::id() % 20_000).unwrap_or(0);
        let pg = Postgres { dir, bin, port };
        let data = pg.data().to_string_lossy().into_owned();
        pg.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        )?;
        let opts = format!(
            "-k {} -p {} -c listen_addresses='' -c fsync=off",
            pg.sock().display(),
            pg.port
        );
        let log = pg.dir.path().join("log").to_string_lossy().into_owned();
        pg.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &opts, "start",
            ],
        )?;
        Ok(pg)
    }

    fn psql(&self, db: &str, sql: &str) -> Result<(), String> {
        let sock = self.sock().to_string_lossy().into_owned();
        let port = self.port.to_string();
        self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &sock,
                "-p",
                &port,
                "-d",
                db,
                "-c",
                sql,
            ],
        )
    }

    fn dump(&self, db: &str, to: &Path) -> Result<(), String> {
        let sock = self.sock().to_string_lossy().into_owned();
        let port = self.port.to_string();
        let to = to.to_string_lossy().into_owned();
        self.run("pg_dump", &["-Fc", "-h", &sock, "-p", &port, "-f", &to, db])
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data().to_string_lossy().into_owned();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

fn set_age(p: &Path, age: Duration) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .and_then(|f| f.set_modified(SystemTime::now() - age))
        .expect("set mtime");
}

fn drop_database_match(policy: &PolicySet) -> (Verdict, Match) {
    let host = HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n",
        None,
    );
    let ctx = Context {
        cwd: "/".into(),
        ..Context::default()
    };
    let analysis = analyze("psql -c 'DROP DATABASE app'", &ctx);
    let mut v = decide(&analysis, policy, &host);
    precondition::check(&mut v, &analysis, policy, &host);
    let m = v
        .matches
        .iter()
        .find(|m| m.rule == "db.drop-database")
        .cloned()
        .expect("db.drop-database matches");
    (v, m)
}

#[test]
fn a_real_dump_passes_pg_restore_list_and_a_corrupted_one_fails_it() {
    let pg = match Postgres::start() {
        Ok(pg) => pg,
        Err(why) => {
            support::skip(&why);
            return;
        }
    };
    pg.psql("postgres", "CREATE DATABASE app")
        .expect("createdb");
    pg.psql(
        "app",
        "CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 5000) g",
    )
    .expect("table");
    let backups = pg.dir.path().join("backups");
    let dump = backups.join("app-2026-11-23T04:00Z.dump");
    pg.dump("app", &dump).expect("pg_dump");
    set_age(&dump, Duration::from_secs(3 * 3600 + 60));

    let policies = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        policies.path().join("site.toml"),
        format!(
            r#"
[[rule]]
id = "db.drop-database"
severity = "critical"
action = "confirm"
confirm = "target"
match = {{ program = ["psql", "dropdb"], sql = ["drop-database"] }}
message = "Drop of database {{target}} on {{host}}."

[[rule.require]]
kind = "backup"
path = "{}/{{target}}-*.dump"
max_age = "24h"

[[rule.require]]
kind = "command"
argv = ["{}", "--list", "{{file}}"]
timeout = "30s"
"#,
            backups.display(),
            pg.bin.join("pg_restore").display()
        ),
    )
    .expect("write pack");
    let policy = PolicySet::load(&LoadOptions {
        policy_dir: Some(policies.path().to_path_buf()),
        no_embedded: false,
    });
    assert!(policy.errors.is_empty(), "{:?}", policy.errors);

    // The real dump: both met, the action stands, the evidence names the file and the probe.
    let (v, m) = drop_database_match(&policy);
    assert_eq!(v.action, Action::Confirm, "{:?}", m.preconditions);
    assert!(
        m.preconditions.iter().all(|p| p.met),
        "{:?}",
        m.preconditions
    );
    assert!(
        m.preconditions[0]
            .evidence
            .starts_with(&format!("newest backup: {}, 3 h old, ", dump.display())),
        "{}",
        m.preconditions[0].evidence
    );
    assert!(
        m.preconditions[1]
            .evidence
            .ends_with(&format!("pg_restore --list OK on {}", dump.display())),
        "{}",
        m.preconditions[1].evidence
    );

    // A truncated copy, newer: the backup is found, the probe fails on it.
    let bytes = std::fs::read(&dump).expect("read dump");
    let truncated = backups.join("app-2026-11-23T05:00Z.dump");
    std::fs::write(&truncated, &bytes[..bytes.len().min(100)]).expect("write truncated");
    set_age(&truncated, Duration::from_secs(2 * 3600));
    let (v, m) = drop_database_match(&policy);
    assert_eq!(v.action, Action::Approve);
    assert!(m.preconditions[0].met);
    assert!(!m.preconditions[1].met);
    assert!(
        m.preconditions[1].evidence.contains(&format!(
            "pg_restore --list failed on {}: exit status 1 (pg_restore: error:",
            truncated.display()
        )),
        "{}",
        m.preconditions[1].evidence
    );
    std::fs::remove_file(&truncated).expect("rm truncated");

    // A garbled copy (its header overwritten), newer still: fails too.
    let mut garbled_bytes = bytes.clone();
    for b in garbled_bytes.iter_mut().take(16) {
        *b = b'#';
    }
    let garbled = backups.join("app-2026-11-23T06:00Z.dump");
    std::fs::write(&garbled, &garbled_bytes).expect("write garbled");
    set_age(&garbled, Duration::from_secs(3600));
    let (v, m) = drop_database_match(&policy);
    assert_eq!(v.action, Action::Approve);
    assert!(!m.preconditions[1].met);
    assert!(
        m.preconditions[1]
            .evidence
            .contains(&format!("failed on {}: exit status 1", garbled.display())),
        "{}",
        m.preconditions[1].evidence
    );
}
