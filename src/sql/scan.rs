//! Lexical pass over a client payload: split into statements and client commands, strip
//! comments, and — for SQL the parser rejects — a keyword scan that only ever answers with a
//! destructive kind or `unknown`, never `read-only`.
//!
//! The splitter knows each client's quoting rules because a `;` inside a string, a quoted
//! identifier or a dollar-quoted body does not end a statement, and `DROP` inside a string is not
//! a `DROP`. Where a client would *execute* text that looks like a comment (MySQL's `/*! … */`)
//! the text is kept as code, so nothing the server runs is hidden from classification.

/// Quoting and comment rules of one client / SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `psql`: dollar quotes, `E'…'` escapes, nested block comments, backslash meta-commands,
    /// `COPY … FROM stdin` data blocks.
    Postgres,
    /// `mysql`/`mariadb`: backslash escapes in both quote kinds, backticks, `#` comments,
    /// executable `/*! … */` comments, `DELIMITER`, client commands (`source`, `system`, `\!`).
    MySql,
    /// `sqlite3`: `[ident]`, dot-commands at the start of a line.
    Sqlite,
    /// `clickhouse-client`: backslash escapes, backticks, `#` comments.
    ClickHouse,
    /// Anything else (`cqlsh`, `influx`): standard quoting only.
    Generic,
}

/// One unit of a payload, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A SQL statement.
    Sql {
        /// As written (trimmed, without its terminator).
        text: String,
        /// Comments removed, executable comments unwrapped: what the parser sees.
        clean: String,
        /// `clean` with the contents of string literals and dollar quotes removed (`''`):
        /// what the keyword scan sees.
        skel: String,
        /// Deepest parenthesis nesting outside quotes.
        depth: usize,
    },
    /// A client command (`\dt`, `.tables`, `source f`, `\! ls`), trimmed, for the caller to
    /// classify by flavour.
    Meta(String),
}

/// Split `src` into statements and client commands according to `flavor`.
pub(crate) fn split(src: &str, flavor: Flavor) -> Vec<Piece> {
    Splitter::new(src, flavor).run()
}

struct Splitter<'a> {
    src: &'a str,
    b: &'a [u8],
    flavor: Flavor,
    i: usize,
    start: usize,
    clean: Vec<u8>,
    skel: Vec<u8>,
    depth: usize,
    max_depth: usize,
    delimiter: String,
    out: Vec<Piece>,
    /// A quote, dollar quote or block comment runs to the end of the source.
    open: bool,
    /// SQL was ended by a client command that does not send it (psql `\p`): the client still
    /// holds it in its query buffer.
    held: bool,
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str, flavor: Flavor) -> Self {
        Splitter {
            src,
            b: src.as_bytes(),
            flavor,
            i: 0,
            start: 0,
            clean: Vec::new(),
            skel: Vec::new(),
            depth: 0,
            max_depth: 0,
            delimiter: ";".to_owned(),
            out: Vec::new(),
            open: false,
            held: false,
        }
    }

    fn at_statement_start(&self) -> bool {
        self.clean.iter().all(u8::is_ascii_whitespace)
    }

    fn line_end(&self, from: usize) -> usize {
        self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| from + p)
    }

    fn push_code(&mut self, c: u8) {
        self.clean.push(c);
        self.skel.push(c);
        match c {
            b'(' => {
                self.depth += 1;
                self.max_depth = self.max_depth.max(self.depth);
            }
            b')' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }

    fn push_space(&mut self) {
        self.clean.push(b' ');
        self.skel.push(b' ');
    }

    /// Ends the current statement (if it has any code) at byte `end` of the source.
    fn flush(&mut self, end: usize) {
        let clean = String::from_utf8_lossy(&self.clean).trim().to_owned();
        if !clean.is_empty() {
            let text = self.src.get(self.start..end).unwrap_or_default().trim();
            let skel = String::from_utf8_lossy(&self.skel).trim().to_owned();
            self.out.push(Piece::Sql {
                text: text.to_owned(),
                clean,
                skel,
                depth: self.max_depth,
            });
        }
        self.clean.clear();
        self.skel.clear();
        self.depth = 0;
        self.max_depth = 0;
    }

    fn meta(&mut self, from: usize, to: usize) {
        let text = self.src.get(from..to).unwrap_or_default().trim().to_owned();
        if !text.is_empty() {
            self.out.push(Piece::Meta(text));
        }
        self.i = to;
        self.start = to;
    }

    fn run(self) -> Vec<Piece> {
        self.run_state().0
    }

    /// The pieces, and whether the source ends inside a statement the client has not run yet.
    fn run_state(mut self) -> (Vec<Piece>, bool) {
        while self.i < self.b.len() {
            if self.at_statement_start() {
                // Leading whitespace belongs to no statement.
                if self.b[self.i].is_ascii_whitespace() {
                    self.i += 1;
                    self.start = self.i;
                    continue;
                }
                if self.line_command() {
                    continue;
                }
            }
            self.step();
        }
        let pending = self.open || self.held || !self.at_statement_start();
        let end = self.b.len();
        self.flush(end);
        (self.out, pending)
    }

    /// Client commands recognised only at the start of a statement, running to end of line.
    fn line_command(&mut self) -> bool {
        let i = self.i;
        let rest = &self.b[i..];
        match self.flavor {
            Flavor::Sqlite if rest.first() == Some(&b'.') => {
                let end = self.line_end(i);
                self.meta(i, end);
                true
            }
            Flavor::MySql => {
                let word_end = rest
                    .iter()
                    .position(|c| !c.is_ascii_alphabetic() && *c != b'_')
                    .unwrap_or(rest.len());
                let word = self.src.get(i..i + word_end).unwrap_or_default();
                let word = word.to_ascii_lowercase();
                let next = rest.get(word_end).copied();
                let ends_word = next.is_none_or(|c| c.is_ascii_whitespace() || c == b';');
                if !ends_word {
                    return false;
                }
                const LINE_COMMANDS: &[&str] = &[
                    "source",
                    "system",
                    "exit",
                    "quit",
                    "status",
                    "help",
                    "tee",
                    "notee",
                    "pager",
                    "nopager",
                    "warnings",
                    "nowarning",
                    "connect",
                    "charset",
                    "prompt",
                    "rehash",
                    "edit",
                    "ego",
                    "go",
                    "print",
                    "clear",
                ];
                let end = self.line_end(i);
                if word == "delimiter" {
                    let line = self.src.get(i + word_end..end).unwrap_or_default();
                    if let Some(d) = line.split_whitespace().next() {
                        self.delimiter = d.to_owned();
                    }
                    self.i = end;
                    self.start = end;
                    true
                } else if LINE_COMMANDS.contains(&word.as_str()) {
                    self.meta(i, end);
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }

    fn step(&mut self) {
        let b = self.b;
        let i = self.i;
        let c = b[i];
        let next = b.get(i + 1).copied();
        let prev_ident = i > 0 && is_ident_byte(b[i - 1]);

        // Statement terminator. psql does not end a statement at a `;` inside parentheses
        // (`CREATE RULE … DO INSTEAD (DELETE …; DELETE …)`).
        if b[i..].starts_with(self.delimiter.as_bytes())
            && !(self.flavor == Flavor::Postgres && self.depth > 0)
        {
            self.held = false;
            self.flush(i);
            self.i = i + self.delimiter.len();
            self.start = self.i;
            if self.flavor == Flavor::Postgres {
                self.skip_copy_data();
            }
            return;
        }
        match c {
            b'\'' => {
                let backslash = match self.flavor {
                    Flavor::MySql | Flavor::ClickHouse => true,
                    Flavor::Postgres => {
                        i > 0
                            && matches!(b[i - 1], b'E' | b'e')
                            && (i < 2 || !is_ident_byte(b[i - 2]))
                    }
                    _ => false,
                };
                self.quoted(b'\'', backslash, true);
            }
            b'"' => {
                let string = self.flavor == Flavor::MySql;
                self.quoted(b'"', string, string);
            }
            b'`' if self.flavor != Flavor::Postgres => self.quoted(b'`', false, false),
            b'[' if self.flavor == Flavor::Sqlite => {
                let end = b[i + 1..].iter().position(|&c| c == b']').map_or_else(
                    || {
                        self.open = true;
                        b.len()
                    },
                    |p| i + 1 + p + 1,
                );
                self.copy_code(i, end);
            }
            b'$' if self.flavor == Flavor::Postgres && !prev_ident => {
                if let Some(tag_len) = dollar_tag(&b[i..]) {
                    let tag = &b[i..i + tag_len];
                    let body = i + tag_len;
                    let end = find(&b[body..], tag).map_or_else(
                        || {
                            self.open = true;
                            b.len()
                        },
                        |p| body + p + tag_len,
                    );
                    self.clean.extend_from_slice(&b[i..end]);
                    self.skel.extend_from_slice(b"''");
                    self.i = end;
                } else {
                    self.push_code(c);
                    self.i += 1;
                }
            }
            b'-' if next == Some(b'-') => {
                let is_comment = self.flavor != Flavor::MySql
                    || b.get(i + 2)
                        .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control());
                if is_comment {
                    self.i = self.line_end(i);
                    self.push_space();
                } else {
                    self.push_code(c);
                    self.i += 1;
                }
            }
            b'#' if matches!(self.flavor, Flavor::MySql | Flavor::ClickHouse) => {
                self.i = self.line_end(i);
                self.push_space();
            }
            b'/' if next == Some(b'*') => self.block_comment(),
            b'*' if next == Some(b'/') && self.flavor == Flavor::MySql => {
                // The end of an executable comment `/*! … */` whose body was kept as code.
                self.push_space();
                self.i += 2;
            }
            b'\\' => self.backslash(),
            _ => {
                self.push_code(c);
                self.i += 1;
            }
        }
    }

    fn copy_code(&mut self, from: usize, to: usize) {
        self.clean.extend_from_slice(&self.b[from..to]);
        self.skel.extend_from_slice(&self.b[from..to]);
        self.i = to;
    }

    /// A quoted run starting at `self.i`. `backslash`: `\` escapes the next byte. `literal`: a
    /// string (its contents leave the skeleton) rather than a quoted identifier.
    fn quoted(&mut self, q: u8, backslash: bool, literal: bool) {
        let b = self.b;
        let start = self.i;
        let mut j = start + 1;
        let mut closed = false;
        while j < b.len() {
            if backslash && b[j] == b'\\' {
                j += 2;
                continue;
            }
            if b[j] == q {
                if b.get(j + 1) == Some(&q) {
                    j += 2;
                    continue;
                }
                j += 1;
                closed = true;
                break;
            }
            j += 1;
        }
        self.open |= !closed;
        let end = j.min(b.len());
        self.clean.extend_from_slice(&b[start..end]);
        if literal {
            self.skel.extend_from_slice(&[q, q]);
        } else {
            self.skel.extend_from_slice(&b[start..end]);
        }
        self.i = end;
    }

    fn block_comment(&mut self) {
        let b = self.b;
        let i = self.i;
        if self.flavor == Flavor::MySql && matches!(b.get(i + 2), Some(b'!') | Some(b'M')) {
            // `/*!50700 code */` and `/*M!100101 code */` are executed by the server: keep the
            // body as code, drop the marker and version number.
            let mut j = i + 2;
            if b.get(j) == Some(&b'M') {
                if b.get(j + 1) != Some(&b'!') {
                    return self.plain_block_comment();
                }
                j += 1;
            }
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            self.push_space();
            self.i = j;
            return;
        }
        self.plain_block_comment();
    }

    fn plain_block_comment(&mut self) {
        let b = self.b;
        let nested = self.flavor == Flavor::Postgres;
        let mut level = 0usize;
        let mut j = self.i;
        while j < b.len() {
            if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                if level == 0 || nested {
                    level += 1;
                }
                j += 2;
            } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                level = level.saturating_sub(1);
                j += 2;
                if level == 0 {
                    break;
                }
            } else {
                j += 1;
            }
        }
        self.open |= level > 0;
        self.push_space();
        self.i = j.min(b.len());
    }

    fn backslash(&mut self) {
        let b = self.b;
        let i = self.i;
        match self.flavor {
            Flavor::Postgres => {
                // A meta-command runs to end of line; the buffer so far is a statement psql
                // will send (`\g`) or has been typed anyway.
                let pending = !self.at_statement_start();
                self.flush(i);
                let end = self.line_end(i);
                // `\\` separates a meta-command from what follows on the line.
                let end = find(&b[i + 1..end], b"\\\\").map_or(end, |p| i + 1 + p);
                let name = self.src.get(i + 1..end).unwrap_or_default();
                let name = name.split_whitespace().next().unwrap_or_default();
                if matches!(name, "r" | "reset") || psql_sends_buffer(name) {
                    self.held = false;
                } else if pending {
                    self.held = true;
                }
                self.meta(i, end);
                if b[end..].starts_with(b"\\\\") {
                    self.i = end + 2;
                    self.start = self.i;
                }
            }
            Flavor::MySql => match b.get(i + 1) {
                Some(b'g') | Some(b'G') => {
                    self.held = false;
                    self.flush(i);
                    self.i = i + 2;
                    self.start = self.i;
                }
                Some(b'!') | Some(b'.') => {
                    self.flush(i);
                    let end = self.line_end(i);
                    self.meta(i, end);
                }
                Some(_) => {
                    self.flush(i);
                    self.meta(i, i + 2);
                }
                None => {
                    self.push_code(b'\\');
                    self.i += 1;
                }
            },
            _ => {
                self.push_code(b'\\');
                self.i += 1;
            }
        }
    }

    /// After `COPY … FROM stdin;` psql sends the following lines as data up to `\.`.
    fn skip_copy_data(&mut self) {
        let Some(Piece::Sql { skel, .. }) = self.out.last() else {
            return;
        };
        let words = words(skel);
        let is_copy_in = words.first().is_some_and(|w| w == "COPY")
            && words.windows(2).any(|w| w[0] == "FROM" && w[1] == "STDIN");
        if !is_copy_in {
            return;
        }
        let mut j = self.line_end(self.i);
        while j < self.b.len() {
            let line_start = j + 1;
            let line_end = self.line_end(line_start.min(self.b.len()));
            let line = self
                .src
                .get(line_start.min(line_end)..line_end)
                .unwrap_or_default();
            j = line_end;
            if line.trim_end() == "\\." {
                break;
            }
        }
        self.i = j.min(self.b.len());
        self.start = self.i;
    }
}

/// Whether the psql meta-command `name` (without its backslash) sends the query buffer.
fn psql_sends_buffer(name: &str) -> bool {
    matches!(
        name,
        "g" | "gx" | "gset" | "gdesc" | "gexec" | "watch" | "crosstabview"
    )
}

/// Whether `src` ends inside a statement the client would not run yet: SQL after the last
/// terminator, an unclosed quote, dollar quote or block comment, or SQL a client command left
/// in the client's buffer (psql `SELECT 1 \p`).
pub(crate) fn pending(src: &str, flavor: Flavor) -> bool {
    Splitter::new(src, flavor).run_state().1
}

/// Length of a PostgreSQL dollar-quote tag at the start of `s` (`$$`, `$body$`), if any.
fn dollar_tag(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'$') {
        return None;
    }
    let mut j = 1;
    if s.get(j).is_some_and(u8::is_ascii_digit) {
        return None; // `$1` is a parameter
    }
    while j < s.len() && is_ident_byte(s[j]) {
        j += 1;
    }
    (s.get(j) == Some(&b'$')).then_some(j + 1)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Upper-cased words of a skeleton: identifiers and keywords, quoted identifiers unquoted.
pub(crate) fn words(skel: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for ch in skel.chars() {
        if let Some(q) = quote {
            if ch == q {
                quote = None;
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(ch);
            }
            continue;
        }
        match ch {
            '"' | '`' | '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur).to_uppercase());
                }
                quote = Some(if ch == '[' { ']' } else { ch });
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' || c == '*' || c == '$' => cur.push(c),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur).to_uppercase());
                }
                if ch == '=' {
                    out.push("=".to_owned());
                }
            }
        }
    }
    if !cur.is_empty() {
        if quote.is_some() {
            out.push(cur);
        } else {
            out.push(cur.to_uppercase());
        }
    }
    out
}

/// What the keyword scan makes of a statement the parser rejected: a kind and maybe a target.
/// Only clearly destructive or privilege-changing forms are named; everything else is
/// `unknown` — the scan never says `read-only`.
pub(crate) fn scan_kind(skel: &str, flavor: Flavor) -> (&'static str, Option<String>) {
    let w = words(skel);
    let lead = leading_kind(&w, flavor);
    if lead.0 != "unknown" {
        return lead;
    }
    // Not recognisable from its first words (a CTE, a DO block, a dialect extension): look for a
    // destructive phrase anywhere, most severe first.
    for (k, word) in w.iter().enumerate() {
        if word == "DROP" || word == "TRUNCATE" {
            let found = leading_kind(&w[k..], flavor);
            if found.0 != "unknown" {
                return found;
            }
        }
    }
    if w.iter().any(|x| x == "DELETE") && w.iter().any(|x| x == "FROM") {
        let with_where = w.iter().any(|x| x == "WHERE");
        return (
            if with_where {
                "delete"
            } else {
                "delete-without-where"
            },
            None,
        );
    }
    ("unknown", None)
}

fn skip_if_exists(w: &[String], mut k: usize) -> usize {
    if w.get(k).is_some_and(|x| x == "IF") {
        k += 1;
        if w.get(k).is_some_and(|x| x == "NOT") {
            k += 1;
        }
        if w.get(k).is_some_and(|x| x == "EXISTS") {
            k += 1;
        }
    }
    k
}

fn leading_kind(w: &[String], flavor: Flavor) -> (&'static str, Option<String>) {
    let at = |k: usize| w.get(k).map(String::as_str).unwrap_or("");
    let target_at = |k: usize| w.get(skip_if_exists(w, k)).cloned();
    match at(0) {
        "DROP" => {
            let mut k = 1;
            while matches!(
                at(k),
                "TEMPORARY" | "TEMP" | "MATERIALIZED" | "FOREIGN" | "UNLOGGED"
            ) {
                k += 1;
            }
            let kind = match at(k) {
                "DATABASE" | "KEYSPACE" => "drop-database",
                "SCHEMA" if flavor == Flavor::MySql => "drop-database",
                "SCHEMA" => "drop-schema",
                "TABLE" | "MEASUREMENT" | "COLUMNFAMILY" => "drop-table",
                "ROLE" | "USER" | "GROUP" => "drop-role",
                _ => "drop-other",
            };
            (kind, target_at(k + 1))
        }
        "TRUNCATE" => {
            let k = if at(1) == "TABLE" { 2 } else { 1 };
            let k = if at(k) == "ONLY" { k + 1 } else { k };
            ("truncate", target_at(k))
        }
        "DELETE" => {
            let k = if at(1) == "FROM" { 2 } else { 1 };
            let kind = if w.iter().any(|x| x == "WHERE") {
                "delete"
            } else {
                "delete-without-where"
            };
            (kind, w.get(k).cloned())
        }
        "UPDATE" => {
            let kind = if w.iter().any(|x| x == "WHERE") {
                "update"
            } else {
                "update-without-where"
            };
            (kind, w.get(1).cloned())
        }
        "ALTER" => match at(1) {
            "TABLE" if w.iter().skip(2).any(|x| x == "DROP") => {
                let k = if at(2) == "ONLY" { 3 } else { 2 };
                ("alter-drop", target_at(k))
            }
            "ROLE" | "USER" => ("alter-role", w.get(2).cloned()),
            _ => ("unknown", None),
        },
        "SET" if at(1) == "PASSWORD" => ("alter-role", None),
        "RENAME" if at(1) == "USER" => ("alter-role", w.get(2).cloned()),
        "GRANT" => ("grant", None),
        "REVOKE" => ("revoke", None),
        _ => ("unknown", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_texts(src: &str, f: Flavor) -> Vec<String> {
        split(src, f)
            .into_iter()
            .map(|p| match p {
                Piece::Sql { clean, .. } => clean,
                Piece::Meta(m) => format!("META {m}"),
            })
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes() {
        assert_eq!(
            sql_texts("select ';'; select 2 ;", Flavor::Postgres),
            ["select ';'", "select 2"]
        );
        assert_eq!(
            sql_texts(
                "create rule r as on insert to t do instead (delete from t; delete from u); select 1",
                Flavor::Postgres
            ),
            [
                "create rule r as on insert to t do instead (delete from t; delete from u)",
                "select 1"
            ]
        );
        assert_eq!(
            sql_texts(r#"select "a;b" from t; drop table x"#, Flavor::Sqlite),
            [r#"select "a;b" from t"#, "drop table x"]
        );
    }

    #[test]
    fn dollar_quotes_hide_semicolons() {
        let src =
            "create function f() returns int as $body$ select 1; $body$ language sql; select $1";
        let got = sql_texts(src, Flavor::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn comments_are_removed() {
        let got = sql_texts(
            "-- drop database x;\nselect 1 /* ; drop */ ;",
            Flavor::Postgres,
        );
        assert_eq!(got.len(), 1);
        assert!(!got[0].contains("drop"));
        let got = sql_texts("/* a /* nested */ ; still */ select 1", Flavor::Postgres);
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn mysql_double_dash_needs_space_and_executable_comments_count() {
        let got = sql_texts("select 1--1; drop database x", Flavor::MySql);
        assert_eq!(got.len(), 2, "{got:?}");
        let got = sql_texts(
            "/*!40101 drop database x */; # drop\nselect 1",
            Flavor::MySql,
        );
        assert!(got[0].contains("drop database x"), "{got:?}");
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn mysql_delimiter_and_client_commands() {
        let src = "DELIMITER //\ncreate procedure p() begin select 1; end//\nDELIMITER ;\nsystem rm -rf /\nselect 2;";
        let got = sql_texts(src, Flavor::MySql);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("create procedure"));
        assert_eq!(got[1], "META system rm -rf /");
        assert_eq!(got[2], "select 2");
    }

    #[test]
    fn psql_meta_commands_split_lines() {
        let got = sql_texts("\\x\nselect 1 \\gx\n\\dt public.*\n", Flavor::Postgres);
        assert_eq!(
            got,
            ["META \\x", "select 1", "META \\gx", "META \\dt public.*"]
        );
    }

    #[test]
    fn copy_data_is_skipped() {
        let src = "COPY t (a) FROM stdin;\n1\tDROP DATABASE x;\n\\.\nselect 1;";
        let got = sql_texts(src, Flavor::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1], "select 1");
    }

    #[test]
    fn skeleton_drops_string_contents() {
        let p = split("SELECT 'DROP DATABASE x', E'\\' drop'", Flavor::Postgres);
        let Some(Piece::Sql { skel, .. }) = p.first() else {
            panic!("{p:?}")
        };
        assert!(!skel.to_uppercase().contains("DROP"), "{skel}");
    }

    #[test]
    fn pending_input_is_told_apart() {
        let p = |s: &str| pending(s, Flavor::Postgres);
        assert!(!p("SELECT 1;"));
        assert!(!p("SELECT 1; -- done"));
        assert!(!p("\\l"));
        assert!(!p("SELECT 1 \\gx"));
        assert!(p("DELETE\nFROM users\n"));
        assert!(p("SELECT 'a;"));
        assert!(p("SELECT $$ x; "));
        assert!(p("/* SELECT 1;"));
        assert!(p("SELECT 1\n\\p"));
        assert!(!p("SELECT 1\n\\r"));
        assert!(!p("SELECT 1\n\\p\n;"));
        assert!(pending("select `a;", Flavor::MySql));
        assert!(!pending("DELIMITER //\nselect 1//", Flavor::MySql));
    }

    #[test]
    fn scan_names_destructive_forms_only() {
        let k = |s: &str, f| scan_kind(s, f).0;
        assert_eq!(
            k("DROP DATABASE IF EXISTS x", Flavor::Generic),
            "drop-database"
        );
        assert_eq!(k("drop schema x", Flavor::MySql), "drop-database");
        assert_eq!(k("drop schema x", Flavor::Postgres), "drop-schema");
        assert_eq!(k("DROP KEYSPACE ks", Flavor::Generic), "drop-database");
        assert_eq!(k("truncate only t", Flavor::Postgres), "truncate");
        assert_eq!(k("delete from t", Flavor::Postgres), "delete-without-where");
        assert_eq!(
            k("WITH x AS (SELECT 1) DELETE FROM t", Flavor::Postgres),
            "delete-without-where"
        );
        assert_eq!(k("SELECT frobnicate()", Flavor::Postgres), "unknown");
        assert_eq!(k("SHOW MEASUREMENTS", Flavor::Generic), "unknown");
        assert_eq!(
            scan_kind("DROP TABLE IF EXISTS \"Users\"", Flavor::Postgres)
                .1
                .as_deref(),
            Some("Users")
        );
    }
}
