//! Parsing with safeguards, and the walk over brush-parser's tree down to simple commands.

use brush_parser::ast::{self, SourceLocation};

use super::output;
use super::paths;
use super::scan;
use super::syntax;
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
/// Most texts and simple commands one analysis looks at (aliases, functions and `eval` can
/// multiply them); beyond it the analysis stops, fail closed.
pub(crate) const MAX_WORK: usize = 4096;
/// Longest one analysis may take, whatever the text; beyond it the analysis stops, fail closed.
pub(crate) const MAX_TIME: std::time::Duration = std::time::Duration::from_millis(250);
/// Deepest nesting of command substitutions evaluated for their output (`$(echo $(echo rm))`).
const MAX_SUBST_DEPTH: usize = 4;
/// Most program paths a glob in the program position is expanded to.
const MAX_GLOB_MATCHES: usize = 256;

/// Where the shell stands while walking a line: what `cd` and `X=…` did so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub cwd: Option<String>,
    pub home: Option<String>,
    /// Variables assigned so far; `None` = assigned a value that is not known.
    pub vars: Vec<(String, Option<String>)>,
    /// Variables of the interactive shell that it does not export: a shell started from the
    /// line (`bash -c`) does not have them.
    pub unexported: Vec<String>,
    /// Arrays assigned so far (`a=(…)`); `None` = elements not known.
    pub arrays: Vec<(String, Option<Vec<String>>)>,
    /// Aliases defined so far: name and replacement text.
    pub aliases: Vec<(String, String)>,
    /// Functions defined so far: name and body text.
    pub functions: Vec<(String, String)>,
    /// The line's own stdin is data the guard cannot see ([`super::Context::stdin_unknown`]).
    pub stdin_unknown: bool,
    /// Paths found under known roots that a word or variable stands for (`rm $(find …)`,
    /// `for f in $(find …)`, `find … | while read f`): entry K is named by the stand-in
    /// `ROOT/\u{2}K\u{2}` ([`stand_ins`]).
    pub found: Vec<wrappers::Found>,
}

impl State {
    pub(crate) fn scope(&self) -> Scope<'_> {
        Scope {
            vars: &self.vars,
            arrays: &self.arrays,
            home: self.home.as_deref(),
            cwd: self.cwd.as_deref(),
            subst: Some(static_output),
            depth: 0,
        }
    }
}

/// The words of each command of `body` when it is one pipeline of simple commands without
/// assignments or redirections (what a substitution may be worked out from), expanded in
/// `scope`; `None` otherwise.
fn plain_pipeline(body: &str, scope: &Scope<'_>) -> Option<Vec<Vec<Word>>> {
    if body.len() > 4096 || precheck(body).is_err() {
        return None;
    }
    let program = std::panic::catch_unwind(|| {
        brush_parser::Parser::new(body.as_bytes(), &parser_options()).parse_program()
    })
    .ok()?
    .ok()?;
    let [command] = program.complete_commands.as_slice() else {
        return None;
    };
    let [item] = command.0.as_slice() else {
        return None;
    };
    if !item.0.additional.is_empty() || matches!(item.1, ast::SeparatorOperator::Async) {
        return None;
    }
    let mut out = Vec::new();
    for cmd in &item.0.first.seq {
        let ast::Command::Simple(sc) = cmd else {
            return None;
        };
        if sc.prefix.is_some() {
            return None;
        }
        let mut words = Vec::new();
        if let Some(w) = &sc.word_or_name {
            words.extend(word::fields(&w.value, scope));
        }
        for item in sc.suffix.iter().flat_map(|s| &s.0) {
            match item {
                ast::CommandPrefixOrSuffixItem::Word(w)
                | ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    words.extend(word::fields(&w.value, scope));
                }
                _ => return None,
            }
        }
        out.push(words);
    }
    Some(out)
}

/// The output of a command substitution body, when it is a pipeline of `echo`, `printf`,
/// `cat`, `basename`, `dirname` with known words, or `pwd` (`$(echo rm)`, `` `printf '%s' rm` ``,
/// `$(dirname "$0")`). Anything else is impure, or not worth knowing: `None`.
pub(crate) fn static_output(body: &str, scope: &Scope<'_>) -> Option<String> {
    if scope.depth >= MAX_SUBST_DEPTH {
        return None;
    }
    let inner = Scope {
        depth: scope.depth + 1,
        ..*scope
    };
    let mut text: Option<String> = None;
    for words in plain_pipeline(body, &inner)? {
        if !words.iter().all(|w| w.known) {
            return None;
        }
        let values: Vec<&str> = words.iter().map(|w| w.value.as_str()).collect();
        match values.as_slice() {
            // `$(pwd)`: the working directory the walk stands in (`cd` on the line included);
            // `pwd -P` without its symbolic links, as the kernel has it now.
            ["pwd"] | ["pwd", "-L"] => {
                text = Some(format!("{}\n", scope.cwd?));
                continue;
            }
            ["pwd", "-P"] => {
                let real = std::fs::canonicalize(scope.cwd?).ok()?;
                text = Some(format!("{}\n", real.to_str()?));
                continue;
            }
            // `$(which rm)`, `$(type -P find)`: the program PATH finds now (nothing when none
            // is found: they print nothing and fail).
            ["which", names @ ..] | ["type", "-P", names @ ..]
                if !names.is_empty() && names.iter().all(|n| !n.starts_with('-')) =>
            {
                text = Some(names.iter().filter_map(|n| on_path(n)).collect());
                continue;
            }
            // `$(command -v find)` names builtins and functions too: known only when PATH
            // finds every name.
            ["command", "-v", names @ ..] if !names.is_empty() => {
                text = Some(
                    names
                        .iter()
                        .map(|n| on_path(n))
                        .collect::<Option<String>>()?,
                );
                continue;
            }
            _ => {}
        }
        text = Some(output::stdout(&words, text.as_deref())?);
    }
    text
}

/// Marks a stand-in for a path found: `ROOT/\u{2}K\u{2}` names an entry of [`State::found`].
pub(crate) const FOUND_MARK: char = '\u{2}';

/// The stand-ins for the paths `found` names, one per root (`None` for a root not known):
/// each a path under its root, so that what only looks at the text (a redirection, `cd`) sees a
/// name there, and the invocation it reaches is judged on what `find` selects there.
pub(crate) fn stand_ins(state: &mut State, found: wrappers::Found) -> Vec<Option<String>> {
    let k = state.found.len();
    let out = found
        .roots
        .iter()
        .map(|t| match t {
            Target::Path(p) => Some(format!("{}/{FOUND_MARK}{k}{FOUND_MARK}", found.written(p))),
            Target::Unknown(_) => None,
        })
        .collect();
    state.found.push(found);
    out
}

/// What a word that is one command substitution writes, when that is path names found under
/// known roots: `$(find ROOT …)`, `` `ls` ``, `"$(find . -name '*.pyc' | sort)"`.
pub(crate) fn substitution_found(raw: &str, state: &State) -> Option<wrappers::Found> {
    let unquoted = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let body = if let Some(b) = unquoted
        .strip_prefix("$(")
        .and_then(|r| r.strip_suffix(')'))
    {
        b
    } else {
        unquoted
            .strip_prefix('`')
            .and_then(|r| r.strip_suffix('`'))?
    };
    // One substitution only: `$(a) $(b)` is not one.
    if body.contains("$(") || body.contains('`') {
        return None;
    }
    let mut found: Option<wrappers::Found> = None;
    for words in plain_pipeline(body, &state.scope())? {
        let raw = RawCmd {
            stdin_found: found.take(),
            piped_stdin: true,
            ..RawCmd::default()
        };
        found = Some(wrappers::found_output(&words, &raw, state.cwd.as_deref())?);
    }
    found
}

/// Where `PATH` (this process's, the shell's it was started from) finds the program `name`, as
/// `which` prints it: `NAME`'s path and a newline; a name with a `/` as itself when executable.
fn on_path(name: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let runs = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        return runs(std::path::Path::new(name)).then(|| format!("{name}\n"));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| runs(p))
        .and_then(|p| p.to_str().map(|p| format!("{p}\n")))
}

/// What one command of a pipeline writes into the pipe, as far as it is known.
#[derive(Debug, Clone)]
enum Piped {
    /// Nothing is known of it.
    Unknown,
    /// This text (`echo /x |`).
    Text(String),
    /// Path names under known roots (`find ROOT … |`, and `grep`, `sort`, `head` of them).
    Found(wrappers::Found),
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
    /// Functions and aliases defined, with the state and frame of their definition: those never
    /// used on the line are analysed as written at the end (a later line may use them).
    pub defined: Vec<Definition>,
    /// Names of the functions and aliases used on the line.
    pub used: Vec<String>,
    /// Texts and simple commands looked at so far.
    pub work: usize,
    /// When the analysis must stop.
    pub deadline: Option<std::time::Instant>,
    /// The bound that stopped the analysis, once one did.
    pub exhausted: bool,
    /// The shell the line is meant for (`bash`, `zsh`), asked about lines the parser rejects.
    pub shell: String,
}

/// A function or alias defined on the line.
#[derive(Debug)]
pub(crate) struct Definition {
    pub name: String,
    pub body: String,
    pub state: State,
    pub frame: Frame,
}

impl Out {
    pub(crate) fn problem(&mut self, p: Problem) {
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    /// Counts one unit of work; false (and a problem, once) when a bound is reached.
    pub(crate) fn spend(&mut self) -> bool {
        if self.exhausted {
            return false;
        }
        self.work += 1;
        let late = self
            .deadline
            .is_some_and(|d| self.work.is_multiple_of(16) && std::time::Instant::now() > d);
        if self.work > MAX_WORK || late {
            self.exhausted = true;
            self.problem(Problem::Unparseable {
                reason: if late {
                    format!(
                        "analysis stopped at its time bound ({} ms)",
                        MAX_TIME.as_millis()
                    )
                } else {
                    format!("analysis stopped at its work bound ({MAX_WORK} commands)")
                },
            });
            return false;
        }
        true
    }
}

/// Analyses `text` as a shell script in `state`, reached through `frame`.
pub(crate) fn analyze_text(text: &str, state: &mut State, frame: &Frame, out: &mut Out) {
    if !out.spend() {
        return;
    }
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
            // A backslash at the very end of the text: bash drops it (`bash -c 'ls \'` runs
            // `ls`); typed at a prompt, the line goes on on the next one, which is checked alone.
            if let Some(cut) = dangling_backslash(text) {
                analyze_text(cut, state, frame, out);
                return;
            }
            // A whole single line the real shell rejects too runs nothing. (In a text of several
            // lines, those before the error run: that stays unreadable.)
            if frame.depth == 0 && !text.trim_end().contains('\n') && !out.shell.is_empty() {
                if let syntax::Answer::Rejects(message) = syntax::ask(text, &out.shell) {
                    out.problem(Problem::ShellRejects {
                        shell: out.shell.clone(),
                        message,
                    });
                    fallback(text, state, frame, out);
                    // Typed at a prompt, an unclosed quote continues on the next line, which is
                    // then checked alone: what follows the quote is judged as commands too.
                    let unquoted = text.replace(['\'', '"'], " ");
                    if unquoted != text {
                        let before = out.invocations.len();
                        fallback(&unquoted, state, frame, out);
                        let fresh = out.invocations.split_off(before);
                        for inv in fresh {
                            if !out
                                .invocations
                                .iter()
                                .any(|i| i.args == inv.args && i.program == inv.program)
                            {
                                out.invocations.push(inv);
                            }
                        }
                    }
                    return;
                }
            }
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

/// Most items of a `for` loop judged one by one.
const MAX_LOOP_ITEMS: usize = 16;

/// The one variable a `while` condition that is only `[IFS=…] read [options] NAME` sets.
fn read_name(cond: &ast::CompoundList) -> Option<String> {
    let [item] = cond.0.as_slice() else {
        return None;
    };
    if !item.0.additional.is_empty() {
        return None;
    }
    let [ast::Command::Simple(sc)] = item.0.first.seq.as_slice() else {
        return None;
    };
    if sc.word_or_name.as_ref().map(|w| w.value.as_str()) != Some("read") {
        return None;
    }
    let prefix_ok = sc.prefix.iter().flat_map(|p| &p.0).all(|i| {
        matches!(i, ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) if matches!(&a.name, ast::AssignmentName::VariableName(n) if n == "IFS"))
    });
    if !prefix_ok {
        return None;
    }
    let mut words = Vec::new();
    for i in sc.suffix.iter().flat_map(|s| &s.0) {
        match i {
            ast::CommandPrefixOrSuffixItem::Word(w) => words.push(w.value.as_str()),
            _ => return None,
        }
    }
    let mut k = 0;
    let mut names = Vec::new();
    while let Some(w) = words.get(k) {
        match *w {
            "-r" | "-s" | "-e" => {}
            "-d" | "-p" | "-t" | "-u" | "-n" | "-N" => k += 1,
            "-a" => return None,
            o if o.starts_with('-') && o.len() > 1 => {
                if !o[1..].bytes().all(|b| matches!(b, b'r' | b's' | b'e')) {
                    return None;
                }
            }
            n => names.push(n),
        }
        k += 1;
    }
    match names.as_slice() {
        [n] if !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !n.as_bytes()[0].is_ascii_digit() =>
        {
            Some((*n).to_owned())
        }
        _ => None,
    }
}

/// `text` without a backslash that ends it unescaped (trailing blanks after it aside).
fn dangling_backslash(text: &str) -> Option<&str> {
    let t = text.trim_end_matches([' ', '\t', '\n']);
    let run = t.len() - t.trim_end_matches('\\').len();
    (run % 2 == 1).then(|| &t[..t.len() - 1])
}

fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

/// Bounds checked before parsing: length, nesting depth, and an fd number brush 0.4.0 panics on.
///
/// Nesting is counted as the shell reads it: brackets and keywords inside single quotes, inside
/// double quotes (except `$( )`, `${ }` and backticks there) and after a backslash are text, not
/// nesting, so a quoted JSON literal or a PL/pgSQL body is no deeper than the line around it.
fn precheck(text: &str) -> Result<(), String> {
    if text.len() > MAX_LEN {
        return Err(format!(
            "command is {} bytes long, more than the {MAX_LEN} bytes analysed",
            text.len()
        ));
    }
    let n = nesting(text)?;
    if n.depth > MAX_NESTING {
        return Err(format!("command nests more than {MAX_NESTING} levels deep"));
    }
    if n.case_depth > MAX_CASE_NESTING {
        return Err(format!(
            "case statements nest more than {MAX_CASE_NESTING} levels deep"
        ));
    }
    Ok(())
}

/// Deepest nesting of `case` statements (open ones included) handed to the parser: brush
/// backtracks over each and its time grows about 1.9× per level (12 levels: 0.1 s in a debug
/// build; 24 unclosed ones did not finish). Scripts nest a few.
pub(crate) const MAX_CASE_NESTING: usize = 6;

/// What [`nesting`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Nesting {
    /// Deepest real nesting.
    pub depth: usize,
    /// Deepest nesting of `case` statements.
    pub case_depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Paren,
    Brace,
    Bracket,
    Backtick,
    Keyword,
    Case,
    Double,
}

/// The real nesting of `text`, skipping quoted text and comments. An fd number too large for
/// brush 0.4.0 (`echo 99999999999>x`, which panics there) is an error.
pub(crate) fn nesting(text: &str) -> Result<Nesting, String> {
    let b = text.as_bytes();
    let mut stack: Vec<Level> = Vec::new();
    let mut max = 0usize;
    let mut max_case = 0usize;
    let mut digits = 0usize;
    let mut word_start = true;
    let mut i = 0;
    let depth = |stack: &[Level]| stack.iter().filter(|l| **l != Level::Double).count();
    while i < b.len() {
        let c = b[i];
        let in_double = stack.last() == Some(&Level::Double);
        if c.is_ascii_digit() {
            digits += 1;
        } else {
            if digits >= 10 && matches!(c, b'<' | b'>') && !in_double {
                return Err("file descriptor number out of range".to_owned());
            }
            digits = 0;
        }
        let was_start = word_start;
        word_start = !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.');
        if in_double {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'`' => stack.push(Level::Backtick),
                b'$' if matches!(b.get(i + 1), Some(b'(')) => {
                    stack.push(Level::Paren);
                    i += 1;
                }
                b'$' if matches!(b.get(i + 1), Some(b'{')) => {
                    stack.push(Level::Brace);
                    i += 1;
                }
                _ => {}
            }
            max = max.max(depth(&stack));
            i += 1;
            continue;
        }
        match c {
            b'\\' => {
                i += 2;
                word_start = false;
                continue;
            }
            b'\'' => {
                // `$'…'` honours backslash escapes; plain single quotes do not.
                let ansi = i > 0 && b[i - 1] == b'$';
                let mut j = i + 1;
                while j < b.len() && b[j] != b'\'' {
                    if ansi && b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                i = j + 1;
                word_start = false;
                continue;
            }
            b'"' => stack.push(Level::Double),
            b'#' if was_start => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                word_start = true;
                continue;
            }
            b'(' => stack.push(Level::Paren),
            b'{' => stack.push(Level::Brace),
            b'[' => stack.push(Level::Bracket),
            b'`' if stack.last() == Some(&Level::Backtick) => {
                stack.pop();
            }
            b'`' => stack.push(Level::Backtick),
            b')' | b'}' | b']' => {
                let want = match c {
                    b')' => Level::Paren,
                    b'}' => Level::Brace,
                    _ => Level::Bracket,
                };
                if stack.last() == Some(&want) {
                    stack.pop();
                }
            }
            c if was_start && c.is_ascii_alphabetic() => {
                let rest = &b[i..];
                let kw = |k: &[u8]| {
                    rest.starts_with(k)
                        && rest
                            .get(k.len())
                            .is_none_or(|n| !n.is_ascii_alphanumeric() && *n != b'_')
                };
                if kw(b"case") {
                    stack.push(Level::Case);
                    let cases = stack.iter().filter(|l| **l == Level::Case).count();
                    max_case = max_case.max(cases);
                } else if kw(b"if") || kw(b"while") || kw(b"until") || kw(b"for") || kw(b"select") {
                    stack.push(Level::Keyword);
                } else if (kw(b"fi") || kw(b"done")) && stack.last() == Some(&Level::Keyword)
                    || kw(b"esac") && stack.last() == Some(&Level::Case)
                {
                    stack.pop();
                }
            }
            _ => {}
        }
        max = max.max(depth(&stack));
        i += 1;
    }
    Ok(Nesting {
        depth: max,
        case_depth: max_case,
    })
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
        let mut upstream = Piped::Unknown;
        for (i, cmd) in p.seq.iter().enumerate() {
            let input = (i > 0).then(|| std::mem::replace(&mut upstream, Piped::Unknown));
            upstream = match cmd {
                ast::Command::Simple(sc) => self.simple(sc, state, input),
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
                    match (input, c) {
                        // `find ROOT | while read -r f; do …; done`: each line read is a path
                        // found under ROOT, as for `xargs`.
                        (Some(Piped::Found(found)), ast::CompoundCommand::WhileClause(w))
                            if read_name(&w.0).is_some() =>
                        {
                            self.read_loop(&found, w, state);
                        }
                        _ => self.compound(c, state),
                    }
                    self.outer_redirects.truncate(saved);
                    self.nested(deferred, state);
                    Piped::Unknown
                }
                ast::Command::Function(f) => {
                    // Analysed where it is called, with its arguments; if it is not called on
                    // this line, as written at the end.
                    let body = self
                        .slice(f.body.location().as_ref())
                        .unwrap_or("")
                        .to_owned();
                    let name = f.fname.value.clone();
                    self.out.defined.push(Definition {
                        name: name.clone(),
                        body: body.clone(),
                        state: state.clone(),
                        frame: self.frame.clone(),
                    });
                    state.functions.push((name, body));
                    Piped::Unknown
                }
                ast::Command::ExtendedTest(t, _) => {
                    let mut deferred = Vec::new();
                    self.test_expr(&t.expr, state, &mut deferred);
                    self.nested(deferred, state);
                    Piped::Unknown
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
                let mut items: Option<Vec<String>> = Some(Vec::new());
                for w in f.values.iter().flatten() {
                    for field in word::fields(&w.value, &state.scope()) {
                        deferred.extend(field.subs.iter().cloned());
                        // `for f in $(find ROOT …)`: each item a path found under ROOT.
                        let found = (!field.known)
                            .then(|| substitution_found(&field.raw, state))
                            .flatten();
                        match (&mut items, field.known, found) {
                            (Some(v), true, _) => v.push(field.value),
                            (Some(v), false, Some(found)) => {
                                match stand_ins(state, found)
                                    .into_iter()
                                    .collect::<Option<Vec<_>>>()
                                {
                                    Some(names) if !names.is_empty() => v.extend(names),
                                    _ => items = None,
                                }
                            }
                            _ => items = None,
                        }
                    }
                }
                // `for d in /srv/a /srv/b; do rm -rf "$d"; done`: known items, each judged (a
                // glob item stands for the names it matches, as its pattern). Otherwise the
                // variable is not known.
                let name = f.variable_name.clone();
                match items {
                    Some(items) if f.values.is_some() && items.len() <= MAX_LOOP_ITEMS => {
                        for item in items {
                            let mut st = state.clone();
                            st.vars.push((name.clone(), Some(item)));
                            self.list(&f.body.list, &mut st);
                        }
                        state.vars.push((name, None));
                    }
                    _ => {
                        state.vars.push((name, None));
                        self.list(&f.body.list, state);
                    }
                }
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

    /// `… | while read NAME; do BODY; done` fed by paths found under known roots: the loop is
    /// judged once per root with NAME a path under it (`ROOT/{}`), or not known.
    fn read_loop(
        &mut self,
        found: &wrappers::Found,
        w: &ast::WhileOrUntilClauseCommand,
        state: &mut State,
    ) {
        let Some(name) = read_name(&w.0) else {
            return;
        };
        // Each line read is a path found: judged where it is used on what the find selects.
        let mut names = stand_ins(state, found.clone());
        if names.is_empty() {
            names.push(None);
        }
        for stand_in in names {
            let mut st = state.clone();
            st.vars.push((name.clone(), stand_in));
            self.list(&w.0, &mut st);
            self.list(&w.1.list, &mut st);
        }
        state.vars.push((name, None));
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

    /// One simple command, `input` what the pipe into it carries. Returns what is known of what
    /// it writes to stdout (for `echo … |`, `find … |`).
    fn simple(
        &mut self,
        sc: &ast::SimpleCommand,
        state: &mut State,
        input: Option<Piped>,
    ) -> Piped {
        let mut cmd = RawCmd {
            piped_stdin: input.is_some(),
            ..RawCmd::default()
        };
        match input {
            Some(Piped::Text(text)) => cmd.stdin = Some(text),
            Some(Piped::Found(found)) => cmd.stdin_found = Some(found),
            Some(Piped::Unknown) | None => {}
        }
        if !self.out.spend() {
            return Piped::Unknown;
        }
        if self.alias(sc, state) {
            return Piped::Unknown;
        }
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
                            if value.starts_with('(') {
                                let append = w.value[..w.value.len() - value.len()].ends_with("+=");
                                let elems = array_elements(value, &assign_state.scope());
                                assign_array(&mut assign_state, name, elems, append);
                            } else if w.value[..w.value.len() - value.len()].contains('[') {
                                // `a[1]=x`: one element changed; the array is no longer known.
                                assign_array(&mut assign_state, name, None, false);
                            }
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
            words.extend(word::fields(&w.value, &scope_state.scope()));
        }
        if let Some(suffix) = &sc.suffix {
            for item in &suffix.0 {
                match item {
                    // brush marks `of=/dev/sda` after the name as an assignment: it is a word.
                    ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w)
                    | ast::CommandPrefixOrSuffixItem::Word(w) => {
                        span(w.loc.as_ref());
                        words.extend(word::fields(&w.value, &scope_state.scope()));
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
        // What expanded to nothing is no word: `$(which nothing) rm` runs rm.
        words.retain(|w| !w.vanished);
        // `rm $(find ROOT …)`: what the substitution writes are paths found under ROOT.
        let mut k = 1;
        while k < words.len() {
            let found = (!words[k].known)
                .then(|| substitution_found(&words[k].raw, state))
                .flatten();
            match found.map(|f| stand_ins(state, f)) {
                Some(names) if names.iter().all(Option::is_some) && !names.is_empty() => {
                    let raw = words[k].raw.clone();
                    let n = names.len();
                    words.splice(
                        k..=k,
                        names.into_iter().flatten().map(|v| Word {
                            raw: raw.clone(),
                            ..Word::literal(&v)
                        }),
                    );
                    k += n;
                }
                _ => k += 1,
            }
        }
        cmd.text = if start <= end {
            let (a, b) = (self.byte(start), self.byte(end));
            self.src.get(a..b).unwrap_or("").to_owned()
        } else {
            String::new()
        };
        cmd.redirects.extend(self.outer_redirects.iter().cloned());
        if let Some(first) = words.first() {
            if first.glob && first.known {
                let cwd = state.cwd.clone();
                if let Some(paths) = glob_program(&first.value, cwd.as_deref()) {
                    let raw = first.raw.clone();
                    let expanded = paths.iter().map(|p| Word {
                        raw: raw.clone(),
                        ..Word::literal(p)
                    });
                    words.splice(0..1, expanded);
                }
            }
        }
        let stdout = match output::stdout(&words, cmd.stdin.as_deref()) {
            Some(text) => Piped::Text(text),
            None => wrappers::found_output(&words, &cmd, state.cwd.as_deref())
                .map_or(Piped::Unknown, Piped::Found),
        };
        if words.first().is_some_and(|w| w.value == "alias") {
            self.define_aliases(&words[1..], state);
        }
        // `printf -v NAME FORMAT ARGS…` assigns what it would print.
        if let [p, v, name, rest @ ..] = &words[..] {
            if p.value == "printf" && v.value == "-v" && name.known && !rest.is_empty() {
                let mut argv = vec![Word::literal("printf")];
                argv.extend(rest.iter().cloned());
                let value = output::stdout(&argv, None);
                state.vars.push((name.value.clone(), value));
            }
        }
        // `declare -a a=(…)`, `local -a a=(…)`: an array.
        if words
            .first()
            .is_some_and(|w| matches!(w.value.as_str(), "declare" | "typeset" | "local"))
        {
            for w in &words[1..] {
                if let Some((name, value)) = assignment_name(&w.raw) {
                    if value.starts_with('(') {
                        let elems = array_elements(value, &state.scope());
                        assign_array(state, name, elems, false);
                    }
                }
            }
        }
        if let Some(body) = words.first().and_then(|w| function_body(w, state)) {
            // A function defined earlier: its body runs with these words as `$1`, `$2`, ….
            let name = words[0].value.clone();
            self.out.used.push(name.clone());
            let mut sub = assign_state.clone();
            sub.functions.retain(|(n, _)| *n != name);
            let args: Vec<&Word> = words[1..].iter().collect();
            for (k, w) in args.iter().enumerate() {
                sub.vars
                    .push(((k + 1).to_string(), w.known.then(|| w.value.clone())));
            }
            let all: Option<Vec<String>> = args
                .iter()
                .map(|w| w.known.then(|| w.value.clone()))
                .collect();
            sub.arrays.push(("@".to_owned(), all));
            for w in &mut words {
                deferred.append(&mut w.subs);
            }
            let frame = Frame {
                depth: self.frame.depth + 1,
                ..self.frame.clone()
            };
            analyze_text(&body, &mut sub, &frame, self.out);
            if !cmd.redirects.is_empty() {
                self.out.invocations.push(Invocation {
                    text: cmd.text.clone(),
                    redirects: cmd.redirects,
                    via: self.frame.via.clone(),
                    ..Invocation::default()
                });
            }
            self.nested(deferred, state);
            return Piped::Unknown;
        }
        cmd.words = words;
        cmd.assigns = assigns;
        if cmd.words.is_empty() {
            // Only assignments (and redirections): they stay in effect for the rest of the line.
            *state = State {
                vars: assign_state.vars,
                arrays: assign_state.arrays,
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

    /// A simple command whose first word is an alias defined earlier on the line: analysed as
    /// bash would read it, with the alias replaced by its text. True when it was one.
    fn alias(&mut self, sc: &ast::SimpleCommand, state: &mut State) -> bool {
        let Some(w) = &sc.word_or_name else {
            return false;
        };
        if state.aliases.is_empty()
            || !w
                .value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:+@%".contains(&b))
        {
            return false;
        }
        let Some(value) = state
            .aliases
            .iter()
            .rev()
            .find(|(n, _)| *n == w.value)
            .map(|(_, v)| v.clone())
        else {
            return false;
        };
        let (Some(whole), Some(name)) = (sc.location(), w.loc.as_ref()) else {
            return false;
        };
        let (a, b) = (self.byte(whole.start.index), self.byte(whole.end.index));
        let (na, nb) = (self.byte(name.start.index), self.byte(name.end.index));
        let (Some(before), Some(after)) =
            (self.src.get(a.min(na)..na), self.src.get(nb..b.max(nb)))
        else {
            return false;
        };
        let text = format!("{before}{value}{after}");
        self.out.used.push(w.value.clone());
        let mut sub = state.clone();
        // bash does not expand an alias again inside its own replacement.
        sub.aliases.retain(|(n, _)| *n != w.value);
        let frame = Frame {
            depth: self.frame.depth + 1,
            ..self.frame.clone()
        };
        analyze_text(&text, &mut sub, &frame, self.out);
        state.vars = sub.vars;
        state.arrays = sub.arrays;
        state.cwd = sub.cwd;
        true
    }

    /// `alias name=value …`: each known definition applies to the rest of the line.
    fn define_aliases(&mut self, args: &[Word], state: &mut State) {
        for w in args {
            let Some((name, value)) = w.value.split_once('=') else {
                continue;
            };
            if !w.known || name.is_empty() {
                continue;
            }
            self.out.defined.push(Definition {
                name: name.to_owned(),
                body: value.to_owned(),
                state: state.clone(),
                frame: self.frame.clone(),
            });
            state.aliases.push((name.to_owned(), value.to_owned()));
        }
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

/// The body of the function `w` names, when one was defined earlier on the line.
fn function_body(w: &Word, state: &State) -> Option<String> {
    if !w.known || state.functions.is_empty() {
        return None;
    }
    state
        .functions
        .iter()
        .rev()
        .find(|(n, _)| *n == w.value)
        .map(|(_, b)| b.clone())
}

/// The elements of an array assignment value `(a b "c d")`, when all are known.
fn array_elements(value: &str, scope: &Scope<'_>) -> Option<Vec<String>> {
    let inner = value.strip_prefix('(')?.strip_suffix(')')?;
    let mut out = Vec::new();
    for raw in scan::scan(inner).into_iter().flatten() {
        for w in word::fields(raw, scope) {
            if !w.known {
                return None;
            }
            out.push(w.value);
        }
    }
    Some(out)
}

fn assign_array(state: &mut State, name: &str, elems: Option<Vec<String>>, append: bool) {
    let elems = if append {
        let old = state
            .arrays
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| Some(Vec::new()));
        old.zip(elems).map(|(mut a, b)| {
            a.extend(b);
            a
        })
    } else {
        elems
    };
    state.arrays.push((name.to_owned(), elems));
}

/// The programs a glob in the program position expands to on this host now (`/bin/r?`,
/// `/usr/bin/rm*`), sorted as bash sorts them; `None` when nothing matches (bash then runs the
/// word as written) or the pattern is not a valid glob.
fn glob_program(pattern: &str, cwd: Option<&str>) -> Option<Vec<String>> {
    let absolute = pattern.starts_with('/');
    let base = if absolute {
        "/".to_owned()
    } else {
        cwd?.to_owned()
    };
    let mut found: Vec<String> = vec![String::new()];
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    for (k, part) in parts.iter().enumerate() {
        let last = k + 1 == parts.len();
        let mut next = Vec::new();
        for prefix in &found {
            let join = |name: &str| {
                if prefix.is_empty() && !absolute {
                    name.to_owned()
                } else {
                    format!("{prefix}/{name}")
                }
            };
            if !part.contains(['*', '?', '[']) {
                next.push(join(part));
                continue;
            }
            let matcher = globset::GlobBuilder::new(part)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .ok()?
                .compile_matcher();
            let dir = if prefix.is_empty() {
                base.clone()
            } else if absolute {
                prefix.clone()
            } else {
                format!("{base}/{prefix}")
            };
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(name) = e.file_name().into_string() else {
                    continue;
                };
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if matcher.is_match(&name) && (last || e.path().is_dir()) {
                    next.push(join(&name));
                    if next.len() > MAX_GLOB_MATCHES {
                        return None;
                    }
                }
            }
        }
        next.sort();
        found = next;
    }
    (!found.is_empty() && found != [String::new()]).then_some(found)
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
    // `> ""`: bash cannot open it and runs nothing.
    if paths::names_nothing(w) {
        return;
    }
    // `> "$f"` with f a path found under ROOT: a file there, `ROOT/{}`.
    let shown = Word {
        value: wrappers::shown(&w.value),
        ..w.clone()
    };
    let target = paths::target(&shown, cwd);
    if target == Target::Path("/dev/null".to_owned()) {
        return;
    }
    cmd.redirects.push(Redirect { fd, target, append });
}
