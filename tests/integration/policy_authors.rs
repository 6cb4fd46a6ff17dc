//! For policy authors: time windows and freezes from the command line, replaying history
//! through two policies, coverage, the JSON Schema and the formatter.

use crate::util::*;
use std::path::{Path, PathBuf};

fn replay_dir(name: &str) -> PathBuf {
    data("replay").join(name)
}

/// 10,000 commands drawn from the fixture (tldr examples and some risky lines) with a fixed
/// seed: the same history on every run.
fn history(n: usize, seed: u64) -> String {
    let source = std::fs::read_to_string(replay_dir("history-source.txt")).expect("fixture");
    let lines: Vec<&str> = source.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut x = seed;
    let mut out = String::new();
    for _ in 0..n {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        out.push_str(lines[((x >> 33) as usize) % lines.len()]);
        out.push('\n');
    }
    out
}

const BERLIN_HOST: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
timezone = "Europe/Berlin"
[audit]
syslog = "none"
"#;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn diff_of_ten_thousand_commands_names_exactly_the_changed_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("history.txt");
    std::fs::write(&file, history(10_000, 42)).expect("write history");
    let h = host(BERLIN_HOST);
    let (old, new) = (replay_dir("old"), replay_dir("new"));
    let args = |json: bool| {
        let mut v = vec![
            "--host-file",
            s(&h.file),
            "policy",
            "diff",
            s(&old),
            s(&new),
            "--commands",
            s(&file),
            // Inside the holiday freeze the new pack defines.
            "--now",
            "2026-12-24T10:00:00+01:00",
        ];
        if json {
            v.push("--json");
        }
        v
    };
    let out = run(&args(false));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    golden("replay_diff.txt", &stdout(&out));

    let out = run(&args(true));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["commands"], 10_000);
    let mut total = 0;
    let mut listed = 0;
    for rules in v["changes"].as_object().expect("changes").values() {
        for r in rules.as_object().expect("rules").values() {
            total += r["count"].as_u64().expect("count");
            for c in r["commands"].as_array().expect("commands") {
                listed += c["count"].as_u64().expect("count");
            }
        }
    }
    assert_eq!(v["changed"].as_u64(), Some(total));
    assert_eq!(listed, total);
    for kind in ["newly-denied", "newly-prompted", "newly-allowed"] {
        assert!(v["changes"].get(kind).is_some(), "no {kind} in {v}");
    }
}

#[test]
fn diff_outside_the_freeze_does_not_escalate() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("h.txt");
    std::fs::write(&file, "systemctl restart nginx\nls -la\n").expect("write");
    let h = host(BERLIN_HOST);
    let (old, new) = (replay_dir("old"), replay_dir("new"));
    let at = |now: &str| {
        let out = run(&[
            "--host-file",
            s(&h.file),
            "policy",
            "diff",
            s(&old),
            s(&new),
            "--commands",
            s(&file),
            "--now",
            now,
        ]);
        stdout(&out)
    };
    // The freeze starts at midnight Berlin time: 23:00 UTC the day before.
    assert!(at("2026-12-19T22:59:00Z").contains("0 changed"));
    let inside = at("2026-12-19T23:00:00Z");
    assert!(inside.contains("1 changed"), "{inside}");
    assert!(inside.contains("site.restart"), "{inside}");
}

#[test]
fn replay_of_audit_records_uses_their_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("audit.jsonl");
    let rec = |time: &str, cmd: &str| {
        format!(
            r#"{{"v":1,"time":"{time}","event":"command","host":"db1","environment":"production","session":"s","pid":1,"user":"nobody-at-all","uid":4321,"cwd":"/root","command":"{cmd}","prev":"","hash":""}}"#
        )
    };
    std::fs::write(
        &log,
        [
            rec("2026-12-01T09:00:00.000Z", "systemctl restart nginx"),
            rec("2026-12-22T09:00:00.000Z", "systemctl restart myapp"),
            r#"{"v":1,"time":"2026-12-22T09:00:01.000Z","event":"session","host":"db1"}"#.into(),
        ]
        .join("\n"),
    )
    .expect("write log");
    let h = host(BERLIN_HOST);
    let out = run(&[
        "--host-file",
        s(&h.file),
        "--policy-dir",
        s(&replay_dir("new")),
        "policy",
        "replay",
        "--against",
        s(&replay_dir("old")),
        "--audit",
        s(&log),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("2 commands replayed, 1 changed verdict"),
        "{text}"
    );
    assert!(text.contains("systemctl restart myapp"), "{text}");
    assert!(!text.contains("systemctl restart nginx"), "{text}");
}

#[test]
fn replay_refuses_a_proposal_that_does_not_load() {
    let out = run(&[
        "policy",
        "diff",
        s(&replay_dir("old")),
        s(&data("broken")),
        "--commands",
        s(&replay_dir("history-source.txt")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not load"), "{}", stderr(&out));
}

#[test]
fn coverage_lists_rules_never_matched_and_fails_on_untested_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("h.txt");
    std::fs::write(&file, "chmod -R 777 /srv/app\napt-get remove nginx\n").expect("write");
    let out = run(&[
        "--policy-dir",
        s(&replay_dir("new")),
        "policy",
        "coverage",
        "--commands",
        s(&file),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["rules"]["site.chmod-world-writable"], 1);
    assert_eq!(v["rules"]["site.package-remove"], 1);
    assert_eq!(v["rules"]["site.restart"], 0);
    assert_eq!(v["rules"]["fs.rm-root"], 0);

    let site = tempfile::tempdir().expect("tmp");
    std::fs::write(
        site.path().join("10-x.toml"),
        "[[rule]]\nid = \"site.untested\"\naction = \"warn\"\nmatch = { program = [\"reboot\"] }\nmessage = \"m\"\n",
    )
    .expect("write");
    let out = run(&[
        "--policy-dir",
        s(site.path()),
        "policy",
        "coverage",
        "--commands",
        s(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("error: site.untested: has no embedded examples"),
        "{text}"
    );
    assert!(text.contains("never matched"), "{text}");
}

#[test]
fn explain_decides_at_the_given_instant() {
    let h = host(BERLIN_HOST);
    let explain = |now: &str| {
        let out = run(&[
            "--host-file",
            s(&h.file),
            "--policy-dir",
            s(&replay_dir("new")),
            "explain",
            "--json",
            "--now",
            now,
            "systemctl restart nginx",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["action"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(explain("2026-12-01T12:00:00+01:00"), "warn");
    assert_eq!(explain("2026-12-24T12:00:00+01:00"), "confirm");
    let out = run(&["explain", "--now", "yesterday", "ls"]);
    assert_eq!(out.status.code(), Some(2));
}

fn default_packs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
            .expect("policies")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
    v.sort();
    v
}

#[test]
fn schema_validates_every_default_pack_and_rejects_typos() {
    let out = run(&["policy", "schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema json");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let mut packs = default_packs();
    packs.push(replay_dir("old/10-site.toml"));
    packs.push(replay_dir("new/10-site.toml"));
    for p in &packs {
        let text = std::fs::read_to_string(p).expect("read pack");
        let value: serde_json::Value = toml::from_str(&text).expect("toml");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", p.display());
    }
    for bad in [
        "[[rule]]\nid = \"x\"\nacton = \"deny\"\naction = \"deny\"\nmatch = { program = [\"rm\"] }\nmessage = \"m\"\n",
        "[[rule]]\nid = \"x\"\naction = \"confrim\"\nmatch = { program = [\"rm\"] }\nmessage = \"m\"\n",
        "[[rule]]\nid = \"x\"\naction = \"deny\"\nmatch = {}\nmessage = \"m\"\n",
        "[[rule]]\nid = \"x\"\naction = \"deny\"\nmatch = { program = [\"rm\"] }\nmessage = \"m\"\nexempt = [{ tty = false, reason = \"r\" }]\n",
        "[[freeze]]\nname = \"h\"\nfrom = \"20 Dec\"\nto = \"2027-01-04\"\n",
    ] {
        let value: serde_json::Value = toml::from_str(bad).expect("toml");
        assert!(!validator.is_valid(&value), "accepted: {bad}");
    }
}

#[test]
fn fmt_is_idempotent_on_the_default_packs_and_keeps_their_meaning() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut copies = Vec::new();
    for p in default_packs() {
        let to = dir.path().join(p.file_name().expect("name"));
        std::fs::copy(&p, &to).expect("copy");
        copies.push(to);
    }
    let mut args = vec!["policy", "fmt"];
    args.extend(copies.iter().map(|p| s(p)));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let once: Vec<String> = copies
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    let mut check = vec!["policy", "fmt", "--check"];
    check.extend(copies.iter().map(|p| s(p)));
    let out = run(&check);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));
    for (p, before) in copies.iter().zip(&once) {
        assert_eq!(
            &std::fs::read_to_string(p).expect("read"),
            before,
            "{}",
            p.display()
        );
    }
    // The formatted packs, loaded as site packs, replace every default rule by id: their
    // examples must all still pass.
    let out = run(&["--policy-dir", s(dir.path()), "policy", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(" 0 failed"), "{}", stdout(&out));
}

#[test]
fn fmt_check_reports_a_pack_out_of_layout_and_fmt_fixes_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("10-site.toml");
    std::fs::write(
        &f,
        "# keep me\n[[rule]]\nmessage=\"m\"\nid = \"a\"   # the id\naction=\"warn\"\nmatch={program=[\"ls\"]}\n",
    )
    .expect("write");
    let out = run(&["policy", "fmt", "--check", s(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not in the canonical layout"));
    let out = run(&["policy", "fmt", s(&f)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&f).expect("read"),
        "# keep me\n[[rule]]\nid = \"a\" # the id\naction = \"warn\"\nmatch = { program = [\"ls\"] }\nmessage = \"m\"\n"
    );
}
