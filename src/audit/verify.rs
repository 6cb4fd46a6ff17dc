//! Verification of the hash chain over one or more files given oldest first.
//!
//! Streaming, line by line, in bounded memory. For each line: the shape of a sealed record
//! (`prev` and `hash` at fixed offsets from the end), the hash over the line's exact bytes,
//! and the link (`prev` equals the hash of the record before it, across files). Lines that are
//! not records at all (a writer killed mid-write, a full disk, foreign bytes) are a failure
//! unless the next record is the `torn-tail` record a writer left to acknowledge them (then a
//! warning). The first failure stops the walk.

#![forbid(unsafe_code)]

use super::chain::{Sealed, ZERO_HASH};
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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

/// The chain walker; feed it lines in order with [`Verifier::line`].
#[derive(Debug, Default)]
pub struct Verifier {
    expected: Option<[u8; 64]>,
    pending: Option<Pending>,
    report: Report,
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
            offset += n as u64;
            if self.failed() {
                break;
            }
        }
        if let Some(f) = self.report.files.last_mut() {
            f.bytes = offset;
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

/// Verify `inputs` in order as one chain.
pub fn verify(inputs: &[Input]) -> Result<Report, ReadError> {
    let mut v = Verifier::new();
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
