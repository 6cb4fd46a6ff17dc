//! Without a terminal: `ssh host CMD`, scripts on stdin, file transfers.

use crate::sshd;
use crate::world::{Login, World};
use std::process::{Output, Stdio};

/// `ssh host CMD` (no CMD: `ssh host`) with `script` on its stdin.
fn with_stdin(login: &Login, cmd: Option<&str>, script: String) -> Output {
    let args: Vec<&str> = cmd.into_iter().collect();
    crate::stdin_feed::fed(login.sshd.ssh(&args), script)
}

pub fn commands_and_scripts(world: &World) {
    let login = &world.bash;
    let data = world.data.display().to_string();

    // An ordinary command works, output and status intact.
    let out = login.sshd.run("true");
    assert_eq!(out.status.code(), Some(0), "{}", world.explain(login, &out));
    let out = login.sshd.run("echo $((6*7)); exit 3");
    assert_eq!(out.status.code(), Some(3), "{}", world.explain(login, &out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");

    // The GitLab line without a terminal: refused, nothing asked.
    let out = login.sshd.run(&format!("sudo rm -rf {data}"));
    assert_eq!(
        out.status.code(),
        Some(126),
        "{}",
        world.explain(login, &out)
    );
    assert!(world.data_intact());

    // A script with a destructive line on stdin, read by an interpreter or by the login shell:
    // refused as a whole, and the harmless line before it does not run either.
    let marker = std::env::temp_dir().join(format!("pgi-e2e-{}-ran", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let script = format!("touch {}\nsudo rm -rf {data}\n", marker.display());
    for cmd in [Some("bash -s"), Some("sh -s"), Some("bash"), None] {
        let out = with_stdin(login, cmd, script.clone());
        assert_eq!(
            out.status.code(),
            Some(126),
            "{cmd:?}: {}",
            world.explain(login, &out)
        );
        assert!(!marker.exists(), "{cmd:?}: a line of a refused script ran");
        assert!(world.data_intact(), "{cmd:?}: the data directory went");
    }
    let out = with_stdin(
        login,
        Some("python3 -"),
        format!("import shutil\nshutil.rmtree({data:?})\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(126),
        "python3 -: {}",
        world.explain(login, &out)
    );
    assert!(world.data_intact(), "python3 -: the data directory went");

    // A harmless script runs, byte for byte what was sent.
    let out = with_stdin(login, Some("bash -s"), "echo from-stdin\n".into());
    assert_eq!(out.status.code(), Some(0), "{}", world.explain(login, &out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-stdin\n");

    // On record as the user: `bash -s` refused with the script's commands judged.
    let records = world.records_of(&login.user);
    let refused = records
        .iter()
        .find(|r| r["command"] == "bash -s" && r["outcome"] == "denied")
        .unwrap_or_else(|| panic!("no refusal of bash -s: {records:#?}"));
    let invocations = refused["invocations"].to_string();
    assert!(invocations.contains("\"rm\""), "{refused:#}");
    assert!(
        records
            .iter()
            .any(|r| r["command"] == "true" && r["outcome"] == "allowed"),
        "no record of `true`: {records:#?}"
    );
}

pub fn transfers(world: &World) {
    // sftp-server through the login shell for one user, internal-sftp for the other.
    for login in [&world.bash, &world.zsh] {
        sshd::transfers(&login.sshd, &login.user.home, &|out| {
            world.explain(login, out)
        });
    }
}

/// Ansible's `raw`, a CI job: `ssh -tt` whose own input is a pipe nobody types into. The remote
/// terminal has no size; a question there must fail at once and plainly.
pub fn nobody_at_a_forced_terminal(world: &World) {
    let login = &world.bash;
    let started = std::time::Instant::now();
    let mut child = login
        .sshd
        .ssh(&["-tt", &format!("sudo rm -rf {}", world.data.display())])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh -tt");
    // Held open, as a tool that may still write does.
    let input = child.stdin.take();
    let out = child.wait_with_output().expect("ssh output");
    drop(input);
    let took = started.elapsed();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{}", world.explain(login, &out));
    assert!(
        took < std::time::Duration::from_secs(10),
        "took {took:?} to refuse with nobody at the terminal: {}",
        world.explain(login, &out)
    );
    assert!(world.data_intact(), "{}", world.explain(login, &out));
    assert!(
        !shown.contains('\x1b'),
        "terminal escapes in a tool's output: {shown:?}"
    );
    assert!(shown.contains("state.delete"), "{shown:?}");
}
