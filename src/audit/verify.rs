//! Verification of the hash chain over one or more files given oldest first.
//!
//! Streaming, line by line, in bounded memory. For each line: the shape of a sealed record
//! (`prev` and `hash` at fixed offsets from the end), the hash over the line's exact bytes,
//! and the link (`prev` equals the hash of the record before it, across files). Lines that are
//! not records at all (a writer killed mid-write, a full disk, foreign bytes) are a failure
//! unless the next record is the `torn-tail` record a writer left to acknowledge them (then a
//! warning). The first failure stops the walk.
//!
//! With a public key ([`Verifier::with_key`]) every `checkpoint` record is checked too: its
//! signature, that its `head` is the hash of the record before it and its `records` the
//! number of records before it, and that no more records pass between checkpoints than the
//! writer's schedule (`every`) allows. A log with no checkpoint at all then fails (truncated,
//! replaced, or written without the key). With the SIEM's copy of the checkpoints
//! ([`CheckpointCopy`]), each checkpoint it vouches for must be in the log: one past the
//! log's end is a cut tail, one inside it that the log does not hold means the log was
//! replaced or rewritten.

#![forbid(unsafe_code)]

use super::chain::{Sealed, ZERO_HASH};
use super::checkpoint::{self, is_checkpoint_line, Problem, PublicKey};
use super::record::Record;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Records a writer may put between two checkpoints beyond its `every`: the `torn-tail` notes
/// it must write directly after damage, before the checkpoint that falls due.
const SLACK: u64 = 2;

/// What went wrong, or what is worth knowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The record's hash does not match its bytes: it was edited.
    BadHash,
    /// `prev` does not match the hash of the record before: a record was removed, inserted,
    /// reordered, or the files are not given in order.
    BrokenLink,
    /// A line that is not a sealed record, with no `torn-tail` record acknowledging it.
    Unparseable,
    /// The file ends in the middle of a line (no final newline) and no writer has
    /// acknowledged it yet.
    Torn,
    /// Bytes that are not records, acknowledged by the `torn-tail` record after them.
    TornAcknowledged,
    /// The first record continues a chain from a file that was not given.
    ChainContinues,
    /// A checkpoint record that cannot be read as one.
    BadCheckpoint,
    /// A checkpoint's signature does not verify: it was forged or altered.
    BadSignature,
    /// A checkpoint signed by another key than the one trusted.
    WrongKey,
    /// Checkpoints are present but no public key was given or found to check them.
    NoKey,
    /// A checkpoint's `head` or `records` disagrees with the chain before it: records were
    /// changed, removed or inserted and the chain recomputed.
    CheckpointMismatch,
    /// No checkpoint, or more records without one than the writer's schedule allows:
    /// checkpoints were removed, or the log was truncated, replaced or written without the key.
    MissingCheckpoint,
    /// The checkpoint copy vouches for records past the end of the log: its tail was cut.
    MissingTail,
    /// The checkpoint copy vouches for a checkpoint inside the log's range that the log does
    /// not hold: the log was replaced or rewritten.
    NotInLog,
    /// The checkpoint copy holds checkpoints older than the files given (rotated away).
    CheckpointOlder,
}

/// The last checkpoint seen.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointSummary {
    /// File name as given.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Records in the chain before it.
    pub records: u64,
    /// The head it vouches for.
    pub head: String,
    /// When it was signed.
    pub time: String,
}

/// How the checkpoint copy compared.
#[derive(Debug, Clone, Serialize)]
pub struct CopySummary {
    /// File name as given.
    pub file: String,
    /// Signed checkpoints in it.
    pub checkpoints: u64,
    /// How many of them the log holds.
    pub found: u64,
}

/// One finding, located.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// File name as given.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// Kind.
    pub kind: FindingKind,
    /// A sentence for humans.
    pub message: String,
}

/// Per-file counts.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// File name as given.
    pub file: String,
    /// Records verified in this file.
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// The result of a verification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// True when the whole chain verified.
    pub ok: bool,
    /// Records verified (before the failure, if any).
    pub records: u64,
    /// Per file.
    pub files: Vec<FileSummary>,
    /// `prev` of the first record.
    pub first_prev: Option<String>,
    /// Hash of the last verified record.
    pub last_hash: Option<String>,
    /// The first failure.
    pub failure: Option<Finding>,
    /// Acknowledged damage and other notes.
    pub warnings: Vec<Finding>,
    /// Id of the key checkpoints were checked against, when one was given or found.
    pub key: Option<String>,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// The last checkpoint verified.
    pub last_checkpoint: Option<CheckpointSummary>,
    /// Records after the last checkpoint: not anchored yet, only the checkpoint copy's next
    /// entry will vouch for them.
    pub unanchored: u64,
    /// The checkpoint copy's comparison, when one was given.
    pub copy: Option<CopySummary>,
}

/// An input: a path, or `-` for stdin.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

impl Input {
    /// `-` is stdin, anything else a path.
    pub fn from_arg(p: &Path) -> Input {
        if p == Path::new("-") {
            Input::Stdin
        } else {
            Input::Path(p.to_path_buf())
        }
    }

    /// Name for messages.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }

    /// Open for streaming.
    pub fn open(&self) -> std::io::Result<Box<dyn Read>> {
        Ok(match self {
            Input::Path(p) => Box::new(std::fs::File::open(p)?),
            Input::Stdin => Box::new(std::io::stdin()),
        })
    }
}

/// A run of lines that are not records, waiting for a `torn-tail` record to acknowledge it.
#[derive(Debug)]
struct Pending {
    file: String,
    line: u64,
    last_line: u64,
    offset: u64,
    unterminated: bool,
}

/// One checkpoint of the copy.
#[derive(Debug, Clone)]
struct CopyEntry {
    records: u64,
    time: String,
    line: u64,
    found: bool,
}

/// The SIEM's copy of the checkpoints: syslog lines or JSON lines, each holding a
/// `checkpoint` record; other lines are skipped. Every signature is checked on loading.
#[derive(Debug, Clone)]
pub struct CheckpointCopy {
    file: String,
    by_head: HashMap<String, CopyEntry>,
    bad: Option<Finding>,
}

impl CheckpointCopy {
    /// Read the copy from `input`, checking each checkpoint against `key`. The first bad
    /// signature (or foreign key) is kept and reported as the verification's failure.
    pub fn load(input: &Input, key: &PublicKey) -> Result<CheckpointCopy, ReadError> {
        let name = input.name();
        let rerr = |err| ReadError {
            file: name.clone(),
            err,
        };
        let r = BufReader::new(input.open().map_err(rerr)?);
        let mut copy = CheckpointCopy {
            file: name.clone(),
            by_head: HashMap::new(),
            bad: None,
        };
        let mut buf = Vec::new();
        let mut r = r;
        let mut lineno = 0u64;
        loop {
            buf.clear();
            if r.read_until(b'\n', &mut buf).map_err(rerr)? == 0 {
                break;
            }
            lineno += 1;
            let Some(at) = buf.windows(5).position(|w| w == b"{\"v\":") else {
                continue;
            };
            let json = buf[at..].trim_ascii_end();
            let json = json.strip_suffix(b"\0").unwrap_or(json);
            if !is_checkpoint_line(json) {
                continue;
            }
            let rec: Record = match serde_json::from_slice(json) {
                Ok(r) => r,
                Err(_) => continue,
            };
            let Some(cp) = rec.checkpoint.clone() else {
                continue;
            };
            if let Err(p) = checkpoint::check(&rec, key) {
                if copy.bad.is_none() {
                    let (kind, why) = problem_words(&p, key);
                    copy.bad = Some(Finding {
                        file: name.clone(),
                        line: lineno,
                        offset: 0,
                        kind,
                        message: format!("the checkpoint copy's line {lineno}: {why}"),
                    });
                }
                continue;
            }
            copy.by_head.entry(cp.head).or_insert(CopyEntry {
                records: cp.records,
                time: rec.time,
                line: lineno,
                found: false,
            });
        }
        Ok(copy)
    }

    /// Signed checkpoints in the copy.
    pub fn len(&self) -> usize {
        self.by_head.len()
    }

    /// Whether the copy holds no signed checkpoint.
    pub fn is_empty(&self) -> bool {
        self.by_head.is_empty()
    }
}

fn problem_words(p: &Problem, key: &PublicKey) -> (FindingKind, String) {
    match p {
        Problem::Malformed(why) => (
            FindingKind::BadCheckpoint,
            format!("not a readable checkpoint: {why}"),
        ),
        Problem::WrongKey(id) => (
            FindingKind::WrongKey,
            format!(
                "a checkpoint signed by key {id}, not by the host key {} (the log was re-signed with another key, or the wrong key was given)",
                key.id()
            ),
        ),
        Problem::BadSignature => (
            FindingKind::BadSignature,
            "a checkpoint whose signature does not verify (it was forged or altered)".to_string(),
        ),
    }
}

/// The chain walker; feed it lines in order with [`Verifier::line`].
#[derive(Debug, Default)]
pub struct Verifier {
    expected: Option<[u8; 64]>,
    pending: Option<Pending>,
    report: Report,
    key: Option<PublicKey>,
    copy: Option<CheckpointCopy>,
    /// Records in the chain before the first record given, once known: 0 when it starts a
    /// chain, else from the first checkpoint.
    base: Option<u64>,
    /// Records since the last checkpoint (not counting checkpoints).
    since: u64,
    /// The last checkpoint's `every`.
    every: Option<u64>,
    /// Where the last line was, for findings at the end.
    last_at: (String, u64, u64),
}

/// Why reading failed.
#[derive(Debug)]
pub struct ReadError {
    /// File name.
    pub file: String,
    /// The OS error.
    pub err: std::io::Error,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.file, super::reason(&self.err))
    }
}

impl Verifier {
    /// A verifier at the start of a chain.
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Check checkpoints against `key`; with a key, a log without checkpoints fails.
    pub fn with_key(mut self, key: PublicKey) -> Verifier {
        self.report.key = Some(key.id().to_string());
        self.key = Some(key);
        self
    }

    /// Compare with the SIEM's copy of the checkpoints (loaded with the same key).
    pub fn with_copy(mut self, copy: CheckpointCopy) -> Verifier {
        self.copy = Some(copy);
        self
    }

    /// A checkpoint line that has passed the hash and link checks.
    fn checkpoint(&mut self, file: &str, lineno: u64, offset: u64, bytes: &[u8], prev: &[u8]) {
        let fail = |v: &mut Verifier, kind, message| v.fail(file, lineno, offset, kind, message);
        let rec = match serde_json::from_slice::<Record>(bytes) {
            Ok(r) if r.checkpoint.is_some() => r,
            _ => {
                return fail(
                    self,
                    FindingKind::BadCheckpoint,
                    format!("bad checkpoint: line {lineno} is a checkpoint record without a readable checkpoint member"),
                )
            }
        };
        let Some(key) = self.key.clone() else {
            return fail(
                self,
                FindingKind::NoKey,
                format!("no key: line {lineno} is a signed checkpoint, but no public key was given or found to check it (give --key FILE, the audit.pub the host published)"),
            );
        };
        if let Err(p) = checkpoint::check(&rec, &key) {
            let (kind, why) = problem_words(&p, &key);
            return fail(self, kind, format!("line {lineno} is {why}"));
        }
        let Some(cp) = rec.checkpoint else { return };
        if cp.head.as_bytes() != prev {
            return fail(
                self,
                FindingKind::CheckpointMismatch,
                format!(
                    "checkpoint mismatch: line {lineno} vouches for head {} but the record before it is {}: records before it were changed and the chain recomputed",
                    short(cp.head.as_bytes()),
                    short(prev)
                ),
            );
        }
        let local = self.report.records;
        match self.base {
            Some(b) if b + local != cp.records => {
                return fail(
                    self,
                    FindingKind::CheckpointMismatch,
                    format!(
                        "checkpoint mismatch: line {lineno} says the chain had {} records before it, the files hold {}: records were removed or inserted",
                        cp.records,
                        b + local
                    ),
                );
            }
            Some(_) => {}
            None if cp.records < local => {
                return fail(
                    self,
                    FindingKind::CheckpointMismatch,
                    format!(
                        "checkpoint mismatch: line {lineno} says the chain had {} records before it, the files given already hold {local}",
                        cp.records
                    ),
                );
            }
            None => self.base = Some(cp.records - local),
        }
        if let Some(every) = self.every {
            if self.since > every + SLACK {
                let since = self.since;
                return fail(
                    self,
                    FindingKind::MissingCheckpoint,
                    format!(
                        "missing checkpoint: {since} records before line {lineno} without a checkpoint; the writer signs at least every {every}: checkpoints were removed"
                    ),
                );
            }
        }
        if let Some(c) = self.copy.as_mut() {
            if let Some(e) = c.by_head.get_mut(&cp.head) {
                e.found = true;
            }
        }
        self.every = Some(cp.every);
        self.since = 0;
        self.report.checkpoints += 1;
        self.report.last_checkpoint = Some(CheckpointSummary {
            file: file.to_string(),
            line: lineno,
            records: cp.records,
            head: cp.head,
            time: rec.time,
        });
    }

    /// End-of-walk checks of the checkpoints and the copy.
    fn finish_checkpoints(&mut self) {
        self.check_copy();
        if self.failed() {
            return;
        }
        let (file, line, offset) = self.last_at.clone();
        let signed = self.key.is_some() || self.report.copy.is_some();
        if signed && self.report.checkpoints == 0 {
            let records = self.report.records;
            let key = self.report.key.clone().unwrap_or_default();
            return self.fail(
                &file,
                line,
                offset,
                FindingKind::MissingCheckpoint,
                format!("missing checkpoint: no checkpoint in {records} records, though the host signs its log (key {key}): the log was truncated, replaced, or written without the key"),
            );
        }
        if let Some(every) = self.every {
            if self.since > every + SLACK {
                let since = self.since;
                return self.fail(
                    &file,
                    line,
                    offset,
                    FindingKind::MissingCheckpoint,
                    format!("missing checkpoint: {since} records after the last checkpoint; the writer signs at least every {every}: checkpoints were removed"),
                );
            }
            self.report.unanchored = self.since;
        }
    }

    /// Every checkpoint of the copy must be in the log.
    fn check_copy(&mut self) {
        let Some(copy) = self.copy.take() else {
            return;
        };
        let mut entries: Vec<&CopyEntry> = copy.by_head.values().collect();
        entries.sort_by_key(|e| e.records);
        self.report.copy = Some(CopySummary {
            file: copy.file.clone(),
            checkpoints: entries.len() as u64,
            found: entries.iter().filter(|e| e.found).count() as u64,
        });
        if let Some(bad) = copy.bad.clone() {
            self.report.failure = Some(bad);
            return;
        }
        let first = self.base.unwrap_or(0);
        let end = first + self.report.records;
        let mut older = 0u64;
        for e in entries.iter().filter(|e| !e.found) {
            if e.records < first {
                older += 1;
                continue;
            }
            let (kind, message) = if e.records >= end {
                (
                    FindingKind::MissingTail,
                    format!(
                        "missing tail: the checkpoint copy's line {} vouches for {} records before {}, but the log ends after {end}: at least {} records were cut from its end",
                        e.line,
                        e.records,
                        e.time,
                        e.records + 1 - end
                    ),
                )
            } else {
                (
                    FindingKind::NotInLog,
                    format!(
                        "not in the log: the checkpoint copy's line {} vouches for a checkpoint after record {} ({}), which the log does not hold: it was replaced or rewritten",
                        e.line, e.records, e.time
                    ),
                )
            };
            return self.fail(&copy.file, e.line, 0, kind, message);
        }
        if older > 0 {
            self.report.warnings.push(Finding {
                file: copy.file.clone(),
                line: 0,
                offset: 0,
                kind: FindingKind::CheckpointOlder,
                message: format!(
                    "{older} checkpoints of the copy are older than the files given (rotated away)"
                ),
            });
        }
    }

    /// Whether a failure was found (stop feeding).
    pub fn failed(&self) -> bool {
        self.report.failure.is_some()
    }

    fn fail(&mut self, file: &str, line: u64, offset: u64, kind: FindingKind, message: String) {
        self.report.failure = Some(Finding {
            file: file.to_string(),
            line,
            offset,
            kind,
            message,
        });
    }

    fn fail_pending(&mut self, p: Pending) {
        let (kind, message) = if p.unterminated && p.line == p.last_line {
            (
                FindingKind::Torn,
                format!(
                    "torn: the file ends in the middle of a line at byte {} (a writer died mid-write or the disk filled up); the next append will record it",
                    p.offset
                ),
            )
        } else {
            (
                FindingKind::Unparseable,
                format!(
                    "unparseable: line {} is not a sealed prodguard record, and no torn-tail record acknowledges it",
                    p.line
                ),
            )
        };
        let (file, line, offset) = (p.file, p.line, p.offset);
        self.fail(&file, line, offset, kind, message);
    }

    /// Feed one line (without its `\n`). `terminated` is false for a last line without `\n`.
    pub fn line(&mut self, file: &str, lineno: u64, offset: u64, bytes: &[u8], terminated: bool) {
        if self.failed() {
            return;
        }
        let sealed = if terminated {
            Sealed::parse(bytes)
        } else {
            None
        };
        let Some(s) = sealed else {
            match &mut self.pending {
                Some(p) => {
                    p.last_line = lineno;
                    p.unterminated = !terminated;
                }
                None => {
                    self.pending = Some(Pending {
                        file: file.to_string(),
                        line: lineno,
                        last_line: lineno,
                        offset,
                        unterminated: !terminated,
                    })
                }
            }
            return;
        };
        if let Some(p) = self.pending.take() {
            match torn_tail_offset(bytes) {
                Some(at) if at == p.offset => {
                    let lines = if p.last_line > p.line {
                        format!("lines {}-{}", p.line, p.last_line)
                    } else {
                        format!("line {}", p.line)
                    };
                    self.report.warnings.push(Finding {
                        file: p.file.clone(),
                        line: p.line,
                        offset: p.offset,
                        kind: FindingKind::TornAcknowledged,
                        message: format!(
                            "{lines} (from byte {}) are not records; acknowledged by the torn-tail record at {file}:{lineno}",
                            p.offset
                        ),
                    });
                }
                _ => {
                    self.fail_pending(p);
                    return;
                }
            }
        }
        if !s.hash_ok() {
            self.fail(
                file,
                lineno,
                offset,
                FindingKind::BadHash,
                format!("bad hash: line {lineno} does not match its hash (the record was changed after it was written)"),
            );
            return;
        }
        match &self.expected {
            None => {
                let prev = String::from_utf8_lossy(s.prev).into_owned();
                if prev != ZERO_HASH {
                    self.report.warnings.push(Finding {
                        file: file.to_string(),
                        line: lineno,
                        offset,
                        kind: FindingKind::ChainContinues,
                        message: format!(
                            "the chain continues from an earlier file that was not given (prev {})",
                            &prev[..16]
                        ),
                    });
                }
                if prev == ZERO_HASH {
                    self.base = Some(0);
                }
                self.report.first_prev = Some(prev);
            }
            Some(e) if e.as_slice() != s.prev => {
                let why = if s.prev == ZERO_HASH.as_bytes() {
                    "the chain starts over here (the file was started without its predecessor, or records before it were removed)".to_string()
                } else {
                    "a record before it was removed, inserted or moved, or the files are not given oldest first".to_string()
                };
                self.fail(
                    file,
                    lineno,
                    offset,
                    FindingKind::BrokenLink,
                    format!("broken link: line {lineno}'s prev does not match the hash of the record before it; {why}"),
                );
                return;
            }
            Some(_) => {}
        }
        if is_checkpoint_line(bytes) {
            self.checkpoint(file, lineno, offset, bytes, s.prev);
            if self.failed() {
                return;
            }
        } else {
            self.since += 1;
        }
        let mut h = [0u8; 64];
        h.copy_from_slice(s.hash);
        self.expected = Some(h);
        self.report.records += 1;
        if let Some(f) = self.report.files.last_mut() {
            f.records += 1;
        }
    }

    /// Verify one input after those already fed.
    pub fn input(&mut self, input: &Input) -> Result<(), ReadError> {
        let name = input.name();
        let rerr = |err| ReadError {
            file: name.clone(),
            err,
        };
        let mut r = BufReader::with_capacity(1 << 20, input.open().map_err(rerr)?);
        self.report.files.push(FileSummary {
            file: name.clone(),
            records: 0,
            bytes: 0,
        });
        let mut buf = Vec::with_capacity(4096);
        let (mut lineno, mut offset) = (0u64, 0u64);
        loop {
            buf.clear();
            let n = r.read_until(b'\n', &mut buf).map_err(rerr)?;
            if n == 0 {
                break;
            }
            lineno += 1;
            let terminated = buf.last() == Some(&b'\n');
            let line = if terminated { &buf[..n - 1] } else { &buf[..] };
            self.line(&name, lineno, offset, line, terminated);
            self.last_at = (name.clone(), lineno, offset);
            offset += n as u64;
            if self.failed() {
                break;
            }
        }
        if let Some(f) = self.report.files.last_mut() {
            f.bytes = offset;
        }
        if lineno == 0 {
            self.last_at = (name, 0, 0);
        }
        Ok(())
    }

    /// Finish: an unacknowledged run of non-records at the very end is a failure.
    pub fn finish(mut self) -> Report {
        if !self.failed() {
            if let Some(p) = self.pending.take() {
                self.fail_pending(p);
            }
        }
        if !self.failed() {
            self.finish_checkpoints();
        }
        self.report.ok = self.report.failure.is_none();
        self.report.last_hash = self
            .expected
            .map(|h| String::from_utf8_lossy(&h).into_owned());
        self.report
    }
}

/// `offset` of a `torn-tail` record, read from its JSON (rare path: only after damage).
fn torn_tail_offset(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        event: Option<&'a str>,
        offset: Option<u64>,
    }
    let p: Probe<'_> = serde_json::from_slice(line).ok()?;
    (p.event == Some("torn-tail")).then_some(p.offset).flatten()
}

/// The first 16 hex digits of a hash, for messages.
fn short(h: &[u8]) -> String {
    String::from_utf8_lossy(&h[..h.len().min(16)]).into_owned()
}

/// Verify `inputs` in order as one chain.
pub fn verify(inputs: &[Input]) -> Result<Report, ReadError> {
    verify_with(Verifier::new(), inputs)
}

/// Verify `inputs` in order as one chain with a prepared verifier (key, copy).
pub fn verify_with(v: Verifier, inputs: &[Input]) -> Result<Report, ReadError> {
    let mut v = v;
    for i in inputs {
        v.input(i)?;
        if v.failed() {
            break;
        }
    }
    Ok(v.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::seal;
    use crate::audit::record::{Event, Record};
    use crate::host::HostContext;

    fn lines(n: usize) -> Vec<Vec<u8>> {
        let host = HostContext::unknown();
        let mut prev = ZERO_HASH.to_string();
        (0..n)
            .map(|i| {
                let mut r = Record::new(Event::Command, &host, "u".into(), 1)
                    .with_command(format!("cmd {i}"));
                let l = seal(&mut r, &prev).unwrap_or_default();
                prev = r.hash;
                l
            })
            .collect()
    }

    fn run(data: &[u8]) -> Report {
        let mut v = Verifier::new();
        v.report.files.push(FileSummary {
            file: "f".into(),
            records: 0,
            bytes: 0,
        });
        let mut off = 0u64;
        for (i, chunk) in data.split_inclusive(|&c| c == b'\n').enumerate() {
            let term = chunk.ends_with(b"\n");
            let l = if term {
                &chunk[..chunk.len() - 1]
            } else {
                chunk
            };
            v.line("f", i as u64 + 1, off, l, term);
            off += chunk.len() as u64;
        }
        v.finish()
    }

    #[test]
    fn intact_chain_verifies() {
        let r = run(&lines(5).concat());
        assert!(r.ok, "{:?}", r.failure);
        assert_eq!(r.records, 5);
    }

    #[test]
    fn each_kind_of_damage_names_its_line() {
        let l = lines(5);
        let mut edited = l.clone();
        let pos = edited[2].iter().position(|&c| c == b'c').unwrap_or(0);
        edited[2][pos] = b'C';
        let mut deleted = l.clone();
        deleted.remove(1);
        let mut swapped = l.clone();
        swapped.swap(1, 3);
        let mut junk = l.clone();
        junk.insert(2, b"hello\n".to_vec());
        let mut torn = l.clone();
        torn[4].truncate(30);
        for (data, kind, line) in [
            (edited, FindingKind::BadHash, 3),
            (deleted, FindingKind::BrokenLink, 2),
            (swapped, FindingKind::BrokenLink, 2),
            (junk, FindingKind::Unparseable, 3),
            (torn, FindingKind::Torn, 5),
        ] {
            let r = run(&data.concat());
            let f = r.failure.unwrap_or_else(|| panic!("{kind:?} not found"));
            assert_eq!((f.kind, f.line), (kind, line), "{}", f.message);
        }
    }
}
