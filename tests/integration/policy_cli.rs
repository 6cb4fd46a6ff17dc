//! Policy authoring: lint errors with positions, the strict fallback, the embedded examples.

use crate::util::*;

#[test]
fn lint_reports_every_error_with_position_and_hint() {
    let file = data("broken/10-site.toml");
    let out = run(&["policy", "lint", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out).replace(env!("CARGO_MANIFEST_DIR"), "$ROOT");
    golden("lint_broken.txt", &err);
}

#[test]
fn broken_site_pack_still_decides_with_strict_fallback() {
    let dir = data("broken");
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let out = run(&[
        "--policy-dir",
        dir.to_str().unwrap(),
        "--host-file",
        h.file.to_str().unwrap(),
        "check",
        "rm -rf /",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("10-site.toml:10:1: unknown field `acton`"),
        "{err}"
    );
    assert!(err.contains("strict fallback is in force"), "{err}");
    assert!(err.contains("fs.rm-root"), "{err}");
}

#[test]
fn broken_site_pack_is_set_aside_as_a_whole() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("10-warn.toml"),
        "[[rule]]\nid = \"site.warn-uptime\"\naction = \"warn\"\nmatch = { program = [\"uptime\"] }\nmessage = \"m\"\ntests.match = [\"uptime\"]\n",
    )
    .unwrap();
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let hf = h.file.to_str().unwrap();
    let ok = run(&[
        "--policy-dir",
        dir.path().to_str().unwrap(),
        "--host-file",
        hf,
        "check",
        "uptime",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stderr(&ok).contains("site.warn-uptime"));
    std::fs::write(dir.path().join("20-broken.toml"), "[[rule]\n").unwrap();
    // One broken file: the whole site policy is set aside (its warning rule too), the error is
    // named, and the embedded rules still decide.
    let pd = dir.path().to_str().unwrap();
    let strict = run(&["--policy-dir", pd, "--host-file", hf, "check", "uptime"]);
    assert_eq!(strict.status.code(), Some(0));
    assert!(
        !stderr(&strict).contains("site.warn-uptime"),
        "{}",
        stderr(&strict)
    );
    assert!(
        stderr(&strict).contains("20-broken.toml:1:"),
        "{}",
        stderr(&strict)
    );
    let strict = run(&[
        "--policy-dir",
        pd,
        "--host-file",
        hf,
        "check",
        "rm -rf /var/lib/postgresql",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        stderr(&strict).contains("fs.rm-data-dir"),
        "{}",
        stderr(&strict)
    );
}

#[test]
fn site_pack_overrides_and_disables_embedded_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("50-site.toml"),
        "disable = [\"fs.rm-data-dir\", \"state.delete\"]\n\n[[rule]]\nid = \"fs.rm-root\"\naction = \"warn\"\nmatch = { program = [\"rm\"], flags = [\"recursive\"], target = [\"/\"] }\nmessage = \"softened\"\ntests.match = [\"rm -rf /\"]\n",
    )
    .unwrap();
    let h = host(PRODUCTION_DB1_NO_SYSLOG);
    let pd = dir.path().to_str().unwrap();
    let hf = h.file.to_str().unwrap();
    let out = run(&[
        "--policy-dir",
        pd,
        "--host-file",
        hf,
        "explain",
        "--json",
        "rm -rf /",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["action"], "warn", "{v}");
    let out = run(&[
        "--policy-dir",
        pd,
        "--host-file",
        hf,
        "explain",
        "--json",
        "rm -rf /var/lib/postgresql",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["action"], "allow", "{v}");
}

#[test]
fn embedded_policy_examples_pass() {
    let out = run(&["policy", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(" 0 failed"));
}

#[test]
fn lint_rejects_a_misspelt_flag_with_position_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("10-site.toml"),
        "[[rule]]\nid = \"site.rm-rec\"\naction = \"deny\"\nmessage = \"no\"\nmatch = { program = [\"rm\"], flags = [\"--recusive\"] }\n",
    )
    .unwrap();
    let out = run(&[
        "--policy-dir",
        dir.path().to_str().unwrap(),
        "policy",
        "lint",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("10-site.toml:5:38: `flags`: unknown flag `recusive` for rm"),
        "{err}"
    );
    assert!(err.contains("did you mean `recursive`?"), "{err}");
}

#[test]
fn embedded_packs_lint_clean() {
    let dir = empty_policy_dir();
    let out = run(&[
        "--policy-dir",
        dir.path().to_str().unwrap(),
        "policy",
        "lint",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn fifo_in_the_policy_directory_does_not_hang_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("10-fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let mut child = std::process::Command::new(bin())
        .args(["--policy-dir", dir.path().to_str().unwrap(), "--audit-file"])
        .arg(dir.path().join("audit.jsonl"))
        .args(["check", "ls -la"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("prodguard check blocked on a FIFO in the policy directory");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(0), "{}", stderr(&out));
}
