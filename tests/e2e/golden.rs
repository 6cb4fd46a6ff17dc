//! The texts a human reads, as the real binary produces them: the login banner, the question on
//! the terminal (plain and coloured), the no-terminal refusal and the wrong-host refusal. Golden
//! files `tests/golden/e2e_*.txt`; `PRODGUARD_BLESS=1` rewrites them. The policy digest is
//! masked (it changes with every policy edit); ESC is shown as `\e`.

use crate::gitlab::rm_rf;
use crate::util::*;

fn mask(s: &str) -> String {
    let re = regex::Regex::new(r"sha256:[0-9a-f]{16}").expect("regex");
    re.replace_all(s, "sha256:<digest>").replace('\x1b', "\\e")
}

#[test]
fn banner_of_the_primary() {
    let w = World::new(&format!(
        "cluster = \"gitlab\"\nmotd = [\"Primary: changes here reach every replica.\"]\n{DB1}"
    ));
    let o = w.run_detached(&["banner"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    // The policy line is the short form of the loaded packs' digest.
    assert!(
        regex::Regex::new(r"\n  policy       sha256:[0-9a-f]{16}\n")
            .expect("regex")
            .is_match(&out),
        "{out}"
    );
    golden("e2e_banner_db1.txt", &mask(&out));
}

#[test]
fn banner_without_a_host_description() {
    let w = World::new(DB1);
    std::fs::remove_file(&w.host_file).expect("rm host.toml");
    let o = w.run_detached(&["banner"]);
    let out = text(&o.stdout)
        .replace(&w.host_file.display().to_string(), "<host.toml>")
        .replace(
            &nix::unistd::gethostname()
                .expect("hostname")
                .to_string_lossy()
                .to_string(),
            "<hostname>",
        );
    golden("e2e_banner_unknown.txt", &mask(&out));
}

fn question_screen(colour: bool) -> String {
    let w = World::new(DB1);
    let mut cmd = rm_rf(&w);
    if !colour {
        cmd.env("NO_COLOR", "1");
    }
    let mut p = spawn(cmd, Stdin::Tty);
    p.expect("host name: ");
    p.send(b"\x03");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(126));
    mask(&f.screen)
}

#[test]
fn question_for_rm_rf_of_the_data_dir() {
    golden("e2e_question_rm_data_dir.txt", &question_screen(false));
}

#[test]
fn question_for_rm_rf_of_the_data_dir_in_colour() {
    golden(
        "e2e_question_rm_data_dir_colour.txt",
        &question_screen(true),
    );
}

#[test]
fn refusal_without_a_terminal() {
    let w = World::new(DB1);
    let o = w.run_detached(&["--", "psql", "-d", "app", "-c", "DROP DATABASE victim"]);
    assert_eq!(o.status.code(), Some(126));
    golden("e2e_refusal_no_terminal_drop.txt", &mask(&text(&o.stderr)));
}

#[test]
fn refusal_on_the_wrong_host() {
    let w = World::new(DB1);
    let o = w.run_detached(&["intent", "db2"]);
    assert_eq!(o.status.code(), Some(0));
    let mut cmd = rm_rf(&w);
    detach(&mut cmd);
    let o = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run prodguard");
    assert_eq!(o.status.code(), Some(126));
    golden("e2e_refusal_wrong_host.txt", &mask(&text(&o.stderr)));
}
