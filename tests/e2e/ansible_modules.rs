//! Ansible module files (`python3 …/AnsiballZ_<module>.py`) through the real binary with no
//! terminal (`check --no-ask`, as the login shell's `-c` and sudo's plugin judge them), laid out as ansible-core writes them: the task's command line is judged, the
//! module is recorded with its arguments, and a module file nobody can read fails closed.

use crate::util::*;
use std::path::Path;

/// The end of a module file as ansible-core 2.17+ writes it (the module and zip cut short).
fn module_file(dir: &Path, module: &str, args: &str) -> String {
    let tmp = dir.join("ansible-tmp-1796229450.51-10704-1");
    std::fs::create_dir_all(&tmp).expect("module dir");
    let short = module.rsplit('.').next().unwrap_or(module);
    let path = tmp.join(format!("AnsiballZ_{short}.py"));
    let args = args.replace('\'', "\\'");
    std::fs::write(
        &path,
        format!(
            "#!/usr/bin/python3\nimport sys\n\nif __name__ == \"__main__\":\n    _ansiballz_main(\n\
             ansible_module='{module}',\n\
             module_fqn='ansible.modules.{short}',\n\
             params='{{\"ANSIBLE_MODULE_ARGS\": {args}}}',\n\
             zip_data='UEsDBBQAAAAIAK'\n)\n"
        ),
    )
    .expect("module file");
    path.display().to_string()
}

/// What Ansible's ssh connection runs through the login shell for one module.
fn ssh_line(file: &str) -> String {
    format!("/bin/sh -c '/usr/bin/python3 {file} && sleep 0'")
}

#[test]
fn a_shell_task_deleting_the_data_directory_is_refused_and_recorded_with_its_module() {
    let dir = tempfile::tempdir().expect("temp dir");
    let w = World::new(DB1);
    let file = module_file(
        dir.path(),
        "ansible.legacy.command",
        r#"{"_raw_params": "rm -rf /var/lib/postgresql/15/main", "_uses_shell": true, "_ansible_no_log": false}"#,
    );
    let o = w.run_detached(&["check", "--no-ask", &ssh_line(&file)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("fs.rm-data-dir"),
        "{}",
        text(&o.stderr)
    );
    let recs = w.records();
    let rec = recs.last().expect("a record");
    assert_eq!(rec["action"], "confirm", "{rec:#}");
    assert_ne!(rec["outcome"], "confirmed", "{rec:#}");
    let invs = rec["invocations"].as_array().expect("invocations");
    let python = invs
        .iter()
        .find(|i| i["program"] == "python3")
        .expect("python3 recorded");
    assert_eq!(python["ansible"]["name"], "command", "{rec:#}");
    assert_eq!(
        python["ansible"]["args"]["_raw_params"],
        "rm -rf /var/lib/postgresql/15/main"
    );
    let rm = invs
        .iter()
        .find(|i| i["program"] == "rm")
        .expect("rm recorded");
    let via = rm["via"].as_array().expect("via");
    assert_eq!(
        via.last().and_then(|v| v.as_str()),
        Some("ansible command"),
        "{rec:#}"
    );
}

#[test]
fn deleting_with_the_file_module_is_refused_and_ordinary_modules_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let w = World::new(DB1);
    let absent = module_file(
        dir.path(),
        "ansible.builtin.file",
        r#"{"path": "/var/lib/postgresql/15/main", "state": "absent"}"#,
    );
    let o = w.run_detached(&["check", "--no-ask", &ssh_line(&absent)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("fs.rm-data-dir"),
        "{}",
        text(&o.stderr)
    );

    let other = tempfile::tempdir().expect("temp dir");
    let copy = module_file(
        other.path(),
        "ansible.legacy.copy",
        r#"{"dest": "/etc/motd", "mode": "0644", "content": "hello", "password": "pw-x1"}"#,
    );
    let o = w.run_detached(&["check", "--no-ask", &ssh_line(&copy)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let recs = w.records();
    let invs = recs.last().expect("a record")["invocations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let m = &invs
        .iter()
        .find(|i| i["program"] == "python3")
        .expect("python3 recorded")["ansible"];
    assert_eq!(m["name"], "copy", "{recs:#?}");
    assert_eq!(m["args"]["dest"], "/etc/motd");
    assert_eq!(m["args"]["password"], "[REDACTED]");
    let log = std::fs::read_to_string(&w.audit_file).expect("audit log");
    assert!(!log.contains("pw-x1"), "a secret argument reached the log");
}

#[test]
fn a_module_file_that_cannot_be_read_fails_closed() {
    let w = World::new(DB1);
    let o = w.run_detached(&[
        "check",
        "--no-ask",
        &ssh_line("/nonexistent/ansible-tmp-1/AnsiballZ_command.py"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let recs = w.records();
    let rec = recs.last().expect("a record");
    assert_eq!(rec["action"], "confirm", "{rec:#}");
}
