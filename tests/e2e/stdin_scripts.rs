//! Interpreters that read their program from standard input, through the real binary with no
//! terminal: `printf 'rm -rf DIR\n' | prodguard -- bash -s` is judged as the script it is, and
//! a harmless script gets the very bytes that were judged.

use crate::util::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// db1 with a site pack that protects `data` (a temp dir holding one file).
fn world(data: &Path) -> World {
    let pack = format!(
        r#"[pack]
name = "e2e-stdin"
description = "The test's data directory"

[[rule]]
id = "e2e.rm-data-dir"
severity = "critical"
action = "confirm"
confirm = "hostname"
match = {{ program = ["rm"], target = ["{d}", "{d}/**"] }}
message = "Delete in the test's data directory on {{host}}: {{target}}"
why = "It is the only copy of the test's data."
"#,
        d = data.display()
    );
    World::with_packs(DB1, &[&pack])
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    std::fs::write(data.join("PG_VERSION"), "15\n").expect("data file");
    (dir, data)
}

/// `prodguard GLOBAL -- ARGV` with `stdin` on a pipe and no terminal.
fn piped(w: &World, argv: &[&str], stdin: &[u8]) -> Output {
    let mut args = vec!["--"];
    args.extend_from_slice(argv);
    let mut cmd = w.command(&args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    detach(&mut cmd);
    let mut child = cmd.spawn().expect("run prodguard");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    // A writer of its own: the guard may refuse before reading everything.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    out
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

#[test]
fn a_destructive_script_on_stdin_is_refused_and_recorded_with_its_commands() {
    let (_keep, data) = data_dir();
    let w = world(&data);
    for shell in [&["bash", "-s"][..], &["sh", "-s"], &["bash"], &["dash"]] {
        let script = format!("echo start\nrm -rf {}\n", data.display());
        let o = piped(&w, shell, script.as_bytes());
        assert_eq!(o.status.code(), Some(126), "{shell:?}: {}", show(&o));
        assert_eq!(
            text(&o.stdout),
            "",
            "{shell:?}: part of a refused script ran"
        );
        assert!(text(&o.stderr).contains("e2e.rm-data-dir"), "{}", show(&o));
        assert!(
            data.join("PG_VERSION").exists(),
            "{shell:?} deleted the data"
        );
        let rec = w.records().pop().expect("recorded");
        assert_eq!(rec["command"], shell.join(" "), "{rec}");
        assert_eq!(rec["outcome"], "denied", "{rec}");
        let rm = rec["invocations"]
            .as_array()
            .expect("invocations")
            .iter()
            .find(|i| i["program"] == "rm")
            .unwrap_or_else(|| panic!("the script's rm is not in the record: {rec}"))
            .clone();
        assert_eq!(
            rm["via"][0].as_str().map(|v| v.starts_with(shell[0])),
            Some(true),
            "{rec}"
        );
        assert!(
            rec["rules"].to_string().contains("e2e.rm-data-dir"),
            "{rec}"
        );
    }
}

#[test]
fn a_harmless_script_gets_the_same_bytes() {
    let (_keep, data) = data_dir();
    let w = world(&data);
    let o = piped(&w, &["bash", "-s"], b"echo hi\n");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(text(&o.stdout), "hi\n");
    // Positional parameters after -s, and a script near the 16 KiB the analyser reads.
    let mut script = String::from("echo \"$1-$2\"\n");
    for n in 0..800 {
        script.push_str(&format!("# filler line {n}\n"));
    }
    script.push_str("echo end\n");
    assert!(script.len() > 12 * 1024 && script.len() < 16 * 1024);
    let o = piped(&w, &["sh", "-s", "a", "b"], script.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(text(&o.stdout), "a-b\nend\n");
    // bash reads a script on a pipe no further than the line it runs: a `cat` there prints the
    // rest of what bash was handed, which must be the rest of what was sent.
    let rest = &script[script.find('\n').expect("a line") + 1..];
    let o = piped(&w, &["bash", "-s"], format!("cat\n{rest}").as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        o.stdout == rest.as_bytes(),
        "the bytes handed on differ from those sent"
    );
    let rec = w.records();
    let hi = rec
        .iter()
        .find(|r| r["command"] == "bash -s")
        .expect("the bash -s record");
    assert_eq!(hi["outcome"], "allowed", "{hi}");
    assert!(hi["invocations"].to_string().contains("\"echo\""), "{hi}");
    // The exit status of the script is the command's.
    let o = piped(&w, &["bash", "-s"], b"exit 7\n");
    assert_eq!(o.status.code(), Some(7), "{}", show(&o));
}

#[test]
fn a_program_the_guard_cannot_read_is_an_unknown_payload() {
    let (_keep, data) = data_dir();
    let w = world(&data);
    let rm = format!(
        "import shutil\nshutil.rmtree({:?})\n",
        data.display().to_string()
    );
    for argv in [&["python3", "-"][..], &["python3"]] {
        let o = piped(&w, argv, rm.as_bytes());
        assert_eq!(o.status.code(), Some(126), "{argv:?}: {}", show(&o));
        assert!(text(&o.stderr).contains("unknown-payload"), "{}", show(&o));
        assert!(data.join("PG_VERSION").exists());
        let rec = w.records().pop().expect("recorded");
        assert_eq!(rec["outcome"], "denied", "{rec}");
    }
    let o = piped(&w, &["perl"], b"print 1;\n");
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    // More than the guard reads is not judged: refused without a terminal.
    let big = vec![b'#'; (1 << 20) + 1];
    let o = piped(&w, &["bash", "-s"], &big);
    assert_eq!(o.status.code(), Some(126), "{}", show(&o));
    // Nothing on stdin to judge: an empty program runs.
    let o = piped(&w, &["python3", "-"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

/// With a terminal to ask on, a confirmed script runs with its whole input: what the guard read
/// and judged, then the rest it did not read (over 1 MiB), byte for byte.
#[test]
fn a_confirmed_script_gets_its_whole_input_and_a_wrong_answer_runs_none_of_it() {
    let (keep, data) = data_dir();
    let w = world(&data);
    let guarded = |script: Vec<u8>| {
        let mut cmd = w.command(&[]);
        cmd.args(["--", "bash", "-s"]);
        spawn(cmd, Stdin::Pipe(script))
    };
    let script = format!("rm -rf {}\n", data.display()).into_bytes();
    let mut p = guarded(script.clone());
    p.expect("host name: ");
    p.send(b"db2\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(126), "{}\n{}", f.screen, f.stderr);
    assert!(data.join("PG_VERSION").exists(), "a refused script ran");

    // Over 1 MiB: an unknown payload that needs the host name; once typed, bash gets it all.
    let out = keep.path().join("copied");
    let mut big = format!("cat > {}\n", out.display()).into_bytes();
    let rest: Vec<u8> = (0..(3 << 19))
        .map(|n: u32| b"abcdefgh\n"[(n % 9) as usize])
        .collect();
    big.extend_from_slice(&rest);
    let mut p = guarded(big);
    p.expect("host name: ");
    p.send(b"db1\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(0), "{}\n{}", f.screen, f.stderr);
    let copied = std::fs::read(&out).expect("cat wrote the rest");
    assert_eq!(copied.len(), rest.len());
    assert!(
        copied == rest,
        "the input handed on differs from the input sent"
    );

    let mut p = guarded(script);
    p.expect("host name: ");
    p.send(b"db1\r");
    let f = p.finish();
    assert_eq!(f.status.code(), Some(0), "{}\n{}", f.screen, f.stderr);
    assert!(!data.exists(), "the confirmed script did not run");
}
