//! The file sink: append-only JSON lines, chained, one `write` per append, `fsync`ed.
//!
//! # Appending
//! The file is opened once, `O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW`, mode 0660
//! (so it can be opened while the process holds the `prodguard` group and used after the group
//! is dropped, and an exec'd child never inherits it). Each append:
//!
//! 1. takes `flock(LOCK_EX)` on the file (every writer does, so lines never interleave);
//! 2. checks that the path still names the open file; if logrotate renamed it, reopens the path
//!    (when the process still may) and starts over;
//! 3. reads the end of the file backwards to find the last sealed record, whose `hash` becomes
//!    `prev` — usually one 4 KiB `pread`;
//! 4. if bytes follow that record that are not a whole record (a writer killed mid-write, or
//!    foreign bytes), writes first a `\n` and a `torn-tail` record naming the byte offset where
//!    they start, chained from the last good record, so the damage is reported, never dropped;
//! 5. if the file is empty, continues the chain from the rotated predecessor (see
//!    [`predecessor`]), or from 64 zeros when there is none;
//! 6. writes everything in one `write(2)`, then `fdatasync`, then unlocks.

use super::chain::{self, Sealed, ZERO_HASH};
use super::checkpoint::{is_checkpoint_line, Checkpoints};
use super::record::{parse_time, Event, Record};
use super::AuditError;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How far back from the end of a file a writer looks for the last record.
const MAX_TAIL_SCAN: u64 = 8 * 1024 * 1024;

/// An open audit log file, and optionally the key that signs checkpoints into it.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: Mutex<Open>,
    checkpoints: Option<Checkpoints>,
}

#[derive(Debug)]
struct Open {
    file: File,
    /// Where the chain stood after this sink's last write; trusted only while the file's last
    /// hash is still `pos.hash` (another writer may have appended since).
    pos: Option<Position>,
}

/// Where the chain stands, for a signing writer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    /// Hash of the last record.
    hash: String,
    /// Records in the chain up to and including it.
    records: u64,
    /// Records since the last checkpoint.
    since: u64,
    /// Time of the last checkpoint (ms since the epoch), `None` when there is none.
    last_ms: Option<i64>,
}

/// What one write put into the file.
#[derive(Debug, Default)]
#[must_use = "checkpoint lines must also be sent to syslog"]
pub struct Appended {
    /// The line written for each record given, in order, each with its `\n`.
    pub lines: Vec<Vec<u8>>,
    /// The checkpoint records written in the same write, with their lines: send them to
    /// syslog too, so the remote copy holds the heads.
    pub checkpoints: Vec<(Record, Vec<u8>)>,
}

/// Why a write happens: records, or a checkpoint on its own.
#[derive(Debug, Clone, Copy)]
enum Want<'a> {
    Records,
    /// A checkpoint now (`detail` says why).
    Checkpoint(&'a str),
    /// A checkpoint only if the interval has passed since the last one.
    CheckpointIfDue,
}

fn open_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o660)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
}

fn lock(file: &File, arg: FlockArg) -> Result<Flock<File>, std::io::Error> {
    loop {
        let dup = file.try_clone()?;
        match Flock::lock(dup, arg) {
            Ok(l) => return Ok(l),
            Err((_, nix::errno::Errno::EINTR)) => continue,
            Err((_, e)) => return Err(std::io::Error::from_raw_os_error(e as i32)),
        }
    }
}

impl FileSink {
    /// Open (creating if needed) the audit log at `path`.
    pub fn open(path: &Path) -> Result<FileSink, AuditError> {
        let file = open_log(path).map_err(|err| AuditError::Open {
            path: path.to_path_buf(),
            err,
        })?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file: Mutex::new(Open { file, pos: None }),
            checkpoints: None,
        })
    }

    /// This sink, signing checkpoints with `cps` from now on: one in every new file, one at
    /// least every `cps.settings.every` records, and one on the first write after
    /// `cps.settings.interval`. The writer that holds the key must be the only writer of the
    /// log (other writers' records count against `every`, see `docs/audit.md`). Publishing
    /// the public key is [`crate::audit::checkpoint::Signer::publish`]'s job.
    pub fn with_checkpoints(mut self, cps: Checkpoints) -> FileSink {
        self.checkpoints = Some(cps);
        self
    }

    /// The checkpoint signer, when this sink signs.
    pub fn checkpoints(&self) -> Option<&Checkpoints> {
        self.checkpoints.as_ref()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_err(&self, err: std::io::Error) -> AuditError {
        AuditError::Write {
            path: self.path.clone(),
            err,
        }
    }

    /// Chain `rec` to the end of the file and write it. Sets `rec.prev` and `rec.hash` and
    /// returns the line written for it (with its `\n`). `rec` is written as given: redact first
    /// (see [`super::record`]).
    pub fn append(&self, rec: &mut Record) -> Result<Vec<u8>, AuditError> {
        self.append_with(rec, true)
    }

    /// [`FileSink::append`], with `sync = false` leaving the record in the page cache instead
    /// of waiting for the disk: for records of commands that were allowed without asking, where
    /// a crash losing the last few is a fair price for not paying a disk flush per `ls`.
    /// A checkpoint written on the way is in the file only; use [`FileSink::append_records`]
    /// to get it for syslog.
    pub fn append_with(&self, rec: &mut Record, sync: bool) -> Result<Vec<u8>, AuditError> {
        let mut a = self.append_records(std::slice::from_mut(rec), sync)?;
        Ok(a.lines.pop().unwrap_or_default())
    }

    /// Chain and write `recs` in order, in one `write(2)` under one lock and one `fdatasync`
    /// (when `sync`): a group commit. A signing sink puts the checkpoints that fall due among
    /// them and returns them in [`Appended::checkpoints`].
    pub fn append_records(&self, recs: &mut [Record], sync: bool) -> Result<Appended, AuditError> {
        self.write(recs, Want::Records, sync)
    }

    /// Write a checkpoint now, whatever the schedule (a service starting, or shutting down):
    /// `why` goes into its `detail`. `Ok(None)` when this sink does not sign.
    pub fn checkpoint(&self, why: &str) -> Result<Option<(Record, Vec<u8>)>, AuditError> {
        if self.checkpoints.is_none() {
            return Ok(None);
        }
        Ok(self
            .write(&mut [], Want::Checkpoint(why), true)?
            .checkpoints
            .pop())
    }

    /// Write a checkpoint if the interval has passed since the last one, records or not: for
    /// a long-running writer's timer, so an idle log is still anchored every interval.
    pub fn checkpoint_if_due(&self) -> Result<Option<(Record, Vec<u8>)>, AuditError> {
        if self.checkpoints.is_none() {
            return Ok(None);
        }
        Ok(self
            .write(&mut [], Want::CheckpointIfDue, true)?
            .checkpoints
            .pop())
    }

    fn write(
        &self,
        recs: &mut [Record],
        want: Want<'_>,
        sync: bool,
    ) -> Result<Appended, AuditError> {
        let mut open = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Rotation can race with us at most a few times; then write where we are.
        for attempt in 0..3 {
            let locked =
                lock(&open.file, FlockArg::LockExclusive).map_err(|err| AuditError::Lock {
                    path: self.path.clone(),
                    err,
                })?;
            if attempt < 2 && self.rotated(&locked) {
                drop(locked);
                if let Ok(f) = open_log(&self.path) {
                    open.file = f;
                    continue;
                }
                // No longer allowed to reopen (privileges dropped): keep the old file.
                let locked =
                    lock(&open.file, FlockArg::LockExclusive).map_err(|err| AuditError::Lock {
                        path: self.path.clone(),
                        err,
                    })?;
                return self.append_locked(&locked, &mut open.pos, recs, want, sync);
            }
            return self.append_locked(&locked, &mut open.pos, recs, want, sync);
        }
        Err(self.write_err(std::io::Error::other(
            "the file keeps being replaced while we write",
        )))
    }

    /// Wait for everything appended so far to reach the disk (`fdatasync`): the group commit
    /// of a writer that appended several records with `sync = false`.
    pub fn sync(&self) -> Result<(), AuditError> {
        let file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.file.sync_data().map_err(|e| self.write_err(e))
    }

    /// Whether the path no longer names the open file.
    fn rotated(&self, f: &File) -> bool {
        match (f.metadata(), std::fs::symlink_metadata(&self.path)) {
            (Ok(a), Ok(b)) => a.dev() != b.dev() || a.ino() != b.ino(),
            (Ok(_), Err(_)) => true,
            _ => false,
        }
    }

    /// A `torn-tail` note with the identity of the first record, or of the writer.
    fn torn_note(&self, recs: &[Record], offset: u64, detail: String) -> Option<Record> {
        match (recs.first(), &self.checkpoints) {
            (Some(r), _) => Some(torn_record(r, offset, detail)),
            (None, Some(c)) => {
                let mut n = Record::new_for_writer(Event::TornTail, &c.host);
                n.offset = Some(offset);
                n.detail = Some(detail);
                Some(n)
            }
            (None, None) => None,
        }
    }

    fn append_locked(
        &self,
        f: &File,
        cache: &mut Option<Position>,
        recs: &mut [Record],
        want: Want<'_>,
        sync: bool,
    ) -> Result<Appended, AuditError> {
        let read_err = |err| AuditError::Read {
            path: self.path.clone(),
            err,
        };
        let size = f.metadata().map_err(read_err)?.len();
        let tail = scan_tail(f, size).map_err(read_err)?;
        let mut w = Batch {
            buf: Vec::with_capacity(1024),
            prev: ZERO_HASH.to_string(),
            pos: None,
            fresh: size == 0,
        };
        let pred = match tail.last_hash {
            Some(_) => None,
            None => predecessor(&self.path),
        };
        w.prev = match (&tail.last_hash, &pred) {
            (Some(h), _) => h.clone(),
            (None, Some(p)) => p.last_hash.clone(),
            (None, None) => ZERO_HASH.to_string(),
        };
        if self.checkpoints.is_some() {
            w.pos = match cache.take() {
                Some(p) if p.hash == w.prev => Some(p),
                _ => Some(
                    position(
                        &self.path,
                        (tail.last_hash.is_some()).then_some((f, size)),
                        &w.prev,
                    )
                    .map_err(read_err)?,
                ),
            };
        }
        if let Some(p) = &pred {
            if let Some(torn) = p.torn_at {
                let detail = format!(
                    "the rotated file {} ends with {} bytes that are not a record",
                    p.path.display(),
                    p.size - torn
                );
                if let Some(mut note) = self.torn_note(recs, torn, detail) {
                    w.push(&mut note)?;
                }
            }
        }
        if let Some(torn) = tail.torn_at {
            if !tail.ends_with_newline {
                w.buf.push(b'\n');
            }
            let detail = if tail.complete_unterminated {
                "the last record was missing its final newline".to_string()
            } else {
                format!(
                    "{} bytes at the end of the file are not a record (a writer died mid-write, or foreign bytes were appended)",
                    size - torn
                )
            };
            if let Some(mut note) = self.torn_note(recs, torn, detail) {
                w.push(&mut note)?;
            }
        }
        let mut out = Appended::default();
        match want {
            Want::Records => {}
            Want::Checkpoint(why) => self.push_checkpoint(&mut w, &mut out, why)?,
            Want::CheckpointIfDue => {
                if let Some(why) = self.due(&w, true) {
                    self.push_checkpoint(&mut w, &mut out, &why)?;
                }
            }
        }
        let mut starts = Vec::with_capacity(recs.len());
        for rec in recs.iter_mut() {
            if let Some(why) = self.due(&w, false) {
                self.push_checkpoint(&mut w, &mut out, &why)?;
            }
            let start = w.buf.len();
            w.push(rec)?;
            starts.push((start, w.buf.len()));
        }
        if w.buf.is_empty() {
            *cache = w.pos;
            return Ok(out);
        }
        // One write(2) for everything; only a short write (full disk) loops.
        let mut file: &File = f;
        file.write_all(&w.buf).map_err(|e| self.write_err(e))?;
        if sync {
            f.sync_data().map_err(|e| self.write_err(e))?;
        }
        *cache = w.pos;
        out.lines = starts
            .into_iter()
            .map(|(a, b)| w.buf[a..b].to_vec())
            .collect();
        Ok(out)
    }

    /// Why a checkpoint is due before the next record, if one is. `timer`: only the interval
    /// counts (a timer's call with no record).
    fn due(&self, w: &Batch, timer: bool) -> Option<String> {
        let cps = self.checkpoints.as_ref()?;
        let pos = w.pos.as_ref()?;
        let now = now_ms();
        let interval = i64::try_from(cps.settings.interval.as_millis()).unwrap_or(i64::MAX);
        let late = pos
            .last_ms
            .is_none_or(|t| now.saturating_sub(t) >= interval);
        if timer {
            return late.then(|| format!("{} s since the last checkpoint", interval / 1000));
        }
        if pos.last_ms.is_none() {
            return Some(
                if pos.records == 0 {
                    "start"
                } else {
                    "first signed record"
                }
                .into(),
            );
        }
        if w.fresh {
            return Some("new file".into());
        }
        if pos.since >= cps.settings.every {
            return Some(format!("{} records", cps.settings.every));
        }
        late.then(|| format!("{} s since the last checkpoint", interval / 1000))
    }

    fn push_checkpoint(
        &self,
        w: &mut Batch,
        out: &mut Appended,
        why: &str,
    ) -> Result<(), AuditError> {
        let (Some(cps), Some(pos)) = (&self.checkpoints, &w.pos) else {
            return Ok(());
        };
        let mut rec = cps.record(pos.records, &w.prev, why);
        let start = w.buf.len();
        w.push(&mut rec)?;
        let line = w.buf[start..].to_vec();
        out.checkpoints.push((rec, line));
        Ok(())
    }
}

/// Lines being built for one `write(2)`.
struct Batch {
    buf: Vec<u8>,
    prev: String,
    pos: Option<Position>,
    /// Nothing was in the file, and no checkpoint has been written into it yet.
    fresh: bool,
}

impl Batch {
    fn push(&mut self, rec: &mut Record) -> Result<(), AuditError> {
        let line = chain::seal(rec, &self.prev).map_err(|e| AuditError::Encode(e.to_string()))?;
        self.buf.extend_from_slice(&line);
        self.prev.clone_from(&rec.hash);
        if let Some(p) = self.pos.as_mut() {
            p.hash.clone_from(&rec.hash);
            p.records += 1;
            if rec.event == Event::Checkpoint {
                p.since = 0;
                p.last_ms = parse_time(&rec.time);
                self.fresh = false;
            } else {
                p.since += 1;
            }
        }
        Ok(())
    }
}

fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What a file's end says about the chain.
#[derive(Debug, PartialEq, Eq)]
enum Back {
    /// The last checkpoint (its `records` and time) and how many records follow it.
    Found {
        records: u64,
        last_ms: Option<i64>,
        after: u64,
    },
    /// No checkpoint: `count` records, the first of which starts a chain (`from_zero`) or not.
    NoCheckpoint { count: u64, from_zero: bool },
}

fn checkpoint_of(line: &[u8]) -> Option<(u64, Option<i64>)> {
    let r: Record = serde_json::from_slice(line).ok()?;
    let cp = r.checkpoint?;
    Some((cp.records, parse_time(&r.time)))
}

/// Look for the last checkpoint of a file from its end: windows of growing size, then (past
/// 8 MiB without one) one streaming pass over the whole file.
fn scan_back(f: &File, size: u64) -> std::io::Result<Back> {
    let mut window = 64 * 1024u64;
    while window <= MAX_TAIL_SCAN {
        let start = size.saturating_sub(window);
        let len = usize::try_from(size - start).unwrap_or(usize::MAX);
        let mut buf = vec![0u8; len];
        f.read_exact_at(&mut buf, start)?;
        let mut lines: Vec<&[u8]> = buf.split(|&c| c == b'\n').collect();
        if start > 0 {
            lines.remove(0); // begins before the window
        }
        let mut after = 0u64;
        let mut first_prev_zero = false;
        for line in lines.iter().rev() {
            let Some(s) = Sealed::parse(line) else {
                continue;
            };
            if is_checkpoint_line(line) {
                if let Some((records, last_ms)) = checkpoint_of(line) {
                    return Ok(Back::Found {
                        records,
                        last_ms,
                        after,
                    });
                }
            }
            after += 1;
            first_prev_zero = s.prev == ZERO_HASH.as_bytes();
        }
        if start == 0 {
            return Ok(Back::NoCheckpoint {
                count: after,
                from_zero: first_prev_zero,
            });
        }
        window *= 4;
    }
    let mut r = std::io::BufReader::new(f);
    let mut line = Vec::new();
    let mut back = Back::NoCheckpoint {
        count: 0,
        from_zero: false,
    };
    let mut seen = false;
    loop {
        line.clear();
        if std::io::BufRead::read_until(&mut r, b'\n', &mut line)? == 0 {
            break;
        }
        let l = line.strip_suffix(b"\n").unwrap_or(&line);
        let Some(s) = Sealed::parse(l) else { continue };
        let cp = is_checkpoint_line(l).then(|| checkpoint_of(l)).flatten();
        back = match (back, cp) {
            (_, Some((records, last_ms))) => Back::Found {
                records,
                last_ms,
                after: 0,
            },
            (
                Back::Found {
                    records,
                    last_ms,
                    after,
                },
                None,
            ) => Back::Found {
                records,
                last_ms,
                after: after + 1,
            },
            (Back::NoCheckpoint { count, from_zero }, None) => Back::NoCheckpoint {
                count: count + 1,
                from_zero: if seen {
                    from_zero
                } else {
                    s.prev == ZERO_HASH.as_bytes()
                },
            },
        };
        seen = true;
    }
    Ok(back)
}

/// Where the chain ending with `hash` stands: found from the last checkpoint in the current
/// file (`current`, when it holds records) or in its rotated predecessors, newest first; a
/// chain with no checkpoint at all is counted from its first record (or from the oldest record
/// still there, when older files are gone).
fn position(path: &Path, current: Option<(&File, u64)>, hash: &str) -> std::io::Result<Position> {
    let mut after = 0u64;
    let done = |back: Back, after: &mut u64| -> Option<Position> {
        match back {
            Back::Found {
                records,
                last_ms,
                after: n,
            } => Some(Position {
                hash: hash.to_string(),
                records: records + 1 + n + *after,
                since: n + *after,
                last_ms,
            }),
            Back::NoCheckpoint { count, from_zero } => {
                *after += count;
                from_zero.then(|| Position {
                    hash: hash.to_string(),
                    records: *after,
                    since: *after,
                    last_ms: None,
                })
            }
        }
    };
    if let Some((f, size)) = current {
        if let Some(p) = done(scan_back(f, size)?, &mut after) {
            return Ok(p);
        }
    }
    for p in rotated_siblings(path).into_iter().rev() {
        let Ok(f) = File::open(&p) else { continue };
        let Ok(locked) = lock(&f, FlockArg::LockShared) else {
            continue;
        };
        let size = locked.metadata()?.len();
        if let Some(p) = done(scan_back(&locked, size)?, &mut after) {
            return Ok(p);
        }
    }
    Ok(Position {
        hash: hash.to_string(),
        records: after,
        since: after,
        last_ms: None,
    })
}

fn torn_record(about: &Record, offset: u64, detail: String) -> Record {
    let mut n = about.note(Event::TornTail, detail);
    n.offset = Some(offset);
    n
}

/// What the end of a log file looks like.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tail {
    /// Hash of the last sealed record, `None` when the file holds none (within the scan).
    pub last_hash: Option<String>,
    /// Offset of the first byte after the last record, when bytes follow it.
    pub torn_at: Option<u64>,
    /// Whether the file ends with `\n`.
    pub ends_with_newline: bool,
    /// The unterminated last line is a whole sealed record that only lacks its `\n`.
    pub complete_unterminated: bool,
}

/// Find the last sealed record of a file of `size` bytes by reading backwards from its end.
pub fn scan_tail(f: &File, size: u64) -> std::io::Result<Tail> {
    let mut tail = Tail::default();
    if size == 0 {
        tail.ends_with_newline = true;
        return Ok(tail);
    }
    let mut window = 4096u64;
    loop {
        let start = size.saturating_sub(window);
        let len = usize::try_from(size - start).unwrap_or(usize::MAX);
        let mut buf = vec![0u8; len];
        f.read_exact_at(&mut buf, start)?;
        tail.ends_with_newline = buf.last() == Some(&b'\n');
        // Walk lines from the end. `end` is the end of the current line (exclusive, no `\n`).
        let mut end = if tail.ends_with_newline { len - 1 } else { len };
        let mut after_good = len; // offset (in buf) just after the last good line's `\n`
        let mut first = true;
        loop {
            let line_start = match buf[..end].iter().rposition(|&c| c == b'\n') {
                Some(p) => p + 1,
                None if start == 0 => 0,
                None => break, // the line begins before the window
            };
            let line = &buf[line_start..end];
            if let Some(s) = Sealed::parse(line) {
                let hash = String::from_utf8_lossy(s.hash).into_owned();
                if first && !tail.ends_with_newline {
                    // A whole record that only lacks its newline.
                    tail.complete_unterminated = true;
                    tail.torn_at = Some(size);
                } else if after_good < len {
                    tail.torn_at = Some(start + after_good as u64);
                }
                tail.last_hash = Some(hash);
                return Ok(tail);
            }
            first = false;
            after_good = line_start;
            if line_start == 0 {
                break;
            }
            end = line_start - 1;
        }
        if start == 0 {
            // No record at all: everything is foreign.
            tail.torn_at = Some(0);
            return Ok(tail);
        }
        if window >= MAX_TAIL_SCAN {
            tail.torn_at = Some(start + after_good as u64);
            return Ok(tail);
        }
        window *= 8;
    }
}

/// The rotated file a new, empty log continues from.
#[derive(Debug)]
pub struct Predecessor {
    /// Its path.
    pub path: PathBuf,
    /// Hash of its last record.
    pub last_hash: String,
    /// Where bytes that are not records start at its end, if any.
    pub torn_at: Option<u64>,
    /// Its size.
    pub size: u64,
}

/// The newest rotated sibling of `path` holding records: `audit.jsonl.1`, `audit.jsonl.2`,
/// … or dateext names (`audit.jsonl-20261123`), uncompressed, newest modification time first.
/// Compressed rotations cannot be read, so logrotate must use `delaycompress` (documented).
/// The predecessor is read under a shared lock so a writer still finishing a record in it is
/// waited for.
pub fn predecessor(path: &Path) -> Option<Predecessor> {
    let mut candidates: Vec<(std::time::SystemTime, PathBuf)> = rotated_siblings(path)
        .into_iter()
        .filter_map(|p| {
            let m = std::fs::metadata(&p).ok()?;
            (m.is_file() && m.len() > 0)
                .then(|| (m.modified().ok().unwrap_or(std::time::UNIX_EPOCH), p))
        })
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, p) in candidates {
        let Ok(f) = File::open(&p) else { continue };
        let Ok(locked) = lock(&f, FlockArg::LockShared) else {
            continue;
        };
        let Ok(size) = locked.metadata().map(|m| m.len()) else {
            continue;
        };
        let Ok(tail) = scan_tail(&locked, size) else {
            continue;
        };
        if let Some(last_hash) = tail.last_hash {
            let torn_at = tail.torn_at.filter(|_| !tail.complete_unterminated);
            return Some(Predecessor {
                path: p,
                last_hash,
                torn_at,
                size,
            });
        }
    }
    None
}

/// Rotated siblings of `path` (uncompressed), oldest first by logrotate's naming:
/// `name.N` by descending N, then `name-SUFFIX` by ascending suffix.
pub fn rotated_siblings(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut numbered: Vec<(u64, PathBuf)> = Vec::new();
    let mut dated: Vec<(String, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let fname = e.file_name();
        let Some(f) = fname.to_str() else { continue };
        let Some(rest) = f.strip_prefix(name) else {
            continue;
        };
        if is_compressed(rest) {
            continue;
        }
        if let Some(n) = rest.strip_prefix('.').and_then(|n| n.parse::<u64>().ok()) {
            numbered.push((n, dir.join(f)));
        } else if let Some(s) = rest.strip_prefix('-') {
            if !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_digit() || c == b'-' || c == b'_')
            {
                dated.push((s.to_string(), dir.join(f)));
            }
        }
    }
    numbered.sort_by_key(|c| std::cmp::Reverse(c.0));
    dated.sort();
    numbered
        .into_iter()
        .map(|(_, p)| p)
        .chain(dated.into_iter().map(|(_, p)| p))
        .collect()
}

/// Whether a rotated name's suffix says it is compressed.
pub fn is_compressed(suffix: &str) -> bool {
    [".gz", ".xz", ".zst", ".bz2", ".lz4", ".Z"]
        .iter()
        .any(|e| suffix.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostContext;

    fn rec(cmd: &str) -> Record {
        Record::new(Event::Command, &HostContext::unknown(), "u".into(), 1).with_command(cmd)
    }

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
    }

    #[test]
    fn appends_chain() {
        let d = dir();
        let p = d.path().join("a.jsonl");
        let s = FileSink::open(&p).unwrap_or_else(|e| panic!("{e}"));
        let mut a = rec("one");
        let mut b = rec("two");
        s.append(&mut a).unwrap_or_else(|e| panic!("{e}"));
        s.append(&mut b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.prev, ZERO_HASH);
        assert_eq!(b.prev, a.hash);
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn torn_tail_is_recorded_and_chained_past() {
        let d = dir();
        let p = d.path().join("a.jsonl");
        let s = FileSink::open(&p).unwrap_or_else(|e| panic!("{e}"));
        let mut a = rec("one");
        s.append(&mut a).unwrap_or_else(|e| panic!("{e}"));
        let good_len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .and_then(|mut f| f.write_all(b"{\"v\":1,\"time\":\"2026"))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut b = rec("two");
        s.append(&mut b).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        let note: Record = serde_json::from_str(lines[2]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(note.event, Event::TornTail);
        assert_eq!(note.offset, Some(good_len));
        assert_eq!(note.prev, a.hash);
        assert_eq!(b.prev, note.hash);
    }

    #[test]
    fn unterminated_whole_record_is_kept_in_the_chain() {
        let d = dir();
        let p = d.path().join("a.jsonl");
        let mut a = rec("one");
        let line = chain::seal(&mut a, ZERO_HASH).unwrap_or_default();
        std::fs::write(&p, &line[..line.len() - 1]).unwrap_or_else(|e| panic!("{e}"));
        let s = FileSink::open(&p).unwrap_or_else(|e| panic!("{e}"));
        let mut b = rec("two");
        s.append(&mut b).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let note: Record = serde_json::from_str(text.lines().nth(1).unwrap_or(""))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(note.event, Event::TornTail);
        assert_eq!(note.prev, a.hash);
    }

    #[test]
    fn new_file_continues_from_rotated_predecessor() {
        let d = dir();
        let p = d.path().join("audit.jsonl");
        let mut a = rec("one");
        FileSink::open(&p)
            .and_then(|s| s.append(&mut a))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&p, d.path().join("audit.jsonl.1")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(d.path().join("audit.jsonl.2.gz"), b"zz").unwrap_or_else(|e| panic!("{e}"));
        let mut b = rec("two");
        FileSink::open(&p)
            .and_then(|s| s.append(&mut b))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.prev, a.hash);
        assert_eq!(rotated_siblings(&p), vec![d.path().join("audit.jsonl.1")]);
    }

    #[test]
    fn an_open_sink_follows_rotation() {
        let d = dir();
        let p = d.path().join("audit.jsonl");
        let s = FileSink::open(&p).unwrap_or_else(|e| panic!("{e}"));
        let mut a = rec("one");
        s.append(&mut a).unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&p, d.path().join("audit.jsonl.1")).unwrap_or_else(|e| panic!("{e}"));
        let mut b = rec("two");
        s.append(&mut b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.prev, a.hash);
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn two_signing_writers_keep_count_and_schedule() {
        use crate::audit::checkpoint::{Settings, Signer};
        use crate::audit::verify::{self, Input, Verifier};
        let d = dir();
        let p = d.path().join("audit.jsonl");
        let seed = [3u8; 32];
        let settings = Settings {
            every: 4,
            interval: std::time::Duration::from_secs(3600),
        };
        let host = HostContext::unknown();
        let sink = || {
            FileSink::open(&p)
                .unwrap_or_else(|e| panic!("{e}"))
                .with_checkpoints(Checkpoints::new(Signer::from_seed(&seed), settings, &host))
        };
        let (a, b) = (sink(), sink());
        let mut written = 0;
        for i in 0..23 {
            let s = if i % 3 == 0 { &b } else { &a };
            let out = s
                .append_records(&mut [rec("x"), rec("y")], false)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(out.lines.len(), 2);
            written += out.checkpoints.len();
            if i == 11 {
                std::fs::rename(&p, d.path().join("audit.jsonl.1"))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        assert!(a.checkpoint("test").unwrap_or_default().is_some());
        let key = Signer::from_seed(&seed).public().clone();
        let ins = [
            Input::Path(d.path().join("audit.jsonl.1")),
            Input::Path(p.clone()),
        ];
        let r = verify::verify_with(Verifier::new().with_key(key), &ins)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.ok, "{:?}", r.failure);
        assert_eq!(r.checkpoints as usize, written + 1);
        assert!(r.unanchored == 0);
        assert_eq!(r.records as usize, 46 + written + 1);
    }

    #[test]
    fn full_disk_is_a_sentence() {
        let s = FileSink::open(Path::new("/dev/full")).unwrap_or_else(|e| panic!("{e}"));
        let err = s.append(&mut rec("x")).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("cannot write the audit log /dev/full: No space left on device")
        );
    }
}
