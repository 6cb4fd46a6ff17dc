//! Finding the newest file that matches a backup pattern, one path component at a time: a
//! literal component is joined, a glob component (`app-*.dump`) is matched against the entries
//! of the directories found so far. `**` is refused at load. The walk is bounded by
//! [`MAX_ENTRIES`].

use std::path::PathBuf;
use std::time::SystemTime;

/// The most directory entries one pattern may look at.
pub const MAX_ENTRIES: usize = 100_000;

/// A file that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    pub modified: SystemTime,
    pub size: u64,
}

/// `s` with glob metacharacters escaped, so that it matches only itself.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` with backslash escapes removed (for display, and for literal components).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `component` has an unescaped glob metacharacter.
fn is_glob(component: &str) -> bool {
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' | '{' => return true,
            _ => {}
        }
    }
    false
}

/// The newest regular file (symlinks followed) matching the absolute `pattern`, or `None` when
/// nothing matches. An error says why the search could not be made (a directory that cannot be
/// read when nothing else matched, too many entries, a bad pattern).
pub fn newest(pattern: &str) -> Result<Option<Found>, String> {
    if !pattern.starts_with('/') {
        return Err(format!("pattern {} is not absolute", unescape(pattern)));
    }
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut candidates: Vec<PathBuf> = vec![PathBuf::from("/")];
    let mut visited = 0usize;
    let mut unreadable: Option<String> = None;
    for (i, comp) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let mut next = Vec::new();
        if !is_glob(comp) {
            let lit = unescape(comp);
            for dir in &candidates {
                let p = dir.join(&lit);
                if last || p.is_dir() {
                    next.push(p);
                }
            }
        } else {
            let glob = globset::GlobBuilder::new(comp)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid pattern {}: {e}", unescape(pattern)))?
                .compile_matcher();
            for dir in &candidates {
                let entries = match std::fs::read_dir(dir) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        unreadable
                            .get_or_insert_with(|| format!("cannot read {}: {e}", dir.display()));
                        continue;
                    }
                };
                for entry in entries.flatten() {
                    visited += 1;
                    if visited > MAX_ENTRIES {
                        return Err(format!(
                            "more than {MAX_ENTRIES} directory entries to look at for {}",
                            unescape(pattern)
                        ));
                    }
                    let name = entry.file_name();
                    let Some(name) = name.to_str() else { continue };
                    if !glob.is_match(name) {
                        continue;
                    }
                    let p = entry.path();
                    if last || p.is_dir() {
                        next.push(p);
                    }
                }
            }
        }
        candidates = next;
        if candidates.is_empty() {
            break;
        }
    }
    let mut best: Option<Found> = None;
    for p in candidates {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let Ok(modified) = meta.modified() else {
            continue;
        };
        if best.as_ref().is_none_or(|b| modified > b.modified) {
            best = Some(Found {
                path: p.to_string_lossy().into_owned(),
                modified,
                size: meta.len(),
            });
        }
    }
    match (best, unreadable) {
        (None, Some(why)) => Err(why),
        (best, _) => Ok(best),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        assert_eq!(escape("a*b[1]"), "a\\*b\\[1\\]");
        assert_eq!(unescape(&escape("we{i}rd?*")), "we{i}rd?*");
        assert!(is_glob("app-*.dump"));
        assert!(!is_glob(&escape("app-*.dump")));
    }

    #[test]
    fn finds_the_newest_and_ignores_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("app-1.dump");
        let new = dir.path().join("app-2.dump");
        std::fs::write(&old, b"old").expect("write");
        std::fs::write(&new, b"newer").expect("write");
        std::fs::create_dir(dir.path().join("app-3.dump")).expect("mkdir");
        let f = std::fs::File::options()
            .write(true)
            .open(&old)
            .expect("open");
        f.set_modified(SystemTime::now() - std::time::Duration::from_secs(3600))
            .expect("mtime");
        let pattern = format!("{}/app-*.dump", escape(&dir.path().to_string_lossy()));
        let found = newest(&pattern).expect("search").expect("a file");
        assert_eq!(found.path, new.to_string_lossy());
        assert_eq!(found.size, 5);
        let none = format!("{}/web-*.dump", escape(&dir.path().to_string_lossy()));
        assert_eq!(newest(&none), Ok(None));
    }
}
