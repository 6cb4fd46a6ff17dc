//! Whether the log can be written now: the writer notes each failed write (a full disk, an I/O
//! error, a file system gone read-only) and each good one, and a client's pre-check (the `ping`
//! reply's `write_failure`) asks whether the last write failed *and* a test write in the log's
//! directory still fails. A command that needs a record is then refused before anybody is
//! asked a question whose answer could not be recorded.
//!
//! The test write is a file of the failed record's size in the log's directory, made durable
//! with `fdatasync` and removed at once; it never touches the log. It is made at most once per
//! [`PROBE_EVERY`], and not at all while writes succeed.

#![forbid(unsafe_code)]

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

/// How long the result of a test write stands for further pre-checks.
pub const PROBE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The smallest test write, in bytes.
const MIN_PROBE: usize = 512;

#[derive(Debug)]
struct Failure {
    /// Why the write failed, as the sink said.
    reason: String,
    /// When, RFC 3339 UTC.
    at: String,
    /// The size of the line that could not be written.
    bytes: usize,
    /// The last test write: when, and why it failed (`None`: it succeeded).
    probed: Option<(Instant, Option<String>)>,
}

/// The writer's last failure, if its last write failed.
#[derive(Debug)]
pub struct Health {
    dir: PathBuf,
    failure: Mutex<Option<Failure>>,
}

impl Health {
    /// The health of the log at `log` (test writes go to its directory).
    pub fn new(log: &Path) -> Health {
        Health {
            dir: log
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            failure: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Failure>> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A write of a `bytes`-long line failed for `reason`.
    pub fn failed(&self, reason: &str, bytes: usize) {
        *self.lock() = Some(Failure {
            reason: reason.to_string(),
            at: crate::audit::record::format_rfc3339_millis(SystemTime::now()),
            bytes,
            probed: None,
        });
    }

    /// A write succeeded: the log can be written.
    pub fn succeeded(&self) {
        *self.lock() = None;
    }

    /// Why the log cannot be written now, when its last write failed and a test write fails
    /// too; `None` when it can (as far as can be known without writing a record).
    pub fn write_failure(&self) -> Option<String> {
        let mut failure = self.lock();
        let f = failure.as_mut()?;
        let fresh = f.probed.as_ref().filter(|(t, _)| t.elapsed() < PROBE_EVERY);
        let now_fails = match fresh {
            Some((_, result)) => result.clone(),
            None => {
                let result = probe(&self.dir, f.bytes.max(MIN_PROBE)).err();
                f.probed = Some((Instant::now(), result.clone()));
                result
            }
        };
        now_fails.map(|now| {
            format!(
                "the audit service's last write to the log failed at {} ({}), and a test write in {} fails now: {now}",
                f.at,
                f.reason,
                self.dir.display()
            )
        })
    }
}

/// Write `bytes` bytes to a new file in `dir`, make them durable, and remove the file.
fn probe(dir: &Path, bytes: usize) -> Result<(), String> {
    let path = dir.join(format!(".prodguard-write-test-{}", std::process::id()));
    // One left by a service killed mid-test (the same pid after a reboot) is not a failure.
    let _ = std::fs::remove_file(&path);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| {
            f.write_all(&vec![b'\n'; bytes])?;
            f.sync_data()
        });
    let _ = std::fs::remove_file(&path);
    written.map_err(|e| crate::audit::reason(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_stands_only_while_a_test_write_fails() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let h = Health::new(&d.path().join("log/audit.jsonl"));
        assert_eq!(h.write_failure(), None, "no failure, no test write");
        h.failed("No space left on device (os error 28)", 300);
        // The directory is missing: the test write fails, and says why.
        let why = h.write_failure().unwrap_or_default();
        assert!(why.contains("No space left on device"), "{why}");
        assert!(why.contains("fails now"), "{why}");
        // The result stands for a moment, then a new test write finds the directory there.
        std::fs::create_dir(d.path().join("log")).unwrap_or_else(|e| panic!("{e}"));
        assert!(h.write_failure().is_some());
        std::thread::sleep(PROBE_EVERY);
        assert_eq!(h.write_failure(), None);
        assert_eq!(
            std::fs::read_dir(d.path().join("log"))
                .map(Iterator::count)
                .unwrap_or(1),
            0,
            "the test file is removed"
        );
        h.failed("x", 1);
        h.succeeded();
        assert_eq!(h.write_failure(), None);
    }
}
