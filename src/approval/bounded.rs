//! Running a helper program (`ssh-keygen`) with a time limit. The service verifies signatures
//! while it answers approval operations; a helper that hangs is killed when its limit passes and
//! the operation is refused naming the limit, so it cannot hold up every approval on the host.
//!
//! Input is written and output read by threads of their own, so a helper that reads or writes
//! more than a pipe holds neither blocks the caller nor itself; each stream keeps at most
//! [`MAX_OUTPUT`] bytes.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Most bytes kept of each output stream.
pub const MAX_OUTPUT: u64 = 256 * 1024;

/// How long the output readers get, once the helper has exited, to hand over what they read.
const READER_GRACE: Duration = Duration::from_secs(1);

/// How a helper that ran to its end ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why a helper gave no result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run {what}: {err}")]
    Spawn { what: String, err: std::io::Error },
    #[error("{what} did not finish within {limit:?} and was killed")]
    TimedOut { what: String, limit: Duration },
    #[error("cannot wait for {what}: {err}")]
    Wait { what: String, err: std::io::Error },
}

fn reader(r: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(r) = r {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.take(MAX_OUTPUT).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    rx
}

/// Run `cmd` (called `what` in errors) with `input` on its standard input; kill it when it has
/// not exited within `limit`.
pub fn run(
    mut cmd: Command,
    what: &str,
    input: &[u8],
    limit: Duration,
) -> Result<Finished, RunError> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| RunError::Spawn {
            what: what.to_string(),
            err,
        })?;
    let deadline = Instant::now() + limit;
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        // A helper that exits early (a bad signature) closes the pipe: not an error here.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let wait_error = |err| RunError::Wait {
        what: what.to_string(),
        err,
    };
    let status = loop {
        if let Some(status) = child.try_wait().map_err(wait_error)? {
            break status;
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            child.wait().map_err(wait_error)?;
            return Err(RunError::TimedOut {
                what: what.to_string(),
                limit,
            });
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
    };
    let grace = Instant::now() + READER_GRACE;
    let take = |rx: mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(grace.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    };
    Ok(Finished {
        status,
        stdout: take(out),
        stderr: take(err),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_past_its_limit_is_killed_and_named() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let start = Instant::now();
        let e = run(cmd, "sleep 30", b"", Duration::from_millis(300)).expect_err("timed out");
        let took = start.elapsed();
        assert!(matches!(e, RunError::TimedOut { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "sleep 30 did not finish within 300ms and was killed"
        );
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn the_killed_helper_is_gone() {
        // The shell prints its pid, then hangs; after the kill that pid is no process of ours.
        let dir = tempfile::tempdir().expect("temp dir");
        let pidfile = dir.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo $$ > \"$1\"; exec sleep 30", "sh"])
            .arg(&pidfile);
        let e = run(cmd, "sh", b"", Duration::from_millis(500)).expect_err("timed out");
        assert!(matches!(e, RunError::TimedOut { .. }), "{e:?}");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid");
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        assert!(!alive, "pid {pid} still runs");
    }

    #[test]
    fn input_and_output_larger_than_a_pipe_do_not_block() {
        let input: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let done = run(Command::new("cat"), "cat", &input, Duration::from_secs(20)).expect("cat");
        assert!(done.status.success());
        assert_eq!(done.stdout, input);
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let done = run(cmd, "sh", b"", Duration::from_secs(20)).expect("sh");
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(
            (done.stdout.as_slice(), done.stderr.as_slice()),
            (&b"out\n"[..], &b"err\n"[..])
        );
    }

    #[test]
    fn a_missing_program_is_named() {
        let e = run(
            Command::new("/nonexistent/helper"),
            "helper",
            b"",
            Duration::from_secs(1),
        )
        .expect_err("not run");
        assert!(e.to_string().starts_with("cannot run helper: "), "{e}");
    }
}
