//! What a login session's end record says of the session: how many commands were judged in it,
//! and whether the shell integration loaded.
//!
//! The login shell creates the session's tally file (in the user's private directory, next to
//! the intent, named by `PRODGUARD_SESSION`) before it starts the real shell; every process of
//! the session that judges a command appends one byte to it, the integration's first run
//! another; at the end the login shell reads the file, writes the counts into the end record
//! and removes it.
//!
//! One `open` and one `write` of a byte per command, with no lock (`O_APPEND` writes of a byte
//! do not interleave): nothing is read, nothing waits for the audit log or its service. A
//! process outside a guarded login finds no tally file and counts nothing (the file is never
//! created here but by [`Tally::start`]). The tally is what the session's processes said, not
//! proof: the audit log holds the records themselves (`prodguard audit search --session ID`).

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;

use std::path::{Path, PathBuf};

/// The byte appended for a command judged.
const COMMAND: u8 = b'c';
/// The byte appended when the integration loaded.
const LOADED: u8 = b'l';
/// The most of a tally file read at the end.
const MAX_TALLY: u64 = 64 << 20;

/// What the session's processes reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Commands judged.
    pub commands: u64,
    /// The integration reported that it loaded.
    pub loaded: bool,
}

/// The tally file of a session, held by the login shell that started it. A break-glass shell
/// started inside a login is the same session: it counts from where the tally stood when it
/// started, and leaves the file to the login that made it.
#[derive(Debug)]
pub struct Tally {
    path: PathBuf,
    /// Where this shell's part of the tally begins.
    from: u64,
    /// This shell made the file, and removes it at the end.
    owner: bool,
}

fn file_for(dir: &Path, session: &str) -> PathBuf {
    dir.join(format!("session-{session}"))
}

impl Tally {
    /// Create an empty tally for this process's login session (`PRODGUARD_SESSION`).
    pub fn start() -> std::io::Result<Tally> {
        let session = super::declared::login_session()
            .ok_or_else(|| std::io::Error::other("no login session id"))?;
        Tally::start_in(&super::declared::user_dir()?, &session)
    }

    /// Start counting for `session` in `dir`: a new, empty tally, or the one of the login this
    /// shell was started in.
    pub fn start_in(dir: &Path, session: &str) -> std::io::Result<Tally> {
        use std::os::unix::fs::MetadataExt;
        let path = file_for(dir, session);
        let created = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path);
        match created {
            Ok(_) => Ok(Tally {
                path,
                from: 0,
                owner: true,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = open(&path, false)?.metadata()?;
                if !meta.is_file() || meta.uid() != nix::unistd::getuid().as_raw() {
                    return Err(std::io::Error::other(format!(
                        "{} is not a file of this user",
                        path.display()
                    )));
                }
                Ok(Tally {
                    path,
                    from: meta.len(),
                    owner: false,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The counts so far.
    pub fn read(&self) -> std::io::Result<Counts> {
        use std::io::Seek;
        let mut bytes = Vec::new();
        let mut f = open(&self.path, false)?;
        f.seek(std::io::SeekFrom::Start(self.from))?;
        f.take(MAX_TALLY).read_to_end(&mut bytes)?;
        Ok(Counts {
            commands: bytes.iter().filter(|b| **b == COMMAND).count() as u64,
            loaded: bytes.contains(&LOADED),
        })
    }

    /// The counts, and the file removed when this shell made it.
    pub fn finish(self) -> std::io::Result<Counts> {
        let counts = self.read();
        if self.owner {
            let _ = std::fs::remove_file(&self.path);
        }
        counts
    }
}

fn open(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    // Never through a symlink, never waiting on a FIFO put in its place.
    std::fs::OpenOptions::new()
        .read(!append)
        .append(append)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

fn add(byte: u8) {
    let Some(session) = super::declared::login_session() else {
        return;
    };
    add_in(&super::declared::user_dir_path(), &session, byte);
}

fn add_in(dir: &Path, session: &str, byte: u8) {
    if let Ok(mut f) = open(&file_for(dir, session), true) {
        if f.metadata().is_ok_and(|m| m.is_file()) {
            let _ = f.write_all(&[byte]);
        }
    }
}

/// Count one command judged in this process's login session, if it keeps a tally.
pub fn count_command() {
    add(COMMAND);
}

/// Say that the integration loaded in this process's login session, if it keeps a tally.
pub fn mark_loaded() {
    add(LOADED);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_the_session_reported_and_nothing_without_a_tally() {
        let dir = tempfile::tempdir().expect("temp dir");
        // No tally for the session: nothing is created.
        add_in(dir.path(), "s1", COMMAND);
        assert!(!file_for(dir.path(), "s1").exists());
        let tally = Tally::start_in(dir.path(), "s1").expect("start");
        assert_eq!(tally.read().expect("read"), Counts::default());
        for _ in 0..3 {
            add_in(dir.path(), "s1", COMMAND);
        }
        // Another session's count goes elsewhere.
        add_in(dir.path(), "s2", COMMAND);
        add_in(dir.path(), "s1", LOADED);
        add_in(dir.path(), "s1", COMMAND);
        // A break-glass shell inside the login counts its own part and leaves the file.
        let inner = Tally::start_in(dir.path(), "s1").expect("nested start");
        add_in(dir.path(), "s1", COMMAND);
        assert_eq!(
            inner.finish().expect("nested finish"),
            Counts {
                commands: 1,
                loaded: false
            }
        );
        let path = file_for(dir.path(), "s1");
        assert!(path.exists());
        assert_eq!(
            tally.finish().expect("finish"),
            Counts {
                commands: 5,
                loaded: true
            }
        );
        assert!(!path.exists(), "the tally is removed at the end");
    }

    #[test]
    fn a_symlink_in_its_place_is_not_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").expect("write");
        std::os::unix::fs::symlink(&target, file_for(dir.path(), "s3")).expect("symlink");
        add_in(dir.path(), "s3", COMMAND);
        assert_eq!(std::fs::read(&target).expect("read"), b"");
    }
}
