//! Starting the audit service for a test: `prodguard daemon` on a socket and a state directory
//! of the test's own (no systemd), stopped with `kill -9` on drop.
//!
//! Included by the test crates that need it: `#[path = "support/daemon.rs"] mod daemon;`
//! (or `"../support/daemon.rs"` from a directory).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `prodguard daemon`, killed on drop.
pub struct Daemon {
    bin: PathBuf,
    host_file: PathBuf,
    socket: PathBuf,
    state_dir: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    /// Start `bin daemon` with host.toml `host_file`, listening on `socket`, its state in
    /// `state_dir`; returns once the socket accepts connections.
    pub fn start(bin: &Path, host_file: &Path, socket: &Path, state_dir: &Path) -> Daemon {
        let mut d = Daemon {
            bin: bin.to_path_buf(),
            host_file: host_file.to_path_buf(),
            socket: socket.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            child: None,
        };
        d.restart();
        d
    }

    /// The socket it listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The service's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Start it again (after [`Daemon::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.bin)
            .arg("--host-file")
            .arg(&self.host_file)
            .arg("daemon")
            .arg("--socket")
            .arg(&self.socket)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the service: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&self.socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "the service did not start listening on {}",
                self.socket.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stop it with `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Start a break-glass grant held by this test process (so every process the test starts runs
/// in its session), through the service at `socket`, for `reason`. Returns the grant's id: the
/// value of `PRODGUARD_BREAK_GLASS` in the processes that use it.
pub fn hold_break_glass(socket: &Path, reason: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket)
        .unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
    let op = serde_json::json!({ "op": "break-glass-start", "reason": reason });
    let mut line = op.to_string();
    line.push('\n');
    s.write_all(line.as_bytes())
        .unwrap_or_else(|e| panic!("send: {e}"));
    let mut answer = String::new();
    BufReader::new(&s)
        .read_line(&mut answer)
        .unwrap_or_else(|e| panic!("answer: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(v["ok"], true, "no grant: {answer}");
    v["grant"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no grant id: {answer}"))
        .to_string()
}
