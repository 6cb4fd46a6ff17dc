//! Static expansion of one shell word: quote removal, escapes, known variables, tildes.
//!
//! brush-parser hands words back as raw source text (`"$HOME"/x`, `$(rm -rf /)`). This module
//! does what bash would do before running the command, as far as it can be known statically:
//! quotes and escapes are removed, `$NAME` is replaced when the analyser knows its value, and
//! every command substitution body (`$( )`, backticks, also inside `"…"` and `${x:-…}`) is
//! collected so the caller can analyse it recursively. Whatever cannot be known makes the word
//! `known = false` and keeps its source text in `value`.

/// Variables visible to an expansion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// Variables assigned earlier on the line, latest last; `None` = assigned an unknown value.
    pub vars: &'a [(String, Option<String>)],
    /// Home directory for `~` and `$HOME` when not reassigned.
    pub home: Option<&'a str>,
    /// Working directory for `$PWD` and `~+`.
    pub cwd: Option<&'a str>,
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return v.clone();
        }
        match name {
            "HOME" => self.home.map(str::to_owned),
            "PWD" => self.cwd.map(str::to_owned),
            _ => None,
        }
    }
}

/// One word after static expansion.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Word {
    /// The word as written.
    pub raw: String,
    /// Quote-removed value; parts that are not known keep their source text.
    pub value: String,
    /// Every part is statically known.
    pub known: bool,
    /// Contains an unquoted glob character (`*`, `?`, `[`) or a brace expansion.
    pub glob: bool,
    /// Bodies of command substitutions found in the word, in order.
    pub subs: Vec<String>,
}

impl Word {
    /// A word whose value is its text, fully known (synthetic words).
    pub(crate) fn literal(s: &str) -> Self {
        Word {
            raw: s.to_owned(),
            value: s.to_owned(),
            known: true,
            glob: false,
            subs: Vec::new(),
        }
    }
}

/// Nesting bound for `${…${…}}` inside one word; deeper parts are left unknown.
const MAX_WORD_DEPTH: usize = 32;

struct Exp<'a> {
    scope: Scope<'a>,
    out: String,
    known: bool,
    glob: bool,
    subs: Vec<String>,
    depth: usize,
}

/// Expands `raw` as a command word (quotes are syntax, tilde at start).
pub(crate) fn expand(raw: &str, scope: &Scope<'_>) -> Word {
    let mut e = Exp::new(*scope, 0);
    let start = e.tilde(raw);
    e.unquoted(raw, start, raw.len());
    e.finish(raw)
}

/// Expands a heredoc body whose delimiter was unquoted (quotes are literal text).
pub(crate) fn expand_heredoc(raw: &str, scope: &Scope<'_>) -> Word {
    let mut e = Exp::new(*scope, 0);
    e.heredoc(raw);
    e.finish(raw)
}

impl<'a> Exp<'a> {
    fn new(scope: Scope<'a>, depth: usize) -> Self {
        Exp {
            scope,
            out: String::new(),
            known: true,
            glob: false,
            subs: Vec::new(),
            depth,
        }
    }

    fn finish(self, raw: &str) -> Word {
        Word {
            raw: raw.to_owned(),
            value: self.out,
            known: self.known,
            glob: self.glob,
            subs: self.subs,
        }
    }

    fn unknown(&mut self, text: &str) {
        self.known = false;
        self.out.push_str(text);
    }

    /// Tilde prefix at the start of a word; returns the index where normal expansion resumes.
    fn tilde(&mut self, s: &str) -> usize {
        if !s.starts_with('~') {
            return 0;
        }
        let end = s.find('/').unwrap_or(s.len());
        let user = &s[1..end];
        if !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
        {
            return 0;
        }
        match user {
            "" => match self.scope.lookup("HOME") {
                Some(h) => self.out.push_str(&h),
                None => self.unknown("~"),
            },
            "+" => match self.scope.cwd {
                Some(c) => self.out.push_str(c),
                None => self.unknown("~+"),
            },
            "-" => self.unknown("~-"),
            "root" => self.out.push_str("/root"),
            u => {
                self.out.push_str("/home/");
                self.out.push_str(u);
            }
        }
        end
    }

    fn unquoted(&mut self, s: &str, mut i: usize, end: usize) {
        let b = s.as_bytes();
        while i < end {
            match b[i] {
                b'\\' => {
                    i = self.escaped(s, i + 1, end, |_| true);
                }
                b'\'' => {
                    let close = find_byte(s, i + 1, end, b'\'');
                    self.out.push_str(&s[i + 1..close]);
                    i = (close + 1).min(end);
                }
                b'"' => i = self.double_quoted(s, i + 1, end),
                b'$' => i = self.dollar(s, i, end, false),
                b'`' => i = self.backtick(s, i, end),
                b'*' | b'?' | b'[' => {
                    self.glob = true;
                    self.out.push(b[i] as char);
                    i += 1;
                }
                b'{' if brace_expansion_at(s, i, end) => {
                    self.glob = true;
                    self.out.push('{');
                    i += 1;
                }
                _ => i = self.plain(s, i, end),
            }
        }
    }

    /// Copies one (possibly multi-byte) character.
    fn plain(&mut self, s: &str, i: usize, end: usize) -> usize {
        let mut j = i + 1;
        while j < end && !s.is_char_boundary(j) {
            j += 1;
        }
        self.out.push_str(&s[i..j]);
        j
    }

    /// After a backslash at `i - 1`: a newline is a line continuation; a character for which
    /// `special` holds is taken literally; any other keeps the backslash.
    fn escaped(&mut self, s: &str, i: usize, end: usize, special: impl Fn(u8) -> bool) -> usize {
        if i >= end {
            self.out.push('\\');
            return i;
        }
        let c = s.as_bytes()[i];
        if c == b'\n' {
            return i + 1;
        }
        if !special(c) {
            self.out.push('\\');
        }
        self.plain(s, i, end)
    }

    fn double_quoted(&mut self, s: &str, mut i: usize, end: usize) -> usize {
        let b = s.as_bytes();
        while i < end {
            match b[i] {
                b'"' => return i + 1,
                b'\\' => {
                    i = self.escaped(s, i + 1, end, |c| matches!(c, b'$' | b'`' | b'"' | b'\\'));
                }
                b'$' => i = self.dollar(s, i, end, true),
                b'`' => i = self.backtick(s, i, end),
                _ => i = self.plain(s, i, end),
            }
        }
        end
    }

    fn heredoc(&mut self, s: &str) {
        let b = s.as_bytes();
        let end = s.len();
        let mut i = 0;
        while i < end {
            match b[i] {
                b'\\' => i = self.escaped(s, i + 1, end, |c| matches!(c, b'$' | b'`' | b'\\')),
                b'$' => i = self.dollar(s, i, end, true),
                b'`' => i = self.backtick(s, i, end),
                _ => i = self.plain(s, i, end),
            }
        }
    }

    fn backtick(&mut self, s: &str, i: usize, end: usize) -> usize {
        let b = s.as_bytes();
        let mut j = i + 1;
        let mut body = String::new();
        while j < end && b[j] != b'`' {
            if b[j] == b'\\' && j + 1 < end && matches!(b[j + 1], b'`' | b'\\' | b'$') {
                body.push(b[j + 1] as char);
                j += 2;
                continue;
            }
            let mut k = j + 1;
            while k < end && !s.is_char_boundary(k) {
                k += 1;
            }
            body.push_str(&s[j..k]);
            j = k;
        }
        let close = (j + 1).min(end);
        self.subs.push(body);
        self.unknown(&s[i..close]);
        close
    }

    fn dollar(&mut self, s: &str, i: usize, end: usize, in_dq: bool) -> usize {
        let b = s.as_bytes();
        let Some(&c) = b.get(i + 1).filter(|_| i + 1 < end) else {
            self.out.push('$');
            return i + 1;
        };
        match c {
            b'\'' if !in_dq => {
                let (text, next) = ansi_c(s, i + 2, end);
                self.out.push_str(&text);
                next
            }
            b'"' if !in_dq => self.double_quoted(s, i + 2, end),
            b'(' => {
                let close = find_close(s, i + 1, end, b'(', b')');
                let stop = (close + 1).min(end);
                if b.get(i + 2) == Some(&b'(') {
                    // Arithmetic: unknown value, but substitutions inside still run.
                    let inner_end = close.saturating_sub(1).max(i + 3).min(end);
                    self.nested_subs(s, (i + 3).min(inner_end), inner_end);
                } else {
                    self.subs.push(s[i + 2..close.max(i + 2)].to_owned());
                }
                self.unknown(&s[i..stop]);
                stop
            }
            b'{' => {
                let close = find_close(s, i + 1, end, b'{', b'}');
                let stop = (close + 1).min(end);
                self.parameter(&s[i + 2..close.max(i + 2)], &s[i..stop]);
                stop
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let mut j = i + 1;
                while j < end && (b[j] == b'_' || b[j].is_ascii_alphanumeric()) {
                    j += 1;
                }
                match self.scope.lookup(&s[i + 1..j]) {
                    Some(v) => self.out.push_str(&v),
                    None => self.unknown(&s[i..j]),
                }
                j
            }
            c if c.is_ascii_digit() || b"@*#?-$!".contains(&c) => {
                self.unknown(&s[i..i + 2]);
                i + 2
            }
            _ => {
                self.out.push('$');
                i + 1
            }
        }
    }

    /// `${…}` with its inner text.
    fn parameter(&mut self, inner: &str, whole: &str) {
        let name_len = inner
            .bytes()
            .take_while(|b| *b == b'_' || b.is_ascii_alphanumeric())
            .count();
        let (name, rest) = inner.split_at(name_len);
        if rest.is_empty() && !name.is_empty() {
            match self.scope.lookup(name) {
                Some(v) => self.out.push_str(&v),
                None => self.unknown(whole),
            }
            return;
        }
        // An operator follows (`:-`, `#`, `/`, …): the words after it may hold substitutions.
        let op_len = rest
            .bytes()
            .take_while(|b| b":-=?+#%/^,@!".contains(b))
            .count();
        let value = &rest[op_len.min(rest.len())..];
        let value_known = if !name.is_empty() && matches!(&rest[..op_len], ":-" | "-" | ":=" | "=")
        {
            self.scope.lookup(name).filter(|v| !v.is_empty())
        } else {
            None
        };
        self.nested_subs(value, 0, value.len());
        match value_known {
            Some(v) => self.out.push_str(&v),
            None => self.unknown(whole),
        }
    }

    /// Collects the substitutions inside `s[start..end]` without using its value.
    fn nested_subs(&mut self, s: &str, start: usize, end: usize) {
        if self.depth >= MAX_WORD_DEPTH || start >= end {
            return;
        }
        let mut inner = Exp::new(self.scope, self.depth + 1);
        inner.unquoted(s, start, end);
        self.subs.append(&mut inner.subs);
    }
}

fn find_byte(s: &str, from: usize, end: usize, byte: u8) -> usize {
    s.as_bytes()[from.min(end)..end]
        .iter()
        .position(|b| *b == byte)
        .map_or(end, |p| from + p)
}

/// Index of the bracket closing the one at `open`, skipping quoted text; `end` if unclosed.
pub(crate) fn find_close(s: &str, open: usize, end: usize, opening: u8, closing: u8) -> usize {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < end {
        match b[i] {
            c if c == opening => depth += 1,
            c if c == closing => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            b'\\' => i += 1,
            b'\'' if opening == b'(' => i = find_byte(s, i + 1, end, b'\''),
            b'`' => i = find_byte(s, i + 1, end, b'`'),
            b'"' => {
                i += 1;
                while i < end && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    end
}

/// An unquoted `{` that starts a brace expansion (`{a,b}` or `{1..3}`).
fn brace_expansion_at(s: &str, i: usize, end: usize) -> bool {
    let close = find_close(s, i, end, b'{', b'}');
    if close >= end {
        return false;
    }
    let inner = &s[i + 1..close];
    !inner.contains(char::is_whitespace) && (inner.contains(',') || inner.contains(".."))
}

/// Decodes `$'…'` starting after the opening quote; returns the text and the index after the
/// closing quote.
fn ansi_c(s: &str, mut i: usize, end: usize) -> (String, usize) {
    let b = s.as_bytes();
    let mut out = String::new();
    while i < end {
        match b[i] {
            b'\'' => return (out, i + 1),
            b'\\' if i + 1 < end => {
                let c = b[i + 1];
                i += 2;
                match c {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'a' => out.push('\x07'),
                    b'b' => out.push('\x08'),
                    b'e' | b'E' => out.push('\x1b'),
                    b'f' => out.push('\x0c'),
                    b'v' => out.push('\x0b'),
                    b'\\' | b'\'' | b'"' | b'?' => out.push(c as char),
                    b'x' => {
                        let n = b[i..end]
                            .iter()
                            .take(2)
                            .take_while(|d| d.is_ascii_hexdigit())
                            .count();
                        let v = u32::from_str_radix(&s[i..i + n], 16).unwrap_or(0);
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        i += n;
                    }
                    b'0'..=b'7' => {
                        let n = b[i - 1..end]
                            .iter()
                            .take(3)
                            .take_while(|d| (b'0'..=b'7').contains(d))
                            .count();
                        let v = u32::from_str_radix(&s[i - 1..i - 1 + n], 8).unwrap_or(0);
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        i += n - 1;
                    }
                    _ => {
                        out.push('\\');
                        i -= 1;
                    }
                }
            }
            _ => {
                let mut j = i + 1;
                while j < end && !s.is_char_boundary(j) {
                    j += 1;
                }
                out.push_str(&s[i..j]);
                i = j;
            }
        }
    }
    (out, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(raw: &str) -> Word {
        let vars = vec![("X".to_owned(), Some("/a".to_owned()))];
        expand(
            raw,
            &Scope {
                vars: &vars,
                home: Some("/home/me"),
                cwd: Some("/w"),
            },
        )
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(ex(r#"'a b'"c\"d"\ e$'\t'"#).value, "a bc\"d e\t");
        assert!(ex("'a'").known);
        assert_eq!(ex(r"\rm").value, "rm");
        assert_eq!(ex(r#""a\b""#).value, r"a\b");
    }

    #[test]
    fn variables_tilde_and_unknowns() {
        assert_eq!(ex("$X/y").value, "/a/y");
        assert_eq!(ex("${X}/y").value, "/a/y");
        assert_eq!(ex("~/x").value, "/home/me/x");
        assert_eq!(ex("~bob/x").value, "/home/bob/x");
        assert_eq!(ex("$HOME").value, "/home/me");
        let w = ex("\"$UNSET\"/x");
        assert!(!w.known);
        assert_eq!(w.value, "$UNSET/x");
    }

    #[test]
    fn substitutions_are_collected_everywhere() {
        assert_eq!(ex("$(rm -rf /x)").subs, vec!["rm -rf /x"]);
        assert_eq!(ex("\"a $(b \"c\") d\"").subs, vec!["b \"c\""]);
        assert_eq!(ex("`rm -rf /x`").subs, vec!["rm -rf /x"]);
        assert_eq!(ex("${y:-$(rm -rf /z)}").subs, vec!["rm -rf /z"]);
        assert_eq!(ex("$(( $(rm a) + 1 ))").subs, vec!["rm a"]);
        assert_eq!(ex("$(echo $(rm b))").subs, vec!["echo $(rm b)"]);
        assert!(!ex("$(x)").known);
    }

    #[test]
    fn globs_are_flagged() {
        assert!(ex("/var/*").glob);
        assert!(!ex("'/var/*'").glob);
        assert!(ex("/x/{a,b}").glob);
    }
}
