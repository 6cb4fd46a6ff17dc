//! Ansible through the installed package: ansible-core on the control side, the loopback sshd
//! and a user whose login shell is the packaged binary on the managed side. Every command Ansible
//! sends reaches the guard as `prodguard -c '/bin/sh -c …'`, most over `ssh -tt`, with nobody at
//! that terminal.

use crate::ansible;
use crate::world::{Login, World};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The control node: its own home and temp files, an inventory of one host, `target`.
struct Control {
    dir: tempfile::TempDir,
    playbook: PathBuf,
    adhoc: PathBuf,
}

/// What one run of Ansible showed: whether it succeeded, all it printed, how long it took.
struct Run {
    ok: bool,
    shown: String,
    took: Duration,
}

impl Control {
    fn new(login: &Login, playbook: PathBuf, adhoc: PathBuf) -> Control {
        let dir = tempfile::tempdir().expect("control dir");
        std::fs::write(
            dir.path().join("inventory"),
            format!(
                "target ansible_host=127.0.0.1 ansible_port={} ansible_user={} ansible_ssh_private_key_file={} ansible_python_interpreter=/usr/bin/python3\n",
                login.sshd.port,
                login.user.name,
                login.sshd.key.display()
            ),
        )
        .expect("inventory");
        Control {
            dir,
            playbook,
            adhoc,
        }
    }

    fn run(&self, mut cmd: Command) -> Run {
        let started = Instant::now();
        let out = cmd.stdin(Stdio::null()).output().expect("run ansible");
        Run {
            ok: out.status.success(),
            shown: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            took: started.elapsed(),
        }
    }

    /// `ansible-playbook` of `tasks` on `target`, as the login user or with `become`.
    fn play(&self, name: &str, become_root: bool, tasks: &str) -> Run {
        let file = self.dir.path().join(format!("{name}.yml"));
        std::fs::write(
            &file,
            format!(
                "- hosts: target\n  gather_facts: false\n  become: {become_root}\n  tasks:\n{tasks}"
            ),
        )
        .expect("playbook");
        let mut cmd = ansible::command(&self.playbook, self.dir.path());
        cmd.arg("-i").arg(self.inventory()).arg(&file);
        self.run(cmd)
    }

    /// `ansible target -m MODULE -a ARGS`.
    fn adhoc(&self, module: &str, args: &str) -> Run {
        let mut cmd = ansible::command(&self.adhoc, self.dir.path());
        cmd.arg("target")
            .arg("-i")
            .arg(self.inventory())
            .args(["-m", module, "-a", args]);
        self.run(cmd)
    }

    fn inventory(&self) -> PathBuf {
        self.dir.path().join("inventory")
    }
}

/// The tools, or a skip (a failure under CI) saying why not.
fn tools() -> Option<(PathBuf, PathBuf)> {
    match (ansible::bin("ansible-playbook"), ansible::bin("ansible")) {
        (Some(p), Some(a)) => Some((p, a)),
        _ => {
            crate::support::skip(
                "ansible-core is neither on PATH nor installable into target/ansible-venv (python3-venv and PyPI)",
            );
            None
        }
    }
}

/// The outcomes of the records whose invocations ran the Ansible module `name` with `arg`, when
/// given, `(argument, value)`.
fn module_outcome(
    world: &World,
    login: &Login,
    name: &str,
    arg: Option<(&str, &str)>,
) -> Vec<String> {
    world
        .records_of(&login.user)
        .iter()
        .filter(|r| {
            r["invocations"].as_array().is_some_and(|is| {
                is.iter().any(|i| {
                    i["ansible"]["name"] == name
                        && arg.is_none_or(|(k, v)| i["ansible"]["args"][k] == v)
                })
            })
        })
        .map(|r| r["outcome"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn assert_refused(world: &World, what: &str, run: &Run) {
    assert!(!run.ok, "{what} succeeded:\n{}", run.shown);
    assert!(
        world.data_intact(),
        "{what}: the data directory went:\n{}",
        run.shown
    );
    // The guard's own refusal, as the task's result shows it, without -v.
    assert!(
        run.shown.contains("refused: ") && run.shown.contains("state.delete"),
        "{what}: the guard's refusal is not in Ansible's output:\n{}",
        run.shown
    );
}

pub fn ansible_runs(world: &World) {
    let Some((playbook, adhoc)) = tools() else {
        return;
    };
    let login = &world.bash;
    let data = world.data.display().to_string();
    let control = Control::new(login, playbook, adhoc);
    let copied = login.user.home.join("copied-by-ansible.txt");
    let _ = std::fs::remove_file(&copied);

    // Ordinary tasks work: the module files are read, judged harmless, and run.
    let run = control.play(
        "ordinary",
        false,
        &format!(
            "    - ping:\n\
             \x20   - command: /usr/bin/id -un\n\
             \x20     register: who\n\
             \x20   - assert: {{ that: [\"who.stdout == '{}'\"] }}\n\
             \x20   - copy: {{ content: \"hello from ansible\\n\", dest: {} }}\n",
            login.user.name,
            copied.display()
        ),
    );
    assert!(run.ok, "ordinary tasks failed:\n{}", run.shown);
    assert_eq!(
        std::fs::read_to_string(&copied).ok().as_deref(),
        Some("hello from ansible\n"),
        "{}",
        run.shown
    );

    // The data directory, from a `shell` task: refused, as the user and as root.
    let task = format!("    - shell: rm -rf {data}\n");
    let run = control.play("delete", false, &task);
    eprintln!("shell: rm -rf as the user:\n{}", run.shown);
    assert_refused(world, "shell: rm -rf (as the user)", &run);
    let run = control.play("delete-become", true, &task);
    assert_refused(world, "shell: rm -rf (become)", &run);

    // `raw` runs the line over `ssh -tt` with nobody at that terminal: the question fails at
    // once, plainly.
    let run = control.adhoc("raw", &format!("rm -rf {data}"));
    assert_refused(world, "-m raw rm -rf", &run);
    assert!(
        run.took < Duration::from_secs(10),
        "-m raw took {:?} to refuse:\n{}",
        run.took,
        run.shown
    );
    assert!(
        !run.shown.contains("\x1b["),
        "terminal escapes in Ansible's output: {:?}",
        run.shown
    );

    // On record: each module by name with its arguments, and what became of it (shown, for
    // whoever reads the run).
    for r in world.records_of(&login.user) {
        for i in r["invocations"].as_array().into_iter().flatten() {
            if !i["ansible"].is_null() {
                eprintln!(
                    "ansible record: outcome={} module={} args={} rules={}",
                    r["outcome"], i["ansible"]["name"], i["ansible"]["args"], r["rules"]
                );
            }
        }
    }
    eprintln!("ansible -m raw refused in {:?}:\n{}", run.took, run.shown);
    let line = data_line(&data);
    let dest = copied.display().to_string();
    for (name, arg, outcome) in [
        ("ping", None, "allowed"),
        (
            "command",
            Some(("_raw_params", "/usr/bin/id -un")),
            "allowed",
        ),
        ("copy", Some(("dest", dest.as_str())), "allowed"),
        ("command", Some(("_raw_params", line.as_str())), "denied"),
    ] {
        let outcomes = module_outcome(world, login, name, arg);
        assert!(
            outcomes.iter().any(|o| o == outcome),
            "no {outcome} record of the {name} module with {arg:?} (found {outcomes:?}):\n{:#?}",
            world.records_of(&login.user)
        );
    }
    // Both `shell` tasks, the user's and the one through sudo, are refused on record.
    let refusals = module_outcome(world, login, "command", Some(("_raw_params", &line)));
    assert!(
        refusals.iter().filter(|o| *o == "denied").count() >= 2,
        "{refusals:?}"
    );
    let raw = world
        .records_of(&login.user)
        .into_iter()
        .rev()
        .find(|r| r["command"] == line.as_str())
        .unwrap_or_else(|| panic!("no record of the raw line"));
    assert_eq!(raw["outcome"], "denied", "{raw:#}");
    let _ = std::fs::remove_file(&copied);
}

fn data_line(data: &str) -> String {
    format!("rm -rf {data}")
}
