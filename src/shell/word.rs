//! Static expansion of one shell word: quote removal, escapes, known variables, tildes.
//!
//! brush-parser hands words back as raw source text (`"$HOME"/x`, `$(rm -rf /)`). This module
//! does what bash would do before running the command, as far as it can be known statically:
//! quotes and escapes are removed, `$NAME` is replaced when the analyser knows its value, and
//! every command substitution body (`$( )`, backticks, also inside `"…"` and `${x:-…}`) is
//! collected so the caller can analyse it recursively. Whatever cannot be known makes the word
//! `known = false` and keeps its source text in `value`.
//!
//! [`fields`] goes on as bash does for the words of a command: brace expansion first, then the
//! expansions, then word splitting of what unquoted expansions produced by `IFS` (the default, or
//! the value assigned earlier on the line), arrays and `"$@"` as one field per element, and the
//! output of a command substitution when the caller can tell it statically (`$(echo rm)`).

/// The statically known output of a command substitution body, in a scope; `None` when it is
/// not known (anything impure).
pub(crate) type Subst = fn(&str, &Scope<'_>) -> Option<String>;

/// Variables visible to an expansion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// Variables assigned earlier on the line, latest last; `None` = assigned an unknown value.
    /// Positional parameters of a function being called are `1`, `2`, ….
    pub vars: &'a [(String, Option<String>)],
    /// Arrays assigned earlier on the line (`a=(…)`), latest last; `@` holds the positional
    /// parameters of a function being called.
    pub arrays: &'a [(String, Option<Vec<String>>)],
    /// Home directory for `~` and `$HOME` when not reassigned.
    pub home: Option<&'a str>,
    /// Working directory for `$PWD` and `~+`.
    pub cwd: Option<&'a str>,
    /// Evaluates a command substitution body statically, when the caller can.
    pub subst: Option<Subst>,
    /// How many command substitutions deep this expansion is.
    pub depth: usize,
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return v.clone();
        }
        if let Some((_, a)) = self.arrays.iter().rev().find(|(n, _)| n == name) {
            return a.as_ref().map(|a| a.first().cloned().unwrap_or_default());
        }
        match name {
            "HOME" => self.home.map(str::to_owned),
            "PWD" => self.cwd.map(str::to_owned),
            "IFS" => Some(" \t\n".to_owned()),
            _ => None,
        }
    }

    /// The elements of array `name`: `None` when not known. A scalar is a one-element array.
    fn array(&self, name: &str) -> Option<Vec<String>> {
        if let Some((_, a)) = self.arrays.iter().rev().find(|(n, _)| n == name) {
            return a.clone();
        }
        if name == "@" || name == "*" {
            return None;
        }
        self.lookup(name).map(|v| vec![v])
    }

    /// The field separators: `None` when `IFS` was assigned a value that is not known.
    fn ifs(&self) -> Option<String> {
        match self.vars.iter().rev().find(|(n, _)| n == "IFS") {
            Some((_, v)) => v.clone(),
            None => Some(" \t\n".to_owned()),
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
    /// Expanded to no field at all (`$(which nothing)`, unquoted): kept only for the
    /// substitutions it runs, it is no word of the command.
    pub vanished: bool,
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
            vanished: false,
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
    /// Splitting into fields (command words), or one value (assignments, redirections).
    split: bool,
    /// Fields completed so far, when splitting: text and whether it holds an unquoted glob.
    fields: Vec<(String, bool)>,
    /// The field being built had quoted text (so it stays even when empty).
    quoted: bool,
    /// The field being built holds an unquoted glob character.
    field_glob: bool,
    /// The last character seen was a whitespace separator.
    after_space: bool,
}

/// Most words one brace expansion may produce; beyond it the word is left as written.
const MAX_BRACE_WORDS: usize = 256;

/// Expands `raw` as bash expands a command word into fields: brace expansion, expansions,
/// then word splitting of unquoted expansion results. A word can become no field (an unquoted
/// empty variable) or several (`{rm,-rf,/x}`, `$A` holding `-rf /x`, `"${a[@]}"`). Every field
/// keeps the source text in `raw`.
pub(crate) fn fields(raw: &str, scope: &Scope<'_>) -> Vec<Word> {
    let mut out = Vec::new();
    for text in braces(raw) {
        let mut e = Exp::new(*scope, 0);
        e.split = true;
        let start = e.tilde(&text);
        e.unquoted(&text, start, text.len());
        let known = e.known;
        let subs = std::mem::take(&mut e.subs);
        e.end_field(false);
        let n = out.len();
        for (value, field_glob) in e.fields {
            out.push(Word {
                raw: raw.to_owned(),
                value,
                known,
                glob: field_glob,
                subs: Vec::new(),
                vanished: false,
            });
        }
        match out.get_mut(n) {
            Some(first) => first.subs = subs,
            // Nothing left, but what ran to produce nothing still runs.
            None if !subs.is_empty() => out.push(Word {
                raw: raw.to_owned(),
                value: String::new(),
                known,
                glob: false,
                subs,
                vanished: known,
            }),
            None => {}
        }
    }
    out
}

/// Brace expansion of `raw` as bash does it before anything else: every unquoted `{a,b}` or
/// `{1..3}` / `{a..e}` gives one word per alternative, prefix and suffix kept; quoted braces,
/// `${…}` and braces without a comma or a sequence stay as written. Past
/// [`MAX_BRACE_WORDS`] the word is left as written.
pub(crate) fn braces(raw: &str) -> Vec<String> {
    let mut done = Vec::new();
    let mut todo = vec![raw.to_owned()];
    while let Some(w) = todo.pop() {
        match brace_once(&w) {
            Some(alts) => {
                if done.len() + todo.len() + alts.len() > MAX_BRACE_WORDS {
                    return vec![raw.to_owned()];
                }
                todo.extend(alts.into_iter().rev());
            }
            None => done.push(w),
        }
    }
    done
}

/// The words of the first brace expansion in `w`, or `None` when it has none.
fn brace_once(w: &str) -> Option<Vec<String>> {
    let b = w.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' => i = find_byte(w, i + 1, b.len(), b'\'') + 1,
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'$' if matches!(b.get(i + 1), Some(b'{' | b'(')) => {
                let (o, c) = if b[i + 1] == b'{' {
                    (b'{', b'}')
                } else {
                    (b'(', b')')
                };
                i = find_close(w, i + 1, b.len(), o, c) + 1;
            }
            b'`' => i = find_byte(w, i + 1, b.len(), b'`') + 1,
            b'{' => {
                if let Some(alts) = brace_alternatives(w, i) {
                    return Some(alts);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The words of the brace expression opening at `open`, if it is one.
fn brace_alternatives(w: &str, open: usize) -> Option<Vec<String>> {
    let b = w.as_bytes();
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut i = open;
    let close = loop {
        let c = *b.get(i)?;
        match c {
            b'\\' => i += 1,
            b'\'' => i = find_byte(w, i + 1, b.len(), b'\''),
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                i = find_close(w, i + 1, b.len(), b'{', b'}');
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    break i;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    };
    let (prefix, inner, suffix) = (&w[..open], &w[open + 1..close], &w[close + 1..]);
    let parts: Vec<&str> = if commas.is_empty() {
        return sequence(inner).map(|items| {
            items
                .into_iter()
                .map(|x| format!("{prefix}{x}{suffix}"))
                .collect()
        });
    } else {
        let mut v = Vec::new();
        let mut from = open + 1;
        for &c in &commas {
            v.push(&w[from..c]);
            from = c + 1;
        }
        v.push(&w[from..close]);
        v
    };
    Some(
        parts
            .into_iter()
            .map(|p| format!("{prefix}{p}{suffix}"))
            .collect(),
    )
}

/// `1..5`, `5..1`, `1..10..2`, `a..e`: the items, when it is a sequence of at most
/// [`MAX_BRACE_WORDS`].
fn sequence(inner: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = inner.split("..").collect();
    let (a, z, step) = match parts.as_slice() {
        [a, z] => (*a, *z, 1i64),
        [a, z, s] => (*a, *z, s.parse::<i64>().ok()?.checked_abs()?.max(1)),
        _ => return None,
    };
    if let (Ok(x), Ok(y)) = (a.parse::<i64>(), z.parse::<i64>()) {
        let n = (x - y).checked_abs()? / step;
        if n >= MAX_BRACE_WORDS as i64 {
            return None;
        }
        let dir = if y >= x { step } else { -step };
        return Some((0..=n).map(|k| (x + k * dir).to_string()).collect());
    }
    let (mut ca, mut cz) = (a.chars(), z.chars());
    let (x, y) = match (ca.next(), ca.next(), cz.next(), cz.next()) {
        (Some(x), None, Some(y), None) if x.is_ascii_alphabetic() && y.is_ascii_alphabetic() => {
            (x as i64, y as i64)
        }
        _ => return None,
    };
    let n = (x - y).abs() / step;
    let dir = if y >= x { step } else { -step };
    Some(
        (0..=n)
            .filter_map(|k| char::from_u32(u32::try_from(x + k * dir).ok()?))
            .map(String::from)
            .collect(),
    )
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
            split: false,
            fields: Vec::new(),
            quoted: false,
            field_glob: false,
            after_space: false,
        }
    }

    /// Ends the field being built; an empty one stays only when `force`d or quoted.
    fn end_field(&mut self, force: bool) {
        if force || self.quoted || !self.out.is_empty() {
            let text = std::mem::take(&mut self.out);
            self.fields.push((text, self.field_glob));
        }
        self.quoted = false;
        self.field_glob = false;
    }

    /// Text produced by an unquoted expansion: split at `IFS` characters when splitting.
    fn push_split(&mut self, v: &str) {
        if !self.split {
            self.out.push_str(v);
            return;
        }
        let Some(ifs) = self.scope.ifs() else {
            // Separators not known: the fields are not known either.
            self.unknown(v);
            return;
        };
        for c in v.chars() {
            if !ifs.contains(c) {
                self.out.push(c);
                self.after_space = false;
                if matches!(c, '*' | '?' | '[') {
                    self.glob = true;
                    self.field_glob = true;
                }
            } else if c.is_whitespace() {
                if !self.out.is_empty() || self.quoted {
                    self.end_field(false);
                    self.after_space = true;
                }
            } else {
                if !self.after_space {
                    self.end_field(true);
                }
                self.after_space = false;
            }
        }
    }

    /// The elements of an array expansion: one field each inside double quotes (`"${a[@]}"`),
    /// split further when unquoted.
    fn push_elements(&mut self, elems: &[String], in_dq: bool, star: bool) {
        if !self.split || (in_dq && star) {
            let sep = self
                .scope
                .ifs()
                .and_then(|i| i.chars().next())
                .map_or(String::new(), String::from);
            let joined = elems.join(if star { sep.as_str() } else { " " });
            if in_dq {
                self.out.push_str(&joined);
            } else {
                self.push_split(&joined);
            }
            return;
        }
        for (k, e) in elems.iter().enumerate() {
            if k > 0 {
                if in_dq {
                    self.end_field(true);
                } else {
                    self.end_field(false);
                }
            }
            if in_dq {
                self.quoted = true;
                self.out.push_str(e);
            } else {
                self.push_split(e);
            }
        }
    }

    fn finish(self, raw: &str) -> Word {
        Word {
            raw: raw.to_owned(),
            value: self.out,
            known: self.known,
            glob: self.glob,
            subs: self.subs,
            vanished: false,
        }
    }

    fn unknown(&mut self, text: &str) {
        self.known = false;
        self.after_space = false;
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
                    self.quoted = true;
                    self.after_space = false;
                    i = self.escaped(s, i + 1, end, |_| true);
                }
                b'\'' => {
                    self.quoted = true;
                    self.after_space = false;
                    let close = find_byte(s, i + 1, end, b'\'');
                    self.out.push_str(&s[i + 1..close]);
                    i = (close + 1).min(end);
                }
                b'"' => {
                    self.quoted = true;
                    self.after_space = false;
                    i = self.double_quoted(s, i + 1, end);
                }
                b'$' => i = self.dollar(s, i, end, false),
                b'`' => i = self.backtick(s, i, end, false),
                b'*' | b'?' | b'[' => {
                    self.glob = true;
                    self.field_glob = true;
                    self.after_space = false;
                    self.out.push(b[i] as char);
                    i += 1;
                }
                b'{' if brace_expansion_at(s, i, end) => {
                    self.glob = true;
                    self.field_glob = true;
                    self.out.push('{');
                    i += 1;
                }
                _ => {
                    self.after_space = false;
                    i = self.plain(s, i, end);
                }
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
                b'`' => i = self.backtick(s, i, end, true),
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
                b'`' => i = self.backtick(s, i, end, true),
                _ => i = self.plain(s, i, end),
            }
        }
    }

    /// A command substitution: its body is collected for analysis; its output is used when
    /// the scope can tell it statically, else the word is not known.
    fn substitution(&mut self, body: String, whole: &str, in_dq: bool) {
        let out = match self.scope.subst {
            Some(f) if self.depth < MAX_WORD_DEPTH => f(&body, &self.scope),
            _ => None,
        };
        self.subs.push(body);
        match out {
            Some(text) => {
                let text = text.trim_end_matches('\n');
                if in_dq {
                    self.out.push_str(text);
                } else {
                    self.push_split(text);
                }
            }
            None => self.unknown(whole),
        }
    }

    fn backtick(&mut self, s: &str, i: usize, end: usize, in_dq: bool) -> usize {
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
        self.substitution(body, &s[i..close], in_dq);
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
                    let mut inner_end = close.saturating_sub(1).max(i + 3).min(end);
                    while !s.is_char_boundary(inner_end) {
                        inner_end += 1;
                    }
                    self.nested_subs(s, (i + 3).min(inner_end), inner_end);
                    self.unknown(&s[i..stop]);
                } else {
                    let body = s[i + 2..close.max(i + 2)].to_owned();
                    self.substitution(body, &s[i..stop], in_dq);
                }
                stop
            }
            b'{' => {
                let close = find_close(s, i + 1, end, b'{', b'}');
                let stop = (close + 1).min(end);
                self.parameter(&s[i + 2..close.max(i + 2)], &s[i..stop], in_dq);
                stop
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let mut j = i + 1;
                while j < end && (b[j] == b'_' || b[j].is_ascii_alphanumeric()) {
                    j += 1;
                }
                self.variable(&s[i + 1..j], &s[i..j], in_dq);
                j
            }
            b'@' | b'*' => {
                match self.scope.array("@") {
                    Some(a) => self.push_elements(&a, in_dq, c == b'*'),
                    None => self.unknown(&s[i..i + 2]),
                }
                i + 2
            }
            b'#' => {
                match self.scope.array("@") {
                    Some(a) => self.out.push_str(&a.len().to_string()),
                    None => self.unknown(&s[i..i + 2]),
                }
                i + 2
            }
            c if c.is_ascii_digit() => {
                self.variable(&s[i + 1..i + 2], &s[i..i + 2], in_dq);
                i + 2
            }
            c if b"?-$!".contains(&c) => {
                self.unknown(&s[i..i + 2]);
                i + 2
            }
            _ => {
                self.out.push('$');
                i + 1
            }
        }
    }

    /// `$name`: its value, split when unquoted.
    fn variable(&mut self, name: &str, whole: &str, in_dq: bool) {
        match self.scope.lookup(name) {
            Some(v) if in_dq => self.out.push_str(&v),
            Some(v) => self.push_split(&v),
            None => self.unknown(whole),
        }
    }

    /// `${…}` with its inner text.
    fn parameter(&mut self, inner: &str, whole: &str, in_dq: bool) {
        let name_len = inner
            .bytes()
            .take_while(|b| *b == b'_' || b.is_ascii_alphanumeric())
            .count();
        let (name, rest) = inner.split_at(name_len);
        if rest.is_empty() && !name.is_empty() {
            self.variable(name, whole, in_dq);
            return;
        }
        if matches!(inner, "@" | "*") {
            match self.scope.array("@") {
                Some(a) => self.push_elements(&a, in_dq, inner == "*"),
                None => self.unknown(whole),
            }
            return;
        }
        // `${a[@]}`, `${a[*]}`, `${a[2]}`, `${#a[@]}`.
        let (count, name, rest) = match inner.strip_prefix('#') {
            Some(r) if !r.is_empty() => {
                let n = r
                    .bytes()
                    .take_while(|b| *b == b'_' || b.is_ascii_alphanumeric())
                    .count();
                (true, &r[..n], &r[n..])
            }
            _ => (false, name, rest),
        };
        // `${a[@]:1}`, `${a[@]:1:2}`: a slice of the elements.
        if let Some((index, slice)) = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .filter(|(i, sl)| matches!(*i, "@" | "*") && sl.starts_with(':') && !count)
        {
            match (self.scope.array(name), substring_bounds(&slice[1..])) {
                (Some(a), Some((off, len))) if !name.is_empty() => {
                    let part: Vec<String> = a
                        .iter()
                        .skip(off)
                        .take(len.unwrap_or(usize::MAX))
                        .cloned()
                        .collect();
                    self.push_elements(&part, in_dq, index == "*");
                }
                _ => self.unknown(whole),
            }
            return;
        }
        if let Some(index) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if !name.is_empty() {
                match (self.scope.array(name), index) {
                    (Some(a), "@" | "*") if count => self.out.push_str(&a.len().to_string()),
                    (Some(a), "@" | "*") => self.push_elements(&a, in_dq, index == "*"),
                    (Some(a), i) if !count && i.bytes().all(|b| b.is_ascii_digit()) => {
                        match i.parse::<usize>().ok().and_then(|k| a.get(k)) {
                            Some(v) if in_dq => self.out.push_str(v),
                            Some(v) => {
                                let v = v.clone();
                                self.push_split(&v);
                            }
                            None => {}
                        }
                    }
                    _ => self.unknown(whole),
                }
                return;
            }
        }
        if count && rest.is_empty() && !name.is_empty() {
            match self.scope.lookup(name) {
                Some(v) => self.out.push_str(&v.chars().count().to_string()),
                None => self.unknown(whole),
            }
            return;
        }
        let (name, rest) = inner.split_at(name_len);
        // An operator follows (`:-`, `#`, `/`, …): the words after it may hold substitutions.
        const OPS: [&str; 18] = [
            ":-", ":=", ":?", ":+", "##", "%%", "//", "^^", ",,", "-", "=", "?", "+", "#", "%",
            "/", "^", ",",
        ];
        let op_len = OPS
            .iter()
            .find(|op| rest.starts_with(**op))
            .map_or(rest.chars().next().map_or(0, char::len_utf8), |op| op.len());
        let value = &rest[op_len.min(rest.len())..];
        let op = &rest[..op_len];
        self.nested_subs(value, 0, value.len());
        if !name.is_empty() && !matches!(op, ":-" | "-" | ":=" | "=" | ":?" | "?") {
            // `${p#x}`, `${p,,}`, `${p/a/b}`, `${p:1:2}`, `${p:+w}` of a known value.
            let arg = {
                let mut inner = Exp::new(self.scope, self.depth + 1);
                if self.depth < MAX_WORD_DEPTH {
                    inner.unquoted(value, 0, value.len());
                }
                (inner.known && self.depth < MAX_WORD_DEPTH).then_some(inner.out)
            };
            match (self.scope.lookup(name), arg) {
                (Some(v), Some(arg)) => match transform(op, &v, &arg, value) {
                    Some(t) if in_dq => self.out.push_str(&t),
                    Some(t) => self.push_split(&t),
                    None => self.unknown(whole),
                },
                _ => self.unknown(whole),
            }
            return;
        }
        if name.is_empty() || !matches!(op, ":-" | "-" | ":=" | "=") {
            self.unknown(whole);
            return;
        }
        match self.scope.lookup(name) {
            Some(v) if !v.is_empty() && in_dq => self.out.push_str(&v),
            Some(v) if !v.is_empty() => self.push_split(&v),
            // Known to be empty or unset: the default word is what the shell uses.
            Some(_) => {
                let mut inner = Exp::new(self.scope, self.depth + 1);
                if self.depth < MAX_WORD_DEPTH {
                    inner.unquoted(value, 0, value.len());
                }
                if inner.known && self.depth < MAX_WORD_DEPTH {
                    self.out.push_str(&inner.out);
                } else {
                    self.unknown(whole);
                }
            }
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

/// `${v OP arg}` for the operators whose result depends only on the value: `#` `##` `%` `%%`
/// (patterns of literal text, `*` and `?`), `/` `//` (the same, literal replacement), case
/// changes, `:offset[:length]`, `+`/`:+`. `None` for anything else.
fn transform(op: &str, v: &str, arg: &str, raw_arg: &str) -> Option<String> {
    let chars: Vec<char> = v.chars().collect();
    let at = |k: usize| chars[..k].iter().collect::<String>();
    let from = |k: usize| chars[k..].iter().collect::<String>();
    Some(match op {
        "#" | "##" => {
            let mut cuts: Vec<usize> = (0..=chars.len()).collect();
            if op == "##" {
                cuts.reverse();
            }
            match cuts
                .into_iter()
                .find(|&k| glob_match(arg, &at(k)) == Some(true))
            {
                Some(k) => from(k),
                None => {
                    glob_match(arg, "")?;
                    v.to_owned()
                }
            }
        }
        "%" | "%%" => {
            let mut cuts: Vec<usize> = (0..=chars.len()).rev().collect();
            if op == "%%" {
                cuts.reverse();
            }
            match cuts
                .into_iter()
                .find(|&k| glob_match(arg, &from(k)) == Some(true))
            {
                Some(k) => at(k),
                None => {
                    glob_match(arg, "")?;
                    v.to_owned()
                }
            }
        }
        "/" | "//" => {
            if raw_arg.contains(['$', '`']) {
                return None;
            }
            let (pat, rep) = arg.split_once('/').unwrap_or((arg, ""));
            if pat.is_empty() || pat.contains(['*', '?', '[', '\\']) || pat.starts_with(['#', '%'])
            {
                return None;
            }
            if op == "//" {
                v.replace(pat, rep)
            } else {
                v.replacen(pat, rep, 1)
            }
        }
        "^^" if arg.is_empty() => v.to_uppercase(),
        ",," if arg.is_empty() => v.to_lowercase(),
        "^" if arg.is_empty() => {
            let mut c = v.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        }
        "," if arg.is_empty() => {
            let mut c = v.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_lowercase().chain(c).collect())
        }
        ":+" => {
            if v.is_empty() {
                String::new()
            } else {
                arg.to_owned()
            }
        }
        "+" => arg.to_owned(),
        ":" => {
            let (off, len) = substring_bounds(arg)?;
            chars
                .iter()
                .skip(off)
                .take(len.unwrap_or(usize::MAX))
                .collect()
        }
        _ => return None,
    })
}

/// `OFFSET` or `OFFSET:LENGTH` of non-negative numbers.
fn substring_bounds(s: &str) -> Option<(usize, Option<usize>)> {
    let (o, l) = match s.split_once(':') {
        Some((o, l)) => (o, Some(l)),
        None => (s, None),
    };
    let off = o.trim().parse().ok()?;
    let len = match l {
        Some(l) => Some(l.trim().parse().ok()?),
        None => None,
    };
    Some((off, len))
}

/// Whether `text` matches the shell pattern `pat` of literal text, `*` and `?`; `None` for
/// patterns with brackets or escapes.
fn glob_match(pat: &str, text: &str) -> Option<bool> {
    if pat.contains(['[', '\\']) {
        return None;
    }
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return Some(false);
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    Some(pi == p.len())
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
                arrays: &[],
                home: Some("/home/me"),
                cwd: Some("/w"),
                subst: None,
                depth: 0,
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
        let x = ex("${X:-/b}/c");
        assert!(x.known);
        assert_eq!(x.value, "/a/c");
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
