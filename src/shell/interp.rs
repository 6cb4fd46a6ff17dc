//! Interpreter one-liners (`python3 -c`, `perl -e`, `ruby -e`, `node -e`): the commands and
//! deletions they would perform, found by scanning the code for the usual calls.
//!
//! This is a scan, not a parse of the language: it recognises the call names that run
//! commands or delete files and reads their first arguments when they are literals. A call
//! whose argument is not a literal is reported, so that policy can fail closed.

/// A scripting language with a one-liner flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Python,
    Perl,
    Ruby,
    Node,
}

/// The language of an interpreter program name.
pub(crate) fn language(program: &str) -> Option<Lang> {
    let p = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    match p {
        "python" | "pypy" => Some(Lang::Python),
        "perl" => Some(Lang::Perl),
        "ruby" => Some(Lang::Ruby),
        "node" | "nodejs" => Some(Lang::Node),
        _ => None,
    }
}

/// What a one-liner would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// A shell command string (`os.system("…")`).
    Shell(String),
    /// A program and its arguments (`subprocess.run(["rm", "-rf", "/x"])`).
    Argv(Vec<String>),
    /// A file or tree deletion (`shutil.rmtree("/x")`).
    Remove { path: String, recursive: bool },
    /// A call whose argument is not a literal: the call's name.
    Dynamic(String),
}

#[derive(Clone, Copy)]
enum Kind {
    /// Runs its argument: one string = shell command, several strings or a list = argv.
    Run,
    Remove(bool),
}

const PYTHON: &[(&str, Kind)] = &[
    ("os.system", Kind::Run),
    ("os.popen", Kind::Run),
    ("subprocess.run", Kind::Run),
    ("subprocess.call", Kind::Run),
    ("subprocess.Popen", Kind::Run),
    ("subprocess.check_call", Kind::Run),
    ("subprocess.check_output", Kind::Run),
    ("subprocess.getoutput", Kind::Run),
    ("subprocess.getstatusoutput", Kind::Run),
    ("os.execvp", Kind::Run),
    ("shutil.rmtree", Kind::Remove(true)),
    ("os.remove", Kind::Remove(false)),
    ("os.unlink", Kind::Remove(false)),
    ("os.rmdir", Kind::Remove(false)),
    ("os.removedirs", Kind::Remove(false)),
];
const PERL: &[(&str, Kind)] = &[
    ("system", Kind::Run),
    ("exec", Kind::Run),
    ("qx", Kind::Run),
    ("unlink", Kind::Remove(false)),
    ("rmtree", Kind::Remove(true)),
    ("remove_tree", Kind::Remove(true)),
    ("rmdir", Kind::Remove(false)),
];
const RUBY: &[(&str, Kind)] = &[
    ("system", Kind::Run),
    ("exec", Kind::Run),
    ("spawn", Kind::Run),
    ("%x", Kind::Run),
    ("FileUtils.rm_rf", Kind::Remove(true)),
    ("FileUtils.rm_r", Kind::Remove(true)),
    ("FileUtils.remove_dir", Kind::Remove(true)),
    ("FileUtils.rm", Kind::Remove(false)),
    ("File.delete", Kind::Remove(false)),
    ("Dir.rmdir", Kind::Remove(false)),
];
const NODE: &[(&str, Kind)] = &[
    ("execSync", Kind::Run),
    ("exec", Kind::Run),
    ("spawnSync", Kind::Run),
    ("spawn", Kind::Run),
    ("execFileSync", Kind::Run),
    ("execFile", Kind::Run),
    ("rmSync", Kind::Remove(true)),
    ("rmdirSync", Kind::Remove(true)),
    ("unlinkSync", Kind::Remove(false)),
];

/// Scans `code` for the calls of `lang` that run commands or delete files.
pub(crate) fn scan(lang: Lang, code: &str) -> Vec<Action> {
    let table = match lang {
        Lang::Python => PYTHON,
        Lang::Perl => PERL,
        Lang::Ruby => RUBY,
        Lang::Node => NODE,
    };
    let mut found: Vec<(usize, Action)> = Vec::new();
    let b = code.as_bytes();
    for (name, kind) in table {
        let mut from = 0;
        while let Some(p) = code[from..].find(name) {
            let at = from + p;
            from = at + name.len();
            let prev_ok = at == 0 || {
                let c = b[at - 1];
                !(c.is_ascii_alphanumeric() || c == b'_')
            };
            if !prev_ok
                || b.get(from)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                continue;
            }
            // The longer names in the same table (`rm_rf` vs `rm`) are matched by their own entry.
            if table
                .iter()
                .any(|(n, _)| n.len() > name.len() && code[at..].starts_with(n))
            {
                continue;
            }
            let args = literal_args(code, from, lang);
            let action = match (kind, args) {
                (_, None) => Action::Dynamic((*name).to_owned()),
                (Kind::Run, Some(a)) => {
                    if a.list || a.strings.len() > 1 {
                        Action::Argv(a.strings)
                    } else {
                        match a.strings.into_iter().next() {
                            Some(s) => Action::Shell(s),
                            None => Action::Dynamic((*name).to_owned()),
                        }
                    }
                }
                (Kind::Remove(recursive), Some(a)) => match a.strings.into_iter().next() {
                    Some(path) => Action::Remove {
                        path,
                        recursive: *recursive,
                    },
                    None => Action::Dynamic((*name).to_owned()),
                },
            };
            found.push((at, action));
        }
    }
    if matches!(lang, Lang::Perl | Lang::Ruby) {
        // Backticks run a shell command.
        let mut i = 0;
        while let Some(p) = code[i..].find('`') {
            let start = i + p + 1;
            let end = code[start..].find('`').map_or(code.len(), |q| start + q);
            let body = &code[start..end];
            let action = if body.contains("#{") || body.contains('$') {
                Action::Dynamic("`…`".to_owned())
            } else {
                Action::Shell(body.to_owned())
            };
            found.push((start, action));
            i = (end + 1).min(code.len());
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, a)| a).collect()
}

struct Args {
    strings: Vec<String>,
    list: bool,
}

/// Reads the literal arguments of a call starting at `i` (just after the name): `("a", "b")`,
/// `(["a", "b"])`, `"a"` without parentheses (perl, ruby), `{…}`/`(…)` after `qx`/`%x`.
/// `None` when the first argument is not a string literal.
fn literal_args(code: &str, mut i: usize, lang: Lang) -> Option<Args> {
    let b = code.as_bytes();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    let mut strings = Vec::new();
    let mut list = false;
    match b.get(i)? {
        b'(' | b'{' if code[..i].ends_with('x') && matches!(lang, Lang::Perl | Lang::Ruby) => {
            let close = if b[i] == b'(' { ')' } else { '}' };
            let end = code[i + 1..].find(close).map_or(code.len(), |q| i + 1 + q);
            let body = &code[i + 1..end];
            if body.contains("#{") || body.contains('$') {
                return None;
            }
            return Some(Args {
                strings: vec![body.to_owned()],
                list: false,
            });
        }
        b'(' => {
            i += 1;
        }
        b'"' | b'\'' if matches!(lang, Lang::Perl | Lang::Ruby) => {}
        _ => return None,
    }
    loop {
        skip_ws(&mut i);
        match b.get(i) {
            Some(b'[') if strings.is_empty() || lang == Lang::Node => {
                list = true;
                i += 1;
                continue;
            }
            Some(b'"' | b'\'') => {
                let (s, next) = string_literal(code, i, lang)?;
                strings.push(s);
                i = next;
            }
            Some(b'f' | b'r' | b'b' | b'u') if lang == Lang::Python => {
                // String prefixes: r"…" is literal; f"…" is not.
                if b[i] == b'f' {
                    return if strings.is_empty() {
                        None
                    } else {
                        Some(Args { strings, list })
                    };
                }
                i += 1;
                continue;
            }
            _ => {
                return if strings.is_empty() {
                    None
                } else {
                    Some(Args { strings, list })
                }
            }
        }
        skip_ws(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                skip_ws(&mut i);
                if b.get(i) == Some(&b',') && lang == Lang::Node {
                    i += 1;
                    continue;
                }
                return Some(Args { strings, list });
            }
            _ => return Some(Args { strings, list }),
        }
    }
}

/// A quoted literal at `i`: its value and the index after it. `None` if it interpolates.
fn string_literal(code: &str, i: usize, lang: Lang) -> Option<(String, usize)> {
    let b = code.as_bytes();
    let q = b[i];
    let mut out = String::new();
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' && j + 1 < b.len() {
            let c = b[j + 1];
            out.push(match c {
                b'n' => '\n',
                b't' => '\t',
                c => c as char,
            });
            j += 2;
            continue;
        }
        if q == b'"' && matches!(lang, Lang::Perl | Lang::Ruby) {
            let rest = &code[j..];
            if rest.starts_with("#{") || (b[j] == b'$' || b[j] == b'@') && rest.len() > 1 {
                return None;
            }
        }
        let mut k = j + 1;
        while k < b.len() && !code.is_char_boundary(k) {
            k += 1;
        }
        out.push_str(&code[j..k]);
        j = k;
    }
    Some((out, (j + 1).min(b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_calls() {
        assert_eq!(
            scan(Lang::Python, "import shutil; shutil.rmtree(\"/srv/data\")"),
            [Action::Remove {
                path: "/srv/data".to_owned(),
                recursive: true
            }]
        );
        assert_eq!(
            scan(Lang::Python, "import os; os.system('rm -rf /x')"),
            [Action::Shell("rm -rf /x".to_owned())]
        );
        assert_eq!(
            scan(Lang::Python, "subprocess.run(['rm', '-rf', '/y'])"),
            [Action::Argv(vec!["rm".into(), "-rf".into(), "/y".into()])]
        );
        assert_eq!(
            scan(Lang::Python, "os.system(cmd)"),
            [Action::Dynamic("os.system".to_owned())]
        );
    }

    #[test]
    fn perl_ruby_node_calls() {
        assert_eq!(
            scan(Lang::Perl, "system \"rm -rf /x\""),
            [Action::Shell("rm -rf /x".to_owned())]
        );
        assert_eq!(
            scan(Lang::Ruby, "`rm -rf /z`"),
            [Action::Shell("rm -rf /z".to_owned())]
        );
        assert_eq!(
            scan(Lang::Ruby, "require 'fileutils'; FileUtils.rm_rf('/d')"),
            [Action::Remove {
                path: "/d".to_owned(),
                recursive: true
            }]
        );
        assert_eq!(
            scan(Lang::Node, "require('child_process').execSync('rm -rf /n')"),
            [Action::Shell("rm -rf /n".to_owned())]
        );
    }
}
