//! Resolution of file operands to absolute, normalised paths.

use super::word::Word;
use super::Target;

/// Joins `path` to `cwd` when relative and folds `.`, `..` and repeated slashes. `None` when the
/// path is relative and the working directory is not known.
pub(crate) fn resolve(path: &str, cwd: Option<&str>) -> Option<String> {
    let joined;
    let full = if path.starts_with('/') {
        path
    } else {
        joined = format!("{}/{}", cwd?, path);
        &joined
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = String::with_capacity(full.len());
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

/// Whether a word is known to expand to the empty string (`"$UNSET"`): no file has an empty
/// name, so a program given it fails on it and changes nothing there.
pub(crate) fn names_nothing(w: &Word) -> bool {
    w.known && w.value.is_empty()
}

/// The target a word names: a resolved path when statically known, else its source text.
pub(crate) fn target(w: &Word, cwd: Option<&str>) -> Target {
    // `tee >(cmd)`: a process substitution expands to a pipe, `/dev/fd/N`; the command inside is
    // judged on its own.
    if (w.raw.starts_with("<(") || w.raw.starts_with(">(")) && w.raw.ends_with(')') {
        return Target::Path("/dev/fd/63".to_owned());
    }
    if !w.known || w.value.is_empty() {
        return Target::Unknown(w.raw.clone());
    }
    match resolve(&w.value, cwd) {
        Some(p) => Target::Path(p),
        None => Target::Unknown(w.raw.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_dots_and_joins() {
        assert_eq!(
            resolve("postgresql", Some("/var/lib")).as_deref(),
            Some("/var/lib/postgresql")
        );
        assert_eq!(resolve("*", Some("/")).as_deref(), Some("/*"));
        assert_eq!(
            resolve("../../..//x/./y/", Some("/a/b")).as_deref(),
            Some("/x/y")
        );
        assert_eq!(resolve("/..", None).as_deref(), Some("/"));
        assert_eq!(resolve("x", None), None);
    }
}
