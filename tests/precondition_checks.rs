//! Preconditions with real files: fresh, stale, tiny and missing backups, flag files, probes
//! that fail or hang, the raise of an unmet precondition, and load-time errors.

use prodguard::decide::{decide, Verdict};
use prodguard::host::HostContext;
use prodguard::policy::{lint_files, Action, LoadOptions, PolicySet};
use prodguard::precondition::{self, run_probe, ProbeStatus};
use prodguard::shell::{analyze, Context};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

const HOUR: Duration = Duration::from_secs(3600);

fn db1() -> HostContext {
    HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\nfleet = [{ name = \"db2.example.com\", role = \"db-replica\" }]\n",
        None,
    )
}

/// A temp dir with `backups/` and a site pack directory holding `pack`.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("backups")).expect("mkdir backups");
        std::fs::create_dir(dir.path().join("policies")).expect("mkdir policies");
        Site { dir }
    }

    fn root(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }

    fn backups(&self) -> PathBuf {
        self.dir.path().join("backups")
    }

    /// Write the site pack; `@` in `pack` stands for the temp dir.
    fn pack(&self, pack: &str) -> PolicySet {
        std::fs::write(
            self.dir.path().join("policies/site.toml"),
            pack.replace('@', &self.root()),
        )
        .expect("write pack");
        let set = PolicySet::load(&LoadOptions {
            policy_dir: Some(self.dir.path().join("policies")),
            no_embedded: false,
        });
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        set
    }

    /// A backup file of `size` bytes, modified `age` ago.
    fn backup(&self, name: &str, size: usize, age: Duration) -> PathBuf {
        let p = self.backups().join(name);
        std::fs::write(&p, vec![0x5a; size]).expect("write backup");
        set_age(&p, age);
        p
    }
}

fn set_age(p: &Path, age: Duration) {
    let f = std::fs::File::options()
        .write(true)
        .open(p)
        .expect("open for mtime");
    f.set_modified(SystemTime::now() - age).expect("set mtime");
}

fn verdict(cmd: &str, policy: &PolicySet, host: &HostContext) -> Verdict {
    let ctx = Context {
        cwd: "/root".into(),
        home: Some("/root".into()),
        ..Context::default()
    };
    let analysis = analyze(cmd, &ctx);
    let mut v = decide(&analysis, policy, host);
    precondition::check(&mut v, &analysis, policy, host);
    v
}

/// The embedded `db.drop-database`, redefined by a site pack with a backup requirement.
const DROP_DB: &str = r#"
[[rule]]
id = "db.drop-database"
severity = "critical"
action = "confirm"
confirm = "target"
match = { program = ["psql", "dropdb"], sql = ["drop-database"] }
message = "Drop of database {target} on {host} ({role})."

[[rule.require]]
kind = "backup"
path = "@/backups/{target}-*.dump"
max_age = "24h"
min_size = "1MB"
"#;

fn decisive(v: &Verdict) -> &prodguard::policy::Match {
    v.decisive().expect("a match")
}

#[test]
fn a_fresh_backup_keeps_the_action_and_shows_its_evidence() {
    let site = Site::new();
    let policy = site.pack(DROP_DB);
    let file = site.backup(
        "app-2026-11-23T04:00Z.dump",
        2_100_000,
        3 * HOUR + Duration::from_secs(60),
    );
    let v = verdict("psql -c 'DROP DATABASE app'", &policy, &db1());
    assert_eq!(v.action, Action::Confirm);
    assert_eq!(
        v.challenge.as_ref().and_then(|c| c.target.as_deref()),
        Some("app")
    );
    let m = decisive(&v);
    assert_eq!(m.preconditions.len(), 1);
    assert!(m.preconditions[0].met, "{:?}", m.preconditions);
    assert_eq!(
        m.preconditions[0].evidence,
        format!("newest backup: {}, 3 h old, 2.1 MB", file.display())
    );
    assert_eq!(m.raised_from, None);
    assert_eq!(
        precondition::summary(m),
        Some(format!(
            "Checked: newest backup: {}, 3 h old, 2.1 MB.",
            file.display()
        ))
    );
}

#[test]
fn a_stale_backup_raises_confirm_to_approve_and_says_how_old() {
    let site = Site::new();
    let policy = site.pack(DROP_DB);
    site.backup("app-1.dump", 2_000_000, 6 * 24 * HOUR + HOUR);
    let v = verdict("psql -c 'DROP DATABASE app'", &policy, &db1());
    assert_eq!(v.action, Action::Approve);
    assert_eq!(v.approvers, Some(1));
    let m = decisive(&v);
    assert_eq!(m.raised_from, Some(Action::Confirm));
    assert!(!m.preconditions[0].met);
    assert!(
        m.preconditions[0]
            .evidence
            .starts_with("newest backup is 6 days old; expected < 24 h"),
        "{}",
        m.preconditions[0].evidence
    );
    let s = precondition::summary(m).unwrap_or_default();
    assert!(s.ends_with("Raised from confirm to approve."), "{s}");
}

#[test]
fn a_tiny_newest_backup_is_unmet_even_when_an_older_one_is_big() {
    let site = Site::new();
    let policy = site.pack(DROP_DB);
    site.backup("app-1.dump", 5_000_000, 2 * HOUR);
    let tiny = site.backup("app-2.dump", 12, HOUR);
    let v = verdict("psql -c 'DROP DATABASE app'", &policy, &db1());
    assert_eq!(v.action, Action::Approve);
    assert_eq!(
        decisive(&v).preconditions[0].evidence,
        format!("newest backup {} is 12 B; expected > 1 MB", tiny.display())
    );
}

#[test]
fn no_matching_file_names_the_pattern_and_only_the_target_counts() {
    let site = Site::new();
    let policy = site.pack(DROP_DB);
    site.backup("other-1.dump", 5_000_000, HOUR);
    let v = verdict("psql -c 'DROP DATABASE app'", &policy, &db1());
    assert_eq!(v.action, Action::Approve);
    assert_eq!(
        decisive(&v).preconditions[0].evidence,
        format!("no file matches {}/app-*.dump", site.backups().display())
    );
    // The same pack, another target: met.
    let v = verdict("psql -c 'DROP DATABASE other'", &policy, &db1());
    assert_eq!(v.action, Action::Confirm);
}

#[test]
fn unmet_deny_refuses() {
    let site = Site::new();
    let policy =
        site.pack(&DROP_DB.replace("message = \"Drop", "unmet = \"deny\"\nmessage = \"Drop"));
    let v = verdict("dropdb app", &policy, &db1());
    assert_eq!(v.action, Action::Deny);
    assert_eq!(decisive(&v).raised_from, Some(Action::Confirm));
}

#[test]
fn a_command_on_another_host_cannot_meet_local_preconditions() {
    let site = Site::new();
    let policy = site.pack(DROP_DB);
    site.backup("app-1.dump", 5_000_000, HOUR);
    let v = verdict("psql -h db2 -c 'DROP DATABASE app'", &policy, &db1());
    assert!(v.action >= Action::Approve, "{:?}", v.action);
    let m = v
        .matches
        .iter()
        .find(|m| m.rule == "db.drop-database")
        .expect("match");
    assert_eq!(
        m.preconditions[0].evidence,
        "this acts on db2; preconditions are checked on this host only"
    );
}

#[test]
fn a_data_dir_delete_looks_for_the_directory_backup_by_name() {
    let site = Site::new();
    let policy = site.pack(
        r#"
[[rule]]
id = "fs.rm-data-dir"
action = "confirm"
match = { program = ["rm"], target = ["/var/lib/postgresql/**"] }
message = "Delete in a data directory: {target}"

[[rule.require]]
kind = "backup"
path = "@/backups/{short_host}-{target_name}-*.tar"
max_age = "26h"
min_size = "1kB"

[[rule.require]]
kind = "file"
path = "@/maintenance"
exists = true
"#,
    );
    let tar = site.backup("db1-main-2026.tar", 50_000, HOUR);
    let rule = |v: &Verdict| {
        v.matches
            .iter()
            .find(|m| m.rule == "fs.rm-data-dir")
            .cloned()
            .expect("match")
    };
    let v = verdict("rm -rf /var/lib/postgresql/15/main", &policy, &db1());
    assert_eq!(v.action, Action::Approve);
    let m = rule(&v);
    assert!(m.preconditions[0].met, "{:?}", m.preconditions);
    assert!(m.preconditions[0]
        .evidence
        .contains(&tar.display().to_string()));
    assert_eq!(
        m.preconditions[1].evidence,
        format!("{}/maintenance does not exist; expected it to", site.root())
    );
    std::fs::write(site.dir.path().join("maintenance"), b"").expect("flag");
    let v = verdict("rm -rf /var/lib/postgresql/15/main", &policy, &db1());
    assert_eq!(v.action, Action::Confirm);
    assert_eq!(
        rule(&v).preconditions[1].evidence,
        format!("{}/maintenance exists", site.root())
    );
}

#[test]
fn an_unknown_target_is_unmet() {
    let site = Site::new();
    let policy = site.pack(
        r#"
[[rule]]
id = "fs.rm-data-dir"
action = "confirm"
match = { program = ["rm"], target = ["/var/lib/postgresql/**"] }
message = "Delete in a data directory: {target}"

[[rule.require]]
kind = "backup"
path = "@/backups/{target_name}-*.tar"
max_age = "26h"
"#,
    );
    let v = verdict("rm -rf \"$PGDATA_UNSET\"/x", &policy, &db1());
    let m = v
        .matches
        .iter()
        .find(|m| m.rule == "fs.rm-data-dir")
        .expect("match");
    assert!(!m.preconditions[0].met);
    assert!(
        m.preconditions[0].evidence.contains("is not known"),
        "{}",
        m.preconditions[0].evidence
    );
}

/// Whether `pid` is gone (or a zombie nobody reaped yet: no longer running).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_hanging_probe_is_killed_with_its_children_within_the_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("sleep.pid");
    let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
    let argv: Vec<String> = ["sh", "-c", &script]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let timeout = Duration::from_secs(1);
    let start = Instant::now();
    let o = run_probe(&argv, timeout);
    let elapsed = start.elapsed();
    assert_eq!(o.status, ProbeStatus::TimedOut);
    assert!(elapsed < timeout + Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed >= timeout, "{elapsed:?}");
    let sleep_pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    // SIGKILL is delivered at once, but give the kernel a moment to tear the process down.
    let deadline = Instant::now() + Duration::from_millis(500);
    while !(gone(sleep_pid) && gone(o.pgid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone(sleep_pid), "the probe's child {sleep_pid} survived");
    assert!(gone(o.pgid), "the probe {} survived", o.pgid);
}

#[test]
fn a_hanging_probe_in_a_rule_counts_as_unmet() {
    let site = Site::new();
    let policy = site.pack(
        r#"
[[rule]]
id = "db.drop-database"
action = "confirm"
match = { program = ["psql"], sql = ["drop-database"] }
message = "Drop of database {target}."

[[rule.require]]
kind = "command"
argv = ["sleep", "30"]
timeout = "1s"
"#,
    );
    let start = Instant::now();
    let v = verdict("psql -c 'DROP DATABASE app'", &policy, &db1());
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(v.action, Action::Approve);
    assert_eq!(
        decisive(&v).preconditions[0].evidence,
        "sleep 30 did not finish within 1 s; it was killed"
    );
}

#[test]
fn a_failing_probe_says_why() {
    let site = Site::new();
    let policy = site.pack(
        r#"
[[rule]]
id = "db.drop-database"
action = "confirm"
match = { program = ["psql"], sql = ["drop-database"] }
message = "Drop of database {target}."

[[rule.require]]
kind = "command"
argv = ["sh", "-c", "echo \"replica lag of $1 is 900 s\" >&2; exit 2", "lag", "{target}"]
"#,
    );
    let v = verdict("psql -c 'DROP DATABASE app'", &policy, &db1());
    assert_eq!(v.action, Action::Approve);
    assert!(
        decisive(&v).preconditions[0]
            .evidence
            .ends_with("failed: exit status 2 (replica lag of app is 900 s)"),
        "{}",
        decisive(&v).preconditions[0].evidence
    );
}

#[test]
fn errors_in_require_are_reported_with_their_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"[[rule]]
id = "db.drop-database"
action = "confirm"
match = { program = ["psql"], sql = ["drop-database"] }
message = "Drop of {target}."

[[rule.require]]
kind = "backup"
path = "/backups/{targt}-*.dump"
max_age = "1 fortnight"
min_size = "1XB"

[[rule.require]]
kind = "command"
argv = ["pg_restore", "--list", "{file}"]
timeout = "10 s"

[[rule]]
id = "x.probe"
action = "warn"
match = { program = ["rm"] }
message = "m"

[[rule.require]]
kind = "comand"
argv = ["true"]

[[rule.require]]
kind = "command"
argv = ["pg_restore", "--list", "{file}"]
path = "/x"
"#,
    )
    .expect("write");
    let diags = lint_files(&[path]);
    let lines: Vec<String> = diags.iter().map(|d| d.headline()).collect();
    let want = [
        (9, 8, "unknown placeholder `{targt}`"),
        (10, 11, "invalid duration `1 fortnight`"),
        (11, 12, "invalid size `1XB`"),
        (25, 8, "unknown precondition kind `comand`"),
        (31, 8, "`path` does not apply to kind = \"command\""),
        (
            30,
            33,
            "`{file}` is the newest file found by this rule's backup precondition",
        ),
    ];
    for (line, col, text) in want {
        assert!(
            diags
                .iter()
                .any(|d| d.line == line && d.col == col && d.message.starts_with(text)),
            "no {line}:{col} {text}; got:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(diags.len(), want.len(), "{}", lines.join("\n"));
    assert_eq!(
        diags[0].help.as_deref(),
        Some("did you mean `target`?"),
        "{}",
        lines.join("\n")
    );
}

/// The `[[rule]]` block of `id` in `text`.
fn rule_block<'a>(text: &'a str, id: &str) -> &'a str {
    let start = text
        .find(&format!("[[rule]]\nid = \"{id}\""))
        .expect("rule in pack");
    let end = text[start + 8..]
        .find("[[rule]]")
        .map_or(text.len(), |e| e + start + 8);
    &text[start..end]
}

#[test]
fn the_commented_examples_in_the_default_packs_load_when_uncommented() {
    for (pack, id) in [
        ("databases.toml", "db.drop-database"),
        ("filesystem.toml", "fs.rm-data-dir"),
    ] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("policies")
                .join(pack),
        )
        .expect("pack");
        let block = rule_block(&text, id);
        let example = block
            .find("# [[rule.require]]")
            .unwrap_or_else(|| panic!("{pack}: no commented example in {id}"));
        let enabled: String = block[..example]
            .lines()
            .chain(block[example..].lines().map(|l| {
                l.strip_prefix("# ")
                    .or_else(|| l.strip_prefix('#'))
                    .unwrap_or(l)
            }))
            .map(|l| format!("{l}\n"))
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("site.toml"), &enabled).expect("write");
        let set = PolicySet::load(&LoadOptions {
            policy_dir: Some(dir.path().to_path_buf()),
            no_embedded: false,
        });
        assert!(set.errors.is_empty(), "{pack}: {:?}\n{enabled}", set.errors);
        let (rules, _) = set.all_rules();
        let rule = rules.iter().find(|r| r.id == id).expect("rule in force");
        assert_eq!(rule.require.len(), 2, "{pack}");
        assert_eq!(
            rule.pack, "site",
            "{pack}: the site rule replaces the embedded one"
        );
    }
}

#[test]
fn the_site_pack_in_the_documentation_loads() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/preconditions.md"),
    )
    .expect("docs/preconditions.md");
    let start = doc.find("```toml\n").expect("a toml block") + 8;
    let end = doc[start..].find("```").expect("end of block") + start;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("50-backups.toml");
    std::fs::write(&path, &doc[start..end]).expect("write");
    let diags = lint_files(&[path]);
    assert!(diags.is_empty(), "{diags:?}");
}
