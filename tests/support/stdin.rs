//! Running a client with a script on its stdin, for the suites that drive real `ssh`.
//! Included with `#[path = "../support/stdin.rs"] mod stdin_feed;`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Run `cmd` with `script` on its stdin, and collect what it printed.
pub fn fed(mut cmd: Command, script: String) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    // A writer of its own: a refused script need not be read to its end.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(script.as_bytes());
    });
    let out = child.wait_with_output().expect("output");
    let _ = writer.join();
    out
}
