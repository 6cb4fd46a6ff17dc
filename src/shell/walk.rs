//! Parsing with safeguards, and the walk over brush-parser's tree down to simple commands.

use brush_parser::ast;

use super::paths;
use super::scan;
use super::word::{self, Scope, Word};
use super::wrappers::{self, RawCmd};
use super::{Invocation, Problem, Redirect, Target};

/// Longest text handed to the parser. Longer text is unparseable (fail closed).
pub(crate) const MAX_LEN: usize = 16 * 1024;
/// Deepest bracket/keyword nesting handed to the parser: brush recurses per level and overflows
/// the stack (an abort, not a panic) at a few hundred levels in debug builds.
pub(crate) const MAX_NESTING: usize = 40;
/// Deepest recursion through `$( )`, `bash -c`, `ssh host '…'`, `eval`, … .
pub(crate) const MAX_DEPTH: usize = 12;

/// Where the shell stands while walking a line: what `cd` and `X=…` did so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub cwd: Option<String>,
    pub home: Option<String>,
    /// Variables assigned so far; `None` = assigned a value that is not known.
    pub vars: Vec<(String, Option<String>)>,
    /// The line's own stdin is data the guard cannot see ([`super::Context::stdin_unknown`]).
    pub stdin_unknown: bool,
}

impl State {
    pub(crate) fn scope(&self) -> Scope<'_> {
        Scope {
            vars: &self.vars,
            home: self.home.as_deref(),
            cwd: self.cwd.as_deref(),
        }
    }
}

/// How the commands being walked are reached: through which wrappers, on which host, as whom.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frame {
    pub via: Vec<String>,
    pub remote_host: Option<String>,
    pub run_as: Option<String>,
    pub depth: usize,
}

/// Collected results.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub invocations: Vec<Invocation>,
    pub problems: Vec<Problem>,
}

impl Out {
    pub(crate) fn problem(&mut self, p: Problem) {
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }
}

/// Analyses `text` as a shell script in `state`, reached through `frame`.
pub(crate) fn analyze_text(text: &str, state: &mut State, frame: &Frame, out: &mut Out) {
    if frame.depth > MAX_DEPTH {
        out.problem(Problem::Unparseable {
            reason: format!("commands nested more than {MAX_DEPTH} levels deep"),
        });
        return;
    }
    if let Err(reason) = precheck(text) {
        out.problem(Problem::Unparseable { reason });
        fallback(text, state, frame, out);
        return;
    }
    let parsed = std::panic::catch_unwind(|| {
        let mut parser = brush_parser::Parser::new(text.as_bytes(), &parser_options());
        parser.parse_program()
    });
    match parsed {
        Ok(Ok(program)) => {
            let mut w = Walker::new(text, frame.clone(), out);
            for list in &program.complete_commands {
                w.list(list, state);
            }
        }
        Ok(Err(e)) => {
            out.problem(Problem::Unparseable {
                reason: format!("not valid shell syntax: {e}"),
            });
            fallback(text, state, frame, out);
        }
        Err(_) => {
            out.problem(Problem::Unparseable {
                reason: "the shell parser failed on this text".to_owned(),
            });
            fallback(text, state, frame, out);
        }
    }
}

fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

/// Bounds checked before parsing: length, nesting depth, and an fd number brush 0.4.0 panics on.
fn precheck(text: &str) -> Result<(), String> {
    if text.len() > MAX_LEN {
        return Err(format!(
            "command is {} bytes long, more than the {MAX_LEN} bytes analysed",
            text.len()
        ));
    }
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut digits = 0usize;
    let mut word_start = true;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' | b'{' | b'[' | b'`' => depth += 1,
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if word_start && c.is_ascii_alphabetic() {
            let rest = &b[i..];
            let kw = |k: &[u8]| {
                rest.starts_with(k)
                    && rest
                        .get(k.len())
                        .is_none_or(|n| !n.is_ascii_alphanumeric() && *n != b'_')
            };
            if kw(b"if")
                || kw(b"while")
                || kw(b"until")
                || kw(b"for")
                || kw(b"case")
                || kw(b"select")
            {
                depth += 1;
            } else if kw(b"fi") || kw(b"done") || kw(b"esac") {
                depth = depth.saturating_sub(1);
            }
        }
        max = max.max(depth);
        if c.is_ascii_digit() {
            digits += 1;
        } else {
            if digits >= 10 && matches!(c, b'<' | b'>') {
                return Err("file descriptor number out of range".to_owned());
            }
            digits = 0;
        }
        word_start = !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.');
    }
    if max > MAX_NESTING {
        return Err(format!("command nests more than {MAX_NESTING} levels deep"));
    }
    Ok(())
}

/// Best-effort invocations from the token scanner, for text that could not be parsed.
fn fallback(text: &str, state: &mut State, frame: &Frame, out: &mut Out) {
    // The scanner already split substitutions apart; analyse words without recursing into them.
    let text = if text.len() > MAX_LEN {
        let mut end = MAX_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    } else {
        text
    };
    for raw_words in scan::scan(text) {
        let scope = state.scope();
        let mut words: Vec<Word> = raw_words
            .iter()
            .map(|w| {
                let mut w = word::expand(w, &scope);
                w.subs.clear();
                w
            })
            .collect();
        let mut assigns = Vec::new();
        while words
            .first()
            .is_some_and(|w| assignment_name(&w.raw).is_some())
        {
            let w = words.remove(0);
            if let Some((name, value)) = assignment_name(&w.raw) {
                let v = word::expand(value, &scope);
                assigns.push((name.to_owned(), v));
            }
        }
        let cmd = RawCmd {
            words,
            assigns,
            text: raw_words.join(" "),
            ..RawCmd::default()
        };
        wrappers::build(cmd, state, frame, out);
    }
}

/// `NAME=value` (or `NAME+=value`, `NAME[i]=value`): the name and the raw value.
pub(crate) fn assignment_name(raw: &str) -> Option<(&str, &str)> {
    let eq = raw.find('=')?;
    let name = raw[..eq].trim_end_matches('+');
    let base = name.split('[').next().unwrap_or(name);
    let mut bytes = base.bytes();
    let first = bytes.next()?;
    if !(first == b'_' || first.is_ascii_alphabetic())
        || !bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((base, &raw[eq + 1..]))
}

struct Walker<'s, 'o> {
    src: &'s str,
    /// Byte offset of each character, when the text is not ASCII (brush counts characters).
    char_bytes: Option<Vec<usize>>,
    frame: Frame,
    out: &'o mut Out,
    /// Redirections of enclosing compound commands, applied to every command inside.
    outer_redirects: Vec<Redirect>,
}

/// Nested scripts met while handling one command, analysed after it.
type Deferred = Vec<String>;

impl<'s, 'o> Walker<'s, 'o> {
    fn new(src: &'s str, frame: Frame, out: &'o mut Out) -> Self {
        let char_bytes = (!src.is_ascii()).then(|| src.char_indices().map(|(i, _)| i).collect());
        Walker {
            src,
            char_bytes,
            frame,
            out,
            outer_redirects: Vec::new(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            None => char_index.min(self.src.len()),
            Some(v) => v.get(char_index).copied().unwrap_or(self.src.len()),
        }
    }

    fn slice(&self, loc: Option<&brush_parser::SourceSpan>) -> Option<&'s str> {
        let loc = loc?;
        let (a, b) = (self.byte(loc.start.index), self.byte(loc.end.index));
        self.src.get(a..b)
    }

    fn nested(&mut self, scripts: Deferred, state: &State) {
        for s in scripts {
            let mut sub_state = state.clone();
            let frame = Frame {
                depth: self.frame.depth + 1,
                ..self.frame.clone()
            };
            analyze_text(&s, &mut sub_state, &frame, self.out);
        }
    }

    fn list(&mut self, list: &ast::CompoundList, state: &mut State) {
        for item in &list.0 {
            for (_, pipeline) in item.0.iter() {
                self.pipeline(pipeline, state);
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, state: &mut State) {
        if let Some(t) = &p.timed {
            self.frame.via.push(
                if t.is_posix_output() {
                    "time -p"
                } else {
                    "time"
                }
                .to_owned(),
            );
        }
        let mut upstream: Option<String> = None;
        let piped = p.seq.len() > 1;
        for (i, cmd) in p.seq.iter().enumerate() {
            let input = if i > 0 { Some(upstream.take()) } else { None };
            upstream = match cmd {
                ast::Command::Simple(sc) => self.simple(sc, state, input, piped),
                ast::Command::Compound(c, redirects) => {
                    let saved = self.outer_redirects.len();
                    let mut deferred = Vec::new();
                    if let Some(r) = redirects {
                        for r in &r.0 {
                            let mut sink = RawCmd::default();
                            self.redirect(r, state, &mut sink, &mut deferred);
                            self.outer_redirects.append(&mut sink.redirects);
                        }
                    }
                    self.compound(c, state);
                    self.outer_redirects.truncate(saved);
                    self.nested(deferred, state);
                    None
                }
                ast::Command::Function(f) => {
                    let mut fstate = state.clone();
                    self.compound(&f.body.0, &mut fstate);
                    None
                }
                ast::Command::ExtendedTest(t, _) => {
                    let mut deferred = Vec::new();
                    self.test_expr(&t.expr, state, &mut deferred);
                    self.nested(deferred, state);
                    None
                }
            };
        }
        if p.timed.is_some() {
            self.frame.via.pop();
        }
    }

    fn test_expr(&mut self, e: &ast::ExtendedTestExpr, state: &State, deferred: &mut Deferred) {
        use ast::ExtendedTestExpr as E;
        match e {
            E::And(a, b) | E::Or(a, b) => {
                self.test_expr(a, state, deferred);
                self.test_expr(b, state, deferred);
            }
            E::Not(a) | E::Parenthesized(a) => self.test_expr(a, state, deferred),
            E::UnaryTest(_, w) => deferred.extend(word::expand(&w.value, &state.scope()).subs),
            E::BinaryTest(_, a, b) => {
                deferred.extend(word::expand(&a.value, &state.scope()).subs);
                deferred.extend(word::expand(&b.value, &state.scope()).subs);
            }
        }
    }

    fn compound(&mut self, c: &ast::CompoundCommand, state: &mut State) {
        use ast::CompoundCommand as C;
        let mut deferred = Vec::new();
        match c {
            C::Arithmetic(a) => {
                deferred
                    .extend(word::expand(&format!("$(({}))", a.expr.value), &state.scope()).subs);
            }
            C::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    deferred
                        .extend(word::expand(&format!("$(({}))", e.value), &state.scope()).subs);
                }
                self.list(&f.body.list, state);
            }
            C::BraceGroup(b) => self.list(&b.list, state),
            C::Subshell(s) => {
                let mut sub = state.clone();
                self.list(&s.list, &mut sub);
            }
            C::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    deferred.extend(word::expand(&w.value, &state.scope()).subs);
                }
                state.vars.push((f.variable_name.clone(), None));
                self.list(&f.body.list, state);
            }
            C::CaseClause(cc) => {
                deferred.extend(word::expand(&cc.value.value, &state.scope()).subs);
                for item in &cc.cases {
                    for p in &item.patterns {
                        deferred.extend(word::expand(&p.value, &state.scope()).subs);
                    }
                    if let Some(cmd) = &item.cmd {
                        self.list(cmd, state);
                    }
                }
            }
            C::IfClause(i) => {
                self.list(&i.condition, state);
                self.list(&i.then, state);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, state);
                    }
                    self.list(&e.body, state);
                }
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.list(&w.0, state);
                self.list(&w.1.list, state);
            }
            C::Coprocess(c) => {
                let mut sub = state.clone();
                let _ = self.command_alone(&c.body, &mut sub);
            }
        }
        self.nested(deferred, state);
    }

    fn command_alone(&mut self, c: &ast::Command, state: &mut State) -> Option<String> {
        let p = ast::Pipeline {
            timed: None,
            bang: false,
            seq: vec![c.clone()],
        };
        self.pipeline(&p, state);
        None
    }

    /// One simple command. Returns what it statically writes to stdout (for `echo … |`).
    fn simple(
        &mut self,
        sc: &ast::SimpleCommand,
        state: &mut State,
        input: Option<Option<String>>,
        piped: bool,
    ) -> Option<String> {
        let mut cmd = RawCmd {
            piped_stdin: input.is_some(),
            ..RawCmd::default()
        };
        if let Some(Some(text)) = input {
            cmd.stdin = Some(text);
        }
        let _ = piped;
        let mut deferred: Deferred = Vec::new();
        let mut start = usize::MAX;
        let mut end = 0usize;
        let mut span = |loc: Option<&brush_parser::SourceSpan>| {
            if let Some(l) = loc {
                start = start.min(l.start.index);
                end = end.max(l.end.index);
            }
        };
        // Assignments before the command name: in scope for the command's own words.
        let mut assign_state = state.clone();
        let mut assigns: Vec<(String, Word)> = Vec::new();
        let mut items: Vec<&ast::CommandPrefixOrSuffixItem> = Vec::new();
        if let Some(prefix) = &sc.prefix {
            for item in &prefix.0 {
                match item {
                    ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                        span(w.loc.as_ref());
                        if let Some((name, value)) = assignment_name(&w.value) {
                            let mut v = if value.starts_with('(') {
                                Word {
                                    raw: value.to_owned(),
                                    value: value.to_owned(),
                                    ..Word::default()
                                }
                            } else {
                                word::expand(value, &assign_state.scope())
                            };
                            deferred.append(&mut v.subs);
                            assign_state
                                .vars
                                .push((name.to_owned(), v.known.then(|| v.value.clone())));
                            assigns.push((name.to_owned(), v));
                        }
                    }
                    other => items.push(other),
                }
            }
        }
        let mut words: Vec<Word> = Vec::new();
        let scope_state = &assign_state;
        if let Some(w) = &sc.word_or_name {
            span(w.loc.as_ref());
            words.push(word::expand(&w.value, &scope_state.scope()));
        }
        if let Some(suffix) = &sc.suffix {
            for item in &suffix.0 {
                match item {
                    // brush marks `of=/dev/sda` after the name as an assignment: it is a word.
                    ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w)
                    | ast::CommandPrefixOrSuffixItem::Word(w) => {
                        span(w.loc.as_ref());
                        words.push(word::expand(&w.value, &scope_state.scope()));
                    }
                    other => items.push(other),
                }
            }
        }
        for item in items {
            match item {
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => {
                    if let ast::IoRedirect::File(_, _, ast::IoFileRedirectTarget::Filename(w))
                    | ast::IoRedirect::HereString(_, w)
                    | ast::IoRedirect::OutputAndError(w, _) = r
                    {
                        span(w.loc.as_ref());
                    }
                    self.redirect(r, scope_state, &mut cmd, &mut deferred);
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                    span(Some(&sub.loc));
                    let body = self.slice(Some(&sub.loc)).unwrap_or("");
                    let prefix = match kind {
                        ast::ProcessSubstitutionKind::Read => "<",
                        ast::ProcessSubstitutionKind::Write => ">",
                    };
                    let raw = format!("{prefix}{body}");
                    words.push(Word {
                        value: raw.clone(),
                        raw,
                        ..Word::default()
                    });
                    let mut sub_state = state.clone();
                    let mut w = Walker::new(self.src, self.frame.clone(), self.out);
                    w.list(&sub.list, &mut sub_state);
                }
                _ => {}
            }
        }
        for w in &mut words {
            deferred.append(&mut w.subs);
        }
        cmd.text = if start <= end {
            let (a, b) = (self.byte(start), self.byte(end));
            self.src.get(a..b).unwrap_or("").to_owned()
        } else {
            String::new()
        };
        cmd.redirects.extend(self.outer_redirects.iter().cloned());
        let stdout = static_stdout(&words, cmd.stdin.as_deref());
        cmd.words = words;
        cmd.assigns = assigns;
        if cmd.words.is_empty() {
            // Only assignments (and redirections): they stay in effect for the rest of the line.
            *state = State {
                vars: assign_state.vars,
                ..std::mem::take(state)
            };
            if !cmd.redirects.is_empty() {
                let inv = Invocation {
                    text: cmd.text.clone(),
                    redirects: cmd.redirects,
                    via: self.frame.via.clone(),
                    remote_host: self.frame.remote_host.clone(),
                    run_as: self.frame.run_as.clone(),
                    ..Invocation::default()
                };
                self.out.invocations.push(inv);
            }
        } else {
            wrappers::build(cmd, state, &self.frame, self.out);
        }
        self.nested(deferred, state);
        stdout
    }

    fn redirect(
        &mut self,
        r: &ast::IoRedirect,
        state: &State,
        cmd: &mut RawCmd,
        deferred: &mut Deferred,
    ) {
        use ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect as R};
        let cwd = state.cwd.as_deref();
        match r {
            R::File(fd, kind, target) => match target {
                T::Filename(w) => {
                    let mut x = word::expand(&w.value, &state.scope());
                    deferred.append(&mut x.subs);
                    match kind {
                        K::Read | K::DuplicateInput => {
                            cmd.stdin_file = Some(match paths::target(&x, cwd) {
                                Target::Path(p) | Target::Unknown(p) => p,
                            });
                        }
                        K::Write
                        | K::Append
                        | K::Clobber
                        | K::ReadAndWrite
                        | K::DuplicateOutput => {
                            let default_fd = if matches!(kind, K::ReadAndWrite) {
                                0
                            } else {
                                1
                            };
                            push_redirect(
                                cmd,
                                fd.map_or(default_fd, |f| u32::try_from(f).unwrap_or(u32::MAX)),
                                &x,
                                cwd,
                                matches!(kind, K::Append),
                            );
                        }
                    }
                }
                T::Duplicate(w) => {
                    let x = word::expand(&w.value, &state.scope());
                    // `>&"${fd[1]}"`, `>&$fd`: a descriptor held in a variable (coproc, `{fd}>`),
                    // not a file name; bash redirects to a file only when the word is not a number.
                    let is_fd = x.value == "-"
                        || (!x.value.is_empty() && x.value.bytes().all(|b| b.is_ascii_digit()))
                        || (!x.known && is_lone_parameter(&w.value));
                    if !is_fd && matches!(kind, K::DuplicateOutput) {
                        push_redirect(cmd, 1, &x, cwd, false);
                    }
                }
                T::Fd(_) => {}
                T::ProcessSubstitution(_, sub) => {
                    let mut sub_state = state.clone();
                    let mut w = Walker::new(self.src, self.frame.clone(), self.out);
                    w.list(&sub.list, &mut sub_state);
                }
            },
            R::HereDocument(_, doc) => {
                if doc.requires_expansion {
                    let mut x = word::expand_heredoc(&doc.doc.value, &state.scope());
                    deferred.append(&mut x.subs);
                    cmd.stdin = Some(x.value);
                } else {
                    cmd.stdin = Some(doc.doc.value.clone());
                }
            }
            R::HereString(_, w) => {
                let mut x = word::expand(&w.value, &state.scope());
                deferred.append(&mut x.subs);
                cmd.stdin = Some(x.value);
            }
            R::OutputAndError(w, append) => {
                let mut x = word::expand(&w.value, &state.scope());
                deferred.append(&mut x.subs);
                push_redirect(cmd, 1, &x, cwd, *append);
            }
        }
    }
}

/// A word that is one parameter expansion and nothing else: `$fd`, `${fd}`, `"${COPROC[1]}"`.
fn is_lone_parameter(raw: &str) -> bool {
    let s = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let Some(s) = s.strip_prefix('$') else {
        return false;
    };
    let body = match s.strip_prefix('{') {
        Some(b) => match b.strip_suffix('}') {
            Some(b) => b,
            None => return false,
        },
        None => s,
    };
    let (name, index) = match body.split_once('[') {
        Some((n, rest)) => match rest.strip_suffix(']') {
            Some(i) => (n, Some(i)),
            None => return false,
        },
        None => (body, None),
    };
    let name_ok = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    name_ok
        && index.is_none_or(|i| {
            !i.is_empty()
                && i.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        })
}

fn push_redirect(cmd: &mut RawCmd, fd: u32, w: &Word, cwd: Option<&str>, append: bool) {
    let target = paths::target(w, cwd);
    if target == Target::Path("/dev/null".to_owned()) {
        return;
    }
    cmd.redirects.push(Redirect { fd, target, append });
}

/// What `echo …`, `printf …` or `cat` (with a known stdin) writes, when statically known.
fn static_stdout(words: &[Word], stdin: Option<&str>) -> Option<String> {
    let (first, rest) = words.split_first()?;
    if !words.iter().all(|w| w.known) {
        return None;
    }
    match first.value.as_str() {
        "echo" => {
            let args: Vec<&str> = rest
                .iter()
                .map(|w| w.value.as_str())
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            Some(args.join(" "))
        }
        "printf" => {
            let args: Vec<&str> = rest.iter().map(|w| w.value.as_str()).collect();
            match args.as_slice() {
                [fmt] => Some(fmt.replace("\\n", "\n")),
                [_, more @ ..] => Some(more.join("\n")),
                [] => None,
            }
        }
        "cat" if rest.is_empty() => stdin.map(str::to_owned),
        _ => None,
    }
}
