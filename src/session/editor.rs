//! The line editor: the user's keystrokes, read from the real terminal in raw mode, become
//! lines. It draws its own echo, keeps a per-line history, and reports Enter, Ctrl-C and Ctrl-D
//! to the session. Nothing here touches a file descriptor, so it is tested on plain bytes.
//!
//! Keys: printable text (UTF-8) and Tab are inserted; Backspace, Delete, Left/Right, Home/End
//! (and Ctrl-A/E/B/F), Ctrl-U/K/W kill to start/end/previous word, Up/Down (Ctrl-P/N) walk the
//! history, Ctrl-L clears the screen. Other control characters are ignored, so the text that
//! reaches the client never carries one (the client's terminal would act on it).

/// What a keystroke meant to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// Enter: the line as typed (already echoed, cursor on the next line).
    Enter(String),
    /// Ctrl-C.
    Interrupt,
    /// Ctrl-D on an empty line.
    Eof,
}

/// One line being edited, and the history of lines entered before.
#[derive(Debug, Default)]
pub struct Editor {
    line: Vec<char>,
    cursor: usize,
    history: Vec<String>,
    /// Position in `history` while walking it; `None` when editing a fresh line.
    walking: Option<usize>,
    /// The fresh line, kept while the history is walked.
    fresh: Vec<char>,
    /// An escape sequence or UTF-8 character split across reads.
    partial: Vec<u8>,
    /// The previous byte was a carriage return (a following line feed is the same Enter).
    after_cr: bool,
}

/// Most history lines kept.
const HISTORY: usize = 1000;

impl Editor {
    pub fn new() -> Editor {
        Editor::default()
    }

    /// Whether the line being edited is empty.
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Forget the line being edited (Ctrl-C, or input discarded after a question).
    pub fn clear(&mut self) {
        self.line.clear();
        self.cursor = 0;
        self.walking = None;
        self.partial.clear();
    }

    /// The line being edited.
    pub fn text(&self) -> String {
        self.line.iter().collect()
    }

    /// Handle one byte of input. What to show goes to `out` (`prompt` is what the current line
    /// starts with on the screen, redrawn when the line changes other than at its end).
    pub fn feed(&mut self, b: u8, prompt: &[u8], out: &mut Vec<u8>) -> Option<Key> {
        let after_cr = std::mem::take(&mut self.after_cr);
        if !self.partial.is_empty() {
            self.partial.push(b);
            return self.partial_done(prompt, out);
        }
        match b {
            b'\r' | b'\n' => {
                if b == b'\n' && after_cr {
                    return None;
                }
                self.after_cr = b == b'\r';
                let line = self.text();
                if !line.trim().is_empty() && self.history.last() != Some(&line) {
                    self.history.push(line.clone());
                    if self.history.len() > HISTORY {
                        self.history.remove(0);
                    }
                }
                self.line.clear();
                self.cursor = 0;
                self.walking = None;
                out.extend_from_slice(b"\r\n");
                Some(Key::Enter(line))
            }
            0x03 => Some(Key::Interrupt),
            0x04 if self.line.is_empty() => Some(Key::Eof),
            0x04 => {
                if self.cursor < self.line.len() {
                    self.line.remove(self.cursor);
                    self.redraw(prompt, out);
                }
                None
            }
            0x7f | 0x08 => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    self.line.remove(self.cursor);
                    if self.cursor == self.line.len() {
                        out.extend_from_slice(b"\x08 \x08");
                    } else {
                        self.redraw(prompt, out);
                    }
                }
                None
            }
            0x01 => self.move_to(0, prompt, out),
            0x05 => self.move_to(self.line.len(), prompt, out),
            0x02 => self.move_to(self.cursor.saturating_sub(1), prompt, out),
            0x06 => self.move_to((self.cursor + 1).min(self.line.len()), prompt, out),
            0x0b => {
                self.line.truncate(self.cursor);
                self.redraw(prompt, out);
                None
            }
            0x15 => {
                self.line.drain(..self.cursor);
                self.cursor = 0;
                self.redraw(prompt, out);
                None
            }
            0x17 => {
                let mut k = self.cursor;
                while k > 0 && self.line[k - 1].is_whitespace() {
                    k -= 1;
                }
                while k > 0 && !self.line[k - 1].is_whitespace() {
                    k -= 1;
                }
                self.line.drain(k..self.cursor);
                self.cursor = k;
                self.redraw(prompt, out);
                None
            }
            0x0c => {
                out.extend_from_slice(b"\x1b[H\x1b[2J");
                self.redraw(prompt, out);
                None
            }
            0x10 => self.history_step(true, prompt, out),
            0x0e => self.history_step(false, prompt, out),
            0x1b => {
                self.partial.push(b);
                None
            }
            b'\t' => {
                self.insert('\t', prompt, out);
                None
            }
            0x00..=0x1f => None,
            0x20..=0x7e => {
                self.insert(b as char, prompt, out);
                None
            }
            _ => {
                // The lead byte of a UTF-8 sequence (a stray continuation byte is dropped).
                if b >= 0xc0 {
                    self.partial.push(b);
                }
                None
            }
        }
    }

    /// A partial escape sequence or UTF-8 character got one more byte.
    fn partial_done(&mut self, prompt: &[u8], out: &mut Vec<u8>) -> Option<Key> {
        let p = &self.partial;
        if p[0] == 0x1b {
            let done = match p.len() {
                2 => !matches!(p[1], b'[' | b'O'),
                _ => (0x40..=0x7e).contains(&p[p.len() - 1]) || p.len() > 16,
            };
            if !done {
                return None;
            }
            let seq = std::mem::take(&mut self.partial);
            return self.escape(&seq, prompt, out);
        }
        let want = match p[0] {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        if p.len() < want {
            return None;
        }
        let bytes = std::mem::take(&mut self.partial);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            for c in s.chars() {
                self.insert(c, prompt, out);
            }
        }
        None
    }

    fn escape(&mut self, seq: &[u8], prompt: &[u8], out: &mut Vec<u8>) -> Option<Key> {
        let body = &seq[1..];
        match body {
            b"[A" | b"OA" => self.history_step(true, prompt, out),
            b"[B" | b"OB" => self.history_step(false, prompt, out),
            b"[C" | b"OC" => self.move_to((self.cursor + 1).min(self.line.len()), prompt, out),
            b"[D" | b"OD" => self.move_to(self.cursor.saturating_sub(1), prompt, out),
            b"[H" | b"OH" | b"[1~" | b"[7~" => self.move_to(0, prompt, out),
            b"[F" | b"OF" | b"[4~" | b"[8~" => self.move_to(self.line.len(), prompt, out),
            b"[3~" => {
                if self.cursor < self.line.len() {
                    self.line.remove(self.cursor);
                    self.redraw(prompt, out);
                }
                None
            }
            // Bracketed-paste markers and anything else: ignored.
            _ => None,
        }
    }

    fn insert(&mut self, c: char, prompt: &[u8], out: &mut Vec<u8>) {
        self.line.insert(self.cursor, c);
        self.cursor += 1;
        if self.cursor == self.line.len() {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        } else {
            self.redraw(prompt, out);
        }
    }

    fn move_to(&mut self, to: usize, prompt: &[u8], out: &mut Vec<u8>) -> Option<Key> {
        if to != self.cursor {
            self.cursor = to;
            self.redraw(prompt, out);
        }
        None
    }

    fn history_step(&mut self, back: bool, prompt: &[u8], out: &mut Vec<u8>) -> Option<Key> {
        if self.history.is_empty() {
            return None;
        }
        let next = match (self.walking, back) {
            (None, true) => {
                self.fresh = self.line.clone();
                Some(self.history.len() - 1)
            }
            (None, false) => return None,
            (Some(0), true) => Some(0),
            (Some(k), true) => Some(k - 1),
            (Some(k), false) if k + 1 < self.history.len() => Some(k + 1),
            (Some(_), false) => None,
        };
        self.walking = next;
        self.line = match next {
            Some(k) => self.history[k].chars().collect(),
            None => std::mem::take(&mut self.fresh),
        };
        self.cursor = self.line.len();
        self.redraw(prompt, out);
        None
    }

    /// Draw the whole line again: carriage return, prompt, text, clear to end of line, and the
    /// cursor moved back to where it is in the text.
    pub fn redraw(&self, prompt: &[u8], out: &mut Vec<u8>) {
        out.push(b'\r');
        out.extend_from_slice(prompt);
        out.extend(self.text().bytes());
        out.extend_from_slice(b"\x1b[K");
        let back = self.line.len() - self.cursor;
        if back > 0 {
            out.extend_from_slice(format!("\x1b[{back}D").as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ed: &mut Editor, input: &[u8]) -> (Vec<Key>, Vec<u8>) {
        let mut out = Vec::new();
        let keys = input
            .iter()
            .filter_map(|&b| ed.feed(b, b"> ", &mut out))
            .collect();
        (keys, out)
    }

    #[test]
    fn typing_and_enter() {
        let mut ed = Editor::new();
        let (keys, out) = run(&mut ed, b"SELECT 1;\r\n");
        assert_eq!(keys, [Key::Enter("SELECT 1;".into())]);
        assert_eq!(out, b"SELECT 1;\r\n");
    }

    #[test]
    fn editing_keys() {
        let mut ed = Editor::new();
        // "SELEC" ← ← "X" → → backspace, Home, "-", End, ^W "word", Enter
        let (keys, _) = run(
            &mut ed,
            b"SELEC\x1b[D\x1b[DX\x1b[C\x1b[C\x7f\x01-\x05 junk\x17ok\r",
        );
        assert_eq!(keys, [Key::Enter("-SELXE ok".into())]);
        let (keys, _) = run(&mut ed, b"abc\x01\x0bxyz\x15q\r");
        assert_eq!(keys, [Key::Enter("q".into())]);
    }

    #[test]
    fn history_walks_back_and_forth() {
        let mut ed = Editor::new();
        run(&mut ed, b"one\rtwo\r");
        let (keys, _) = run(&mut ed, b"\x1b[A\x1b[A\r");
        assert_eq!(keys, [Key::Enter("one".into())]);
        let (keys, _) = run(&mut ed, b"new\x1b[A\x1b[B\r");
        assert_eq!(keys, [Key::Enter("new".into())]);
    }

    #[test]
    fn control_keys_and_utf8() {
        let mut ed = Editor::new();
        let (keys, _) = run(&mut ed, b"\x04");
        assert_eq!(keys, [Key::Eof]);
        let (keys, _) = run(&mut ed, b"x\x03");
        assert_eq!(keys, [Key::Interrupt]);
        ed.clear();
        let (keys, _) = run(&mut ed, "'é\x07'\r".as_bytes());
        assert_eq!(keys, [Key::Enter("'é'".into())]);
        // An escape sequence split across reads.
        let (keys, _) = run(&mut ed, b"ab\x1b");
        assert!(keys.is_empty());
        let (keys, _) = run(&mut ed, b"[Dc\r");
        assert_eq!(keys, [Key::Enter("acb".into())]);
    }
}
