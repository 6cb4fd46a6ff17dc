//! The interactive shell's own variables, as the shell integration reports them.
//!
//! A command line is judged in a separate process, which sees only the shell's exported
//! variables. The integration (`prodguard init bash`) therefore tells the guard, in
//! `PRODGUARD_SHELL_VARS`, about every variable the line names (`$NAME`, `${NAME…}`): its value
//! as the shell would expand it now, that it is unset, or that it cannot be told (arrays,
//! namerefs). One line per name:
//!
//! ```text
//! DIR='/srv/backups'            a set variable, in bash's own quoting (`${NAME@A}`)
//! declare -x X=$'a\tb'          the same, with its attributes (`x` = exported)
//! unset NAME                    not set: bash expands it to nothing
//! unknown NAME                  set, but not to one string the guard can use
//! ```
//!
//! A name the report does not mention stays unknown, as before: the report is about the names
//! the integration looked at, never a claim that nothing else is set.

use super::word::{self, Scope};

/// Variables whose value at the moment of the check says nothing about their value when the
/// line runs a moment later.
const DYNAMIC: &[&str] = &[
    "RANDOM",
    "SRANDOM",
    "SECONDS",
    "EPOCHSECONDS",
    "EPOCHREALTIME",
    "LINENO",
    "BASHPID",
    "BASH_COMMAND",
    "BASH_REMATCH",
    "HISTCMD",
    "PIPESTATUS",
    "FUNCNAME",
    "BASH_SUBSHELL",
    "READLINE_LINE",
    "READLINE_POINT",
    "BUFFER",
    "CURSOR",
];

/// What the report says about the shell's variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ShellVars {
    /// Name and value (`""` for an unset variable); `None` = set, but not known.
    pub vars: Vec<(String, Option<String>)>,
    /// Names of set variables the shell does not export: a child shell (`bash -c`) does not
    /// have them.
    pub unexported: Vec<String>,
}

/// Reads the report; lines it does not understand are left out (their names stay unknown).
pub(crate) fn parse(report: &str) -> ShellVars {
    let mut out = ShellVars::default();
    for line in report.lines() {
        if let Some((name, value, exported)) = entry(line) {
            if !exported && value.as_deref().is_some_and(|v| !v.is_empty()) {
                out.unexported.push(name.clone());
            }
            let value = if DYNAMIC.contains(&name.as_str()) {
                None
            } else {
                value
            };
            out.vars.push((name, value));
        }
    }
    out
}

/// One line: the name, its value, and whether it is exported.
fn entry(line: &str) -> Option<(String, Option<String>, bool)> {
    let line = line.trim_end_matches('\r');
    if let Some(name) = line.strip_prefix("unset ") {
        return is_name(name).then(|| (name.to_owned(), Some(String::new()), false));
    }
    if let Some(name) = line.strip_prefix("unknown ") {
        return is_name(name).then(|| (name.to_owned(), None, false));
    }
    let (flags, assignment) = match line.strip_prefix("declare ") {
        Some(rest) => {
            let (flags, assignment) = rest.split_once(' ')?;
            (flags.strip_prefix('-')?, assignment)
        }
        None => ("", line),
    };
    let (name, quoted) = assignment.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    // Arrays, associative arrays and namerefs are not one string.
    if flags.contains(['a', 'A', 'n']) {
        return Some((name.to_owned(), None, flags.contains('x')));
    }
    Some((name.to_owned(), unquote(quoted), flags.contains('x')))
}

/// The value of bash's quoting of a string (`'…'`, `$'…'`, and runs of them), or `None` when
/// the text holds anything but quoted literal text.
fn unquote(quoted: &str) -> Option<String> {
    let scope = Scope {
        vars: &[],
        arrays: &[],
        home: None,
        cwd: None,
        subst: None,
        depth: 0,
    };
    let w = word::expand(quoted, &scope);
    (w.known && w.subs.is_empty() && !w.glob).then_some(w.value)
}

/// A shell variable name, or `0` (the shell's own name).
fn is_name(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bash_quoting_attributes_and_unset_names() {
        let v = parse(concat!(
            "DIR='/srv/backups'\n",
            "declare -x X=$'a\\tb'\n",
            "Q='it'\\''s'\n",
            "unset GONE\n",
            "unknown ARR\n",
            "declare -a LIST='1'\n",
            "RANDOM='42'\n",
            "0='-bash'\n",
            "garbage line\n",
            "bad-name='x'\n",
        ));
        assert_eq!(
            v.vars,
            [
                ("DIR".to_owned(), Some("/srv/backups".to_owned())),
                ("X".to_owned(), Some("a\tb".to_owned())),
                ("Q".to_owned(), Some("it's".to_owned())),
                ("GONE".to_owned(), Some(String::new())),
                ("ARR".to_owned(), None),
                ("LIST".to_owned(), None),
                ("RANDOM".to_owned(), None),
                ("0".to_owned(), Some("-bash".to_owned())),
            ]
        );
        assert_eq!(v.unexported, ["DIR", "Q", "RANDOM", "0"]);
    }

    #[test]
    fn a_value_that_is_not_plain_quoted_text_is_unknown() {
        let v = parse("A=$(rm -rf /)\nB=\"$HOME\"\nC=*\n");
        assert!(v.vars.iter().all(|(_, v)| v.is_none()), "{v:?}");
    }
}
