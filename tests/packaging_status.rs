//! `prodguard status` and `prodguard install --dry-run`.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

fn prodguard(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SSH_ORIGINAL_COMMAND")
        .output()
        .expect("run prodguard")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new(host_toml: &str) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("host.toml"), host_toml).expect("host.toml");
        std::fs::create_dir(dir.path().join("policies.d")).expect("policies.d");
        Site { dir }
    }

    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }

    fn status(&self, extra: &[&str]) -> Output {
        let (h, p, a) = (
            self.path("host.toml"),
            self.path("policies.d"),
            self.path("log/audit.jsonl"),
        );
        let mut args = vec![
            "--host-file",
            &h,
            "--policy-dir",
            &p,
            "--audit-file",
            &a,
            "status",
        ];
        args.extend_from_slice(extra);
        prodguard(&args)
    }
}

const DB1: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
cluster = "payments"
fleet = ["db2.example.com"]
[audit]
syslog = "none"
reader_group = "root"
"#;

#[test]
fn status_reports_host_policy_sinks_and_privilege() {
    let site = Site::new(DB1);
    std::fs::write(
        site.dir.path().join("policies.d/50-site.toml"),
        "[[rule]]\nid = \"site.reboot\"\naction = \"confirm\"\nmatch = { program = [\"reboot\"] }\nmessage = \"Reboot {host}.\"\n",
    )
    .expect("pack");
    std::fs::create_dir(site.dir.path().join("log")).expect("log dir");
    std::fs::write(site.dir.path().join("log/audit.jsonl"), "").expect("log");

    let o = site.status(&["--json"]);
    let v = json(&o);
    assert_eq!(v["host"]["environment"], "production");
    assert_eq!(v["host"]["role"], "db-primary");
    assert_eq!(v["host"]["cluster"], "payments");
    assert_eq!(v["host"]["fleet"], 1);
    assert_eq!(v["host"]["loaded"], true);
    assert_eq!(v["host"]["warnings"], serde_json::json!([]));

    let sources = v["policy"]["sources"].as_array().expect("sources");
    assert!(
        sources
            .iter()
            .any(|s| s["name"].as_str().unwrap_or("").starts_with("embedded:")),
        "{sources:?}"
    );
    let site_pack = sources
        .iter()
        .find(|s| s["name"].as_str().unwrap_or("").ends_with("50-site.toml"))
        .expect("the site pack is listed");
    let bytes = std::fs::read(site.dir.path().join("policies.d/50-site.toml")).expect("read");
    assert_eq!(site_pack["sha256"], sha256_hex(&bytes));
    assert_eq!(v["policy"]["strict_fallback"], false);
    assert_eq!(v["policy"]["digest"].as_str().map(str::len), Some(64));

    assert_eq!(v["audit"]["file"]["state"], "ok", "{v}");
    assert_eq!(v["audit"]["syslog"]["state"], "disabled");
    assert!(v["privilege"]["binary"].is_string());
    assert_eq!(v["privilege"]["setgid_bit"], false);

    // --audit-file: no service is used, and the binary needs no privilege; nothing to attend to.
    assert_eq!(v["audit"]["service"]["state"], "missing", "{v}");
    assert_eq!(v["audit"]["reader_group"]["state"], "ok", "{v}");
    assert_eq!(v["audit"]["approvers_group"]["state"], "disabled", "{v}");
    let problems = v["problems"].as_array().expect("problems");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(o.status.code(), Some(0));

    let text = String::from_utf8_lossy(&site.status(&[]).stdout).into_owned();
    for want in [
        "environment  production",
        "role         db-primary",
        "fallback     no",
        "50-site.toml",
        &sha256_hex(&bytes),
        "service",
        "ok: nothing needs attention",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn status_names_the_strict_fallback_and_its_errors() {
    let site = Site::new(DB1);
    std::fs::write(
        site.dir.path().join("policies.d/10-broken.toml"),
        "[[rule]]\nid = \"x\"\nacton = \"deny\"\n",
    )
    .expect("pack");
    let o = site.status(&["--json"]);
    let v = json(&o);
    assert_eq!(v["policy"]["strict_fallback"], true);
    let errors = v["policy"]["errors"].as_array().expect("errors");
    assert!(
        errors[0]
            .as_str()
            .unwrap_or("")
            .contains("10-broken.toml:3:1"),
        "{errors:?}"
    );
    assert!(
        v["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .any(|p| p.as_str().unwrap_or("").contains("strict fallback")),
        "{v}"
    );
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&site.status(&[]).stdout).into_owned();
    assert!(text.contains("fallback     IN FORCE"), "{text}");
}

#[test]
fn status_does_not_create_the_audit_log() {
    let site = Site::new(
        "environment = \"staging\"\n[audit]\nsyslog = \"unix:/nonexistent/prodguard-test.sock\"\n",
    );
    std::fs::create_dir(site.dir.path().join("log")).expect("log dir");
    let v = json(&site.status(&["--json"]));
    assert_eq!(v["audit"]["file"]["state"], "missing", "{v}");
    assert!(!site.dir.path().join("log/audit.jsonl").exists());
    assert_eq!(v["audit"]["syslog"]["state"], "error");
    assert_eq!(
        v["audit"]["syslog"]["target"],
        "unix:/nonexistent/prodguard-test.sock"
    );
    assert!(v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .any(|p| p.as_str().unwrap_or("").starts_with("audit syslog:")));

    // No directory to create it in: an error, named.
    let gone = Site::new("environment = \"staging\"\n[audit]\nsyslog = \"none\"\n");
    let v = json(&gone.status(&["--json"]));
    assert_eq!(v["audit"]["file"]["state"], "error", "{v}");
}

#[test]
fn status_of_a_missing_host_file_is_production_with_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.toml").display().to_string();
    let pd = dir.path().display().to_string();
    let v = json(&prodguard(&[
        "--host-file",
        &missing,
        "--policy-dir",
        &pd,
        "status",
        "--json",
    ]));
    assert_eq!(v["host"]["environment"], "unknown");
    assert_eq!(v["host"]["production_like"], true);
    assert_eq!(v["host"]["loaded"], false);
    assert!(v["host"]["warnings"][0]
        .as_str()
        .unwrap_or("")
        .contains("does not exist"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn install_without_dry_run_only_explains() {
    let o = prodguard(&["install"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--dry-run"));
    assert!(o.stdout.is_empty());
}

/// The dry run and the Debian postinst create the same layout: every command of the dry run that
/// sets up a directory, the log or the shells entry appears in the postinst verbatim, and both
/// leave the binary root:root 0755 with no group of its own.
#[test]
fn install_dry_run_matches_the_debian_postinst() {
    let o = prodguard(&["install", "--dry-run", "--bin", "/usr/bin/prodguard"]);
    assert!(o.status.success());
    let script = String::from_utf8_lossy(&o.stdout).into_owned();
    let postinst = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/debian/postinst"),
    )
    .expect("postinst");
    let shared: Vec<&str> = script
        .lines()
        .filter(|l| {
            l.starts_with("getent group")
                || l.starts_with("install -d")
                || l.starts_with("test -e /var/log")
        })
        .collect();
    assert!(shared.len() >= 5, "{script}");
    for line in shared {
        assert!(
            postinst.contains(line),
            "the postinst does not do what the dry run says: {line}"
        );
    }
    assert!(postinst.contains("chown root:root /usr/bin/prodguard"));
    assert!(postinst.contains("chmod 0755 /usr/bin/prodguard"));
    assert!(postinst.contains("dpkg-statoverride --remove /usr/bin/prodguard"));
    assert!(
        !postinst.contains("--add"),
        "the postinst registers an override: {postinst}"
    );
    assert!(script.contains("chmod 0755 /usr/bin/prodguard") || script.contains("-m 0755"));
    for s in [&script, &postinst] {
        assert!(!s.contains("groupadd"), "a group is still created: {s}");
        assert!(!s.contains("2755"), "the binary is still made setgid: {s}");
    }
    assert!(postinst.contains("add-shell /usr/bin/prodguard"));
    assert!(script.contains(
        "grep -qxF /usr/bin/prodguard /etc/shells || echo /usr/bin/prodguard >>/etc/shells"
    ));

    // It is a shell script sh accepts.
    let check = Command::new("sh")
        .args(["-n", "-c", &script])
        .status()
        .expect("sh");
    assert!(check.success());
}
