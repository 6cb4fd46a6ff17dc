//! Man pages and completions: generated ones are not stale, every page is lint-clean, and the
//! hand-written pages cover the whole schema they describe.
//!
//! When `generated_files_are_current` fails, run `scripts/regenerate` and commit the result.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn prodguard(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SSH_ORIGINAL_COMMAND")
        .output()
        .expect("run prodguard")
}

fn pages() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("man"))
        .expect("man/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.len() == 1 && e.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn generated_files_are_current() {
    let dir = tempfile::tempdir().expect("temp dir");
    let man = dir.path().join("man");
    let comp = dir.path().join("completions");
    for (what, out) in [("man", &man), ("completions", &comp)] {
        let o = prodguard(&["generate", what, out.to_str().expect("utf-8")]);
        assert!(
            o.status.success(),
            "generate {what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let mut stale = Vec::new();
    let mut pairs = vec![("man/prodguard.1".to_string(), man.join("prodguard.1"))];
    for name in ["prodguard.bash", "_prodguard", "prodguard.fish"] {
        pairs.push((format!("completions/{name}"), comp.join(name)));
    }
    for (committed, fresh) in pairs {
        let want = std::fs::read(&fresh).expect("generated file");
        let have = std::fs::read(root().join(&committed)).unwrap_or_default();
        if want != have {
            stale.push(committed);
        }
    }
    assert!(
        stale.is_empty(),
        "stale relative to the command line: {} — run scripts/regenerate and commit",
        stale.join(", ")
    );
}

#[test]
fn the_man_page_documents_every_visible_command() {
    let page = read("man/prodguard.1");
    let help = String::from_utf8_lossy(&prodguard(&["--help"]).stdout).into_owned();
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(commands.len() > 5, "{help}");
    for c in commands {
        assert!(
            page.contains(&format!(".SS \"prodguard {c}")),
            "prodguard.1 has no section for `{c}`"
        );
    }
    for section in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "SECURITY",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            page.contains(&format!(".SH {section}")),
            "prodguard.1 has no {section}"
        );
    }
}

fn mandoc_available() -> bool {
    let found = Command::new("mandoc")
        .arg("-V")
        .output()
        .map(|_| true)
        .unwrap_or(false);
    if !found {
        support::skip("mandoc is not installed (apt-get install mandoc)");
    }
    found
}

#[test]
fn every_page_is_clean_under_mandoc_lint() {
    if !mandoc_available() {
        return;
    }
    let pages = pages();
    assert!(pages.len() >= 4, "{pages:?}");
    for page in &pages {
        let o = Command::new("mandoc")
            .args(["-T", "lint", "-W", "warning"])
            .arg(page)
            .output()
            .expect("mandoc");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.status.success() && text.trim().is_empty(),
            "{}:\n{text}",
            page.display()
        );
        // Style level: only cross references to pages this machine has not installed remain.
        let o = Command::new("mandoc")
            .args(["-T", "lint"])
            .arg(page)
            .output()
            .expect("mandoc");
        let style: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&o.stderr).lines())
            .filter(|l| {
                !l.contains("referenced manual not found") && !l.contains("outdated mandoc.db")
            })
            .map(str::to_string)
            .collect();
        assert!(
            style.is_empty(),
            "{}:\n{}",
            page.display(),
            style.join("\n")
        );
    }
}

/// The keys a TOML table accepts, from the "expected one of" of an unknown-key error.
fn expected_keys(message: &str) -> Vec<String> {
    let at = message
        .find("`, expected ")
        .unwrap_or_else(|| panic!("no key list in: {message}"));
    let list = message[at + "`, expected ".len()..]
        .split(['\n', ';'])
        .next()
        .unwrap_or_default();
    list.trim_start_matches("one of ")
        .split(", ")
        .flat_map(|k| k.split(" or "))
        .map(|k| k.trim().trim_matches('`').to_string())
        .collect()
}

fn policy_keys(pack: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("p.toml");
    std::fs::write(&file, pack).expect("write");
    let o = prodguard(&["policy", "lint", file.to_str().expect("utf-8")]);
    expected_keys(&String::from_utf8_lossy(&o.stderr))
}

const RULE: &str =
    "[[rule]]\nid = \"a\"\naction = \"deny\"\nmessage = \"m\"\nmatch = { program = [\"rm\"] }\n";

#[test]
fn the_policy_page_documents_every_key_and_statement_kind() {
    let page = read("man/prodguard-policy.5");
    let mut keys = Vec::new();
    keys.extend(policy_keys("zz_unknown = 1\n"));
    keys.extend(policy_keys("[pack]\nzz_unknown = 1\n"));
    keys.extend(policy_keys(
        &RULE.replace("[[rule]]\n", "[[rule]]\nzz_unknown = 1\n"),
    ));
    keys.extend(policy_keys(
        &RULE.replace("program = [\"rm\"]", "zz_unknown = 1"),
    ));
    keys.extend(policy_keys(&format!("{RULE}when = {{ zz_unknown = 1 }}\n")));
    keys.extend(policy_keys(&format!(
        "{RULE}tests = {{ zz_unknown = 1 }}\n"
    )));
    assert!(keys.len() > 30, "{keys:?}");
    for key in keys {
        let documented = page.contains(&format!(".It Cm {key}\n"))
            || page.contains(&format!(".It Cm tests.{key}\n"))
            || page.contains(&format!(".Cm {key}\nand\n"));
        assert!(documented, "prodguard-policy.5 does not document `{key}`");
    }
    for kind in prodguard::sql::statement_kinds() {
        assert!(
            page.contains(&format!(".It Cm {kind}\n")),
            "prodguard-policy.5 does not document the statement kind `{kind}`"
        );
    }
}

fn host_keys(toml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("host.toml");
    std::fs::write(&file, toml).expect("write");
    let o = prodguard(&[
        "--host-file",
        file.to_str().expect("utf-8"),
        "--policy-dir",
        dir.path().to_str().expect("utf-8"),
        "status",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status --json");
    expected_keys(v["host"]["warnings"][0].as_str().expect("a warning"))
}

#[test]
fn the_host_page_documents_every_key() {
    let page = read("man/prodguard-host.5");
    let mut keys = host_keys("zz_unknown = 1\n");
    keys.extend(host_keys("[approvers]\nzz_unknown = 1\n"));
    keys.extend(host_keys("[audit]\nzz_unknown = 1\n"));
    assert!(keys.len() >= 12, "{keys:?}");
    for key in keys {
        assert!(
            page.contains(&format!(".It Cm {key}\n")),
            "prodguard-host.5 does not document `{key}`"
        );
    }
}

/// The literal blocks (`.Bd -literal` … `.Ed`) of an mdoc page.
fn literal_blocks(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match (&mut current, line) {
            (None, l) if l.starts_with(".Bd -literal") => current = Some(String::new()),
            (Some(_), ".Ed") => out.extend(current.take()),
            (Some(text), l) => {
                text.push_str(&l.replace("\\(dq", "\"").replace("\\&", ""));
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn the_policy_page_example_pack_lints_and_passes_its_tests() {
    let page = read("man/prodguard-policy.5");
    let pack = literal_blocks(&page)
        .into_iter()
        .find(|b| b.contains("[[rule]]"))
        .expect("an example pack");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("50-payments.toml"), &pack).expect("write");
    let d = dir.path().to_str().expect("utf-8");
    let lint = prodguard(&["--policy-dir", d, "policy", "lint"]);
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let test = prodguard(&["--policy-dir", d, "policy", "test", "--rule", "payments."]);
    assert!(
        test.status.success(),
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

#[test]
fn host_examples_parse_without_warnings() {
    let page = read("man/prodguard-host.5");
    let example = literal_blocks(&page)
        .into_iter()
        .find(|b| b.contains("environment = \"production\"") && b.contains("[approvers]"))
        .expect("a full example");
    // The shipped example, every key uncommented.
    let shipped: String = read("packaging/host.toml")
        .lines()
        .filter(|l| l.starts_with("# ") && l[2..].contains(" = ") || l.starts_with("# ["))
        .map(|l| format!("{}\n", l[2..].split("  #").next().unwrap_or_default()))
        .collect();
    for (name, toml) in [
        ("prodguard-host.5", example),
        ("packaging/host.toml", shipped),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("host.toml");
        std::fs::write(&file, &toml).expect("write");
        let o = prodguard(&[
            "--host-file",
            file.to_str().expect("utf-8"),
            "status",
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status --json");
        assert_eq!(
            v["host"]["warnings"],
            serde_json::json!([]),
            "{name}:\n{toml}"
        );
        assert_eq!(v["host"]["environment"], "production", "{name}:\n{toml}");
    }
}

#[test]
fn the_policy_guide_example_rule_lints_and_passes_its_tests() {
    let guide = read("docs/policy-authoring.md");
    let marker = "```toml\n# /etc/prodguard/policies.d/50-payments.toml\n";
    let start = guide.find(marker).expect("the example pack") + marker.len();
    let end = start + guide[start..].find("```").expect("end of the example");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("50-payments.toml"), &guide[start..end]).expect("write");
    let d = dir.path().to_str().expect("utf-8");
    for args in [
        vec!["--policy-dir", d, "policy", "lint"],
        vec!["--policy-dir", d, "policy", "test", "--rule", "payments."],
    ] {
        let o = prodguard(&args);
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
