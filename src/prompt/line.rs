//! A minimal line editor over a [`TtyIo`] in non-canonical mode: printable text, backspace,
//! Ctrl-U, Ctrl-W, Enter; Ctrl-C / Ctrl-\ abort; Ctrl-D on an empty line is end of input. Escape
//! sequences (arrow keys, bracketed-paste markers) are swallowed, other control bytes ignored.
#![forbid(unsafe_code)]

use super::tty::{ReadOutcome, TtyIo};
use std::time::{Duration, Instant};

/// Longest answer kept, in bytes; further input rings the bell.
pub(crate) const MAX_LINE: usize = 512;

/// The result of reading one line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    Text(String),
    Aborted,
    Eof,
    TimedOut,
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    Start,
    Csi,
    Ss3,
}

/// Reads lines, keeping bytes that arrived after one line's end for the next.
#[derive(Debug)]
pub(crate) struct LineReader {
    pending: Vec<u8>,
    after_cr: bool,
    esc: Esc,
}

impl LineReader {
    pub(crate) fn new() -> LineReader {
        LineReader {
            pending: Vec::new(),
            after_cr: false,
            esc: Esc::None,
        }
    }

    /// Read one line, echoing it, within `timeout` from now.
    pub(crate) fn read_line(&mut self, tty: &mut impl TtyIo, timeout: Duration) -> Line {
        let deadline = Instant::now() + timeout;
        let mut line: Vec<u8> = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            if self.pending.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Line::TimedOut;
                }
                match tty.read(&mut buf, left) {
                    Ok(ReadOutcome::Data(n)) => {
                        self.pending.extend_from_slice(buf.get(..n).unwrap_or(&[]))
                    }
                    Ok(ReadOutcome::Eof) => return Line::Eof,
                    Ok(ReadOutcome::TimedOut) => return Line::TimedOut,
                    Ok(ReadOutcome::Interrupted) => return Line::Aborted,
                    Err(e) => return Line::Failed(e.to_string()),
                }
            }
            let bytes = std::mem::take(&mut self.pending);
            let mut echo: Vec<u8> = Vec::new();
            let mut done: Option<Line> = None;
            let mut used = 0;
            for &b in &bytes {
                used += 1;
                if let Some(end) = self.feed(b, &mut line, &mut echo) {
                    done = Some(end);
                    break;
                }
            }
            self.pending = bytes.get(used..).map(<[u8]>::to_vec).unwrap_or_default();
            if !echo.is_empty() {
                if let Err(e) = tty.write_all(&echo) {
                    return Line::Failed(e.to_string());
                }
            }
            if let Some(end) = done {
                return end;
            }
        }
    }

    /// Process one byte. Returns the line's end, if this byte ended it.
    fn feed(&mut self, b: u8, line: &mut Vec<u8>, echo: &mut Vec<u8>) -> Option<Line> {
        let after_cr = std::mem::replace(&mut self.after_cr, false);
        match self.esc {
            Esc::Start => {
                self.esc = match b {
                    b'[' => Esc::Csi,
                    b'O' => Esc::Ss3,
                    _ => Esc::None,
                };
                return None;
            }
            Esc::Csi => {
                if (0x40..=0x7e).contains(&b) || !(0x20..=0x3f).contains(&b) {
                    self.esc = Esc::None;
                }
                return None;
            }
            Esc::Ss3 => {
                self.esc = Esc::None;
                return None;
            }
            Esc::None => {}
        }
        match b {
            0x03 | 0x1c => return Some(Line::Aborted),
            0x04 if line.is_empty() => return Some(Line::Eof),
            b'\n' if after_cr => {}
            b'\r' | b'\n' => {
                self.after_cr = b == b'\r';
                echo.extend_from_slice(b"\r\n");
                let text = String::from_utf8_lossy(line).into_owned();
                return Some(Line::Text(text));
            }
            0x7f | 0x08 => {
                if pop_char(line) {
                    echo.extend_from_slice(b"\x08 \x08");
                }
            }
            0x15 => {
                while pop_char(line) {
                    echo.extend_from_slice(b"\x08 \x08");
                }
            }
            0x17 => {
                while line.last() == Some(&b' ') && pop_char(line) {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                while line.last().is_some_and(|c| *c != b' ') && pop_char(line) {
                    echo.extend_from_slice(b"\x08 \x08");
                }
            }
            0x1b => self.esc = Esc::Start,
            _ if b < 0x20 => {}
            _ => {
                if line.len() < MAX_LINE {
                    line.push(b);
                    echo.push(b);
                } else {
                    echo.push(0x07);
                }
            }
        }
        None
    }
}

/// Remove the last UTF-8 character of `line`; false when it was empty.
fn pop_char(line: &mut Vec<u8>) -> bool {
    let Some(mut c) = line.pop() else {
        return false;
    };
    while c & 0xc0 == 0x80 {
        match line.pop() {
            Some(prev) => c = prev,
            None => break,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// Hands out scripted chunks; then reports a timeout.
    struct Script(Vec<Vec<u8>>, Vec<u8>);

    impl TtyIo for Script {
        fn read(&mut self, buf: &mut [u8], _t: Duration) -> io::Result<ReadOutcome> {
            if self.0.is_empty() {
                return Ok(ReadOutcome::TimedOut);
            }
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(ReadOutcome::Data(chunk.len()))
        }
        fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.1.extend_from_slice(bytes);
            Ok(())
        }
    }

    fn read(chunks: &[&[u8]]) -> (Line, LineReader) {
        let mut s = Script(chunks.iter().map(|c| c.to_vec()).collect(), Vec::new());
        let mut r = LineReader::new();
        (r.read_line(&mut s, Duration::from_secs(1)), r)
    }

    fn text(s: &str) -> Line {
        Line::Text(s.to_string())
    }

    #[test]
    fn editing_keys() {
        assert_eq!(read(&[b"db2\x7f1\r"]).0, text("db1"));
        assert_eq!(read(&[b"xx", b"x\x15db1\n"]).0, text("db1"));
        assert_eq!(read(&[b"fix the thing\x17\x17disk\r"]).0, text("fix disk"));
        assert_eq!(read(&[b"\x7f\x08db1\r"]).0, text("db1"));
        assert_eq!(read(&["caf\u{e9}\x7fe\r".as_bytes()]).0, text("cafe"));
    }

    #[test]
    fn escape_sequences_and_controls_are_swallowed() {
        assert_eq!(
            read(&[b"\x1b[Adb\x1b[200~1\x1b[201~\t\x1bOA\r"]).0,
            text("db1")
        );
    }

    #[test]
    fn ends() {
        assert_eq!(read(&[b"db\x03"]).0, Line::Aborted);
        assert_eq!(read(&[b"\x1c"]).0, Line::Aborted);
        assert_eq!(read(&[b"\x04"]).0, Line::Eof);
        assert_eq!(read(&[b"d\x04b1\r"]).0, text("db1"));
        assert_eq!(read(&[b"db1"]).0, Line::TimedOut);
    }

    #[test]
    fn crlf_is_one_line_end_and_rest_is_kept() {
        let mut s = Script(vec![b"T-1\r\nreason here\r\n".to_vec()], Vec::new());
        let mut r = LineReader::new();
        assert_eq!(r.read_line(&mut s, Duration::from_secs(1)), text("T-1"));
        assert_eq!(
            r.read_line(&mut s, Duration::from_secs(1)),
            text("reason here")
        );
    }

    #[test]
    fn long_input_is_capped() {
        let long = vec![b'a'; MAX_LINE + 10];
        let mut chunks: Vec<&[u8]> = long.chunks(200).collect();
        chunks.push(b"\r");
        match read(&chunks).0 {
            Line::Text(t) => assert_eq!(t.len(), MAX_LINE),
            other => panic!("{other:?}"),
        }
    }
}
