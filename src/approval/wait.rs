//! Waiting for an approval on the requester's terminal: a countdown line redrawn in place,
//! Ctrl-C (or Ctrl-D) to give up, and a pasted SSH signature taken as the answer.
#![forbid(unsafe_code)]

use super::ssh::{SIG_BEGIN, SIG_END};
use crate::prompt::{ReadOutcome, TtyIo};
use std::time::{Duration, Instant};

/// How often the spool is looked at while waiting.
pub const POLL: Duration = Duration::from_millis(500);

/// How the wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End<T> {
    /// `check` returned a result.
    Done(T),
    /// Ctrl-C, Ctrl-\, Ctrl-D, or a terminating signal.
    Aborted,
    /// The deadline passed.
    TimedOut,
    /// The terminal failed.
    Failed(String),
}

/// What to do with a pasted signature: `Ok(Some)` ends the wait, `Ok(None)` keeps waiting,
/// `Err(why)` is shown and the wait goes on.
pub type OnPaste<'a, T, E> = dyn FnMut(&str) -> Result<Option<T>, E> + 'a;

/// Wait until `check` returns something, the deadline passes, or the user gives up. `line`
/// renders the status line for the time left.
pub fn wait<T, E: std::fmt::Display>(
    tty: &mut impl TtyIo,
    deadline: Instant,
    check: &mut dyn FnMut() -> Option<T>,
    on_paste: &mut OnPaste<'_, T, E>,
    line: &dyn Fn(Duration) -> String,
) -> End<T> {
    let mut pasted = String::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(t) = check() {
            let _ = tty.write_all(b"\r\x1b[K");
            return End::Done(t);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = tty.write_all(b"\r\x1b[K");
            return End::TimedOut;
        }
        if pasted.is_empty() {
            let _ = tty.write_all(format!("\r\x1b[K{}", line(left)).as_bytes());
        }
        match tty.read(&mut buf, left.min(POLL)) {
            Ok(ReadOutcome::Data(n)) => {
                let bytes = buf.get(..n).unwrap_or(&[]);
                if bytes.iter().any(|b| matches!(b, 0x03 | 0x1c | 0x04)) {
                    let _ = tty.write_all(b"\r\x1b[K");
                    return End::Aborted;
                }
                pasted.push_str(&String::from_utf8_lossy(bytes).replace('\r', "\n"));
                if pasted.len() > 64 * 1024 {
                    pasted.clear();
                }
                if let Some(start) = pasted.find(SIG_BEGIN) {
                    if pasted[start..].contains(SIG_END) {
                        let text = std::mem::take(&mut pasted);
                        let _ = tty.write_all(b"\r\n");
                        match on_paste(&text) {
                            Ok(Some(t)) => return End::Done(t),
                            Ok(None) => {}
                            Err(msg) => {
                                let _ = tty.write_all(format!("{msg}\r\n").as_bytes());
                            }
                        }
                    }
                } else if let Some(nl) = pasted.rfind('\n') {
                    // Whole lines before a signature starts are not part of it.
                    pasted.drain(..=nl);
                }
            }
            Ok(ReadOutcome::TimedOut) => {}
            Ok(ReadOutcome::Eof) | Ok(ReadOutcome::Interrupted) => {
                let _ = tty.write_all(b"\r\x1b[K");
                return End::Aborted;
            }
            Err(e) => return End::Failed(e.to_string()),
        }
    }
}

/// `14:59` for a duration.
pub fn mmss(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    struct Script {
        input: VecDeque<Vec<u8>>,
        out: Vec<u8>,
    }

    impl TtyIo for Script {
        fn read(&mut self, buf: &mut [u8], _t: Duration) -> std::io::Result<ReadOutcome> {
            match self.input.pop_front() {
                Some(b) if b.is_empty() => Ok(ReadOutcome::TimedOut),
                Some(b) => {
                    buf[..b.len()].copy_from_slice(&b);
                    Ok(ReadOutcome::Data(b.len()))
                }
                None => Ok(ReadOutcome::TimedOut),
            }
        }
        fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            self.out.extend_from_slice(bytes);
            Ok(())
        }
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn ctrl_c_gives_up_and_check_ends_it() {
        let mut t = Script {
            input: VecDeque::from(vec![vec![], b"x\x03".to_vec()]),
            out: Vec::new(),
        };
        let end: End<()> = wait(
            &mut t,
            far(),
            &mut || None,
            &mut |_| Ok::<_, std::convert::Infallible>(None),
            &|d| mmss(d),
        );
        assert_eq!(end, End::Aborted);
        assert!(String::from_utf8_lossy(&t.out).contains("1:00"));

        let mut n = 0;
        let mut t = Script {
            input: VecDeque::new(),
            out: Vec::new(),
        };
        let end = wait(
            &mut t,
            far(),
            &mut || {
                n += 1;
                (n == 3).then_some(7)
            },
            &mut |_| Ok::<_, std::convert::Infallible>(None),
            &|_| String::new(),
        );
        assert_eq!(end, End::Done(7));
    }

    #[test]
    fn a_pasted_signature_is_handed_over() {
        let sig = format!("{SIG_BEGIN}\rAAAA\r{SIG_END}\r");
        let (a, b) = sig.as_bytes().split_at(20);
        let mut t = Script {
            input: VecDeque::from(vec![a.to_vec(), b.to_vec()]),
            out: Vec::new(),
        };
        let end = wait(
            &mut t,
            far(),
            &mut || None,
            &mut |s| Ok::<_, std::convert::Infallible>(Some(s.contains("AAAA"))),
            &|_| String::new(),
        );
        assert_eq!(end, End::Done(true));
    }

    #[test]
    fn countdown_format() {
        assert_eq!(mmss(Duration::from_secs(899)), "14:59");
        assert_eq!(mmss(Duration::from_millis(1500)), "0:02");
    }
}
