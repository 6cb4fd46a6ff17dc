//! Whether a `find` acts, under one of its roots, on a file a rule is about, decided on the
//! files there now: `find / -name '*.core' -exec rm {} \;` on a database host deletes no file
//! of the data directory unless one is named so. Only the places a rule names (the literal
//! start of its patterns, the host's protected entries) are walked, and only so far: past
//! [`MAX_ENTRIES`] files the answer is "it may". A search that starts among the rule's files
//! always may: it is judged by where it starts, as before.

use crate::shell::findexpr::{Entry, FindExpr, Kind};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Most files looked at for one question.
pub(crate) const MAX_ENTRIES: usize = 100_000;

/// Where to look, and what counts.
pub(crate) struct Question<'a> {
    /// The search root (absolute, as the rule sees it).
    pub root: &'a str,
    pub expr: &'a FindExpr,
    /// Where the rule's files may be: absolute, literal directories or files.
    pub bases: Vec<String>,
    /// Whether acting on this path is what the rule is about (a directory that holds the
    /// rule's files counts: `rm -rf` of it destroys them).
    pub interesting: &'a dyn Fn(&str) -> bool,
    /// Whether the files in this directory are the rule's (the data directory itself, not
    /// `/var` above it): a search that starts there is judged by where it starts.
    pub among: &'a dyn Fn(&str) -> bool,
    /// Whether a path strictly below this directory may be one the rule is about: the walk
    /// goes no deeper where none can be.
    pub deeper: &'a dyn Fn(&str) -> bool,
    /// This host's path on this machine (`None`: nothing can be looked at).
    pub real: &'a dyn Fn(&str) -> Option<PathBuf>,
}

/// The literal directory a pattern starts with: `/var/lib/postgresql/*/main` → its first
/// three components, `/data*` → `/`.
pub(crate) fn literal_base(pattern: &str) -> Option<String> {
    if !pattern.starts_with('/') {
        return None;
    }
    let cut = pattern.find(['*', '?', '[', '{']).unwrap_or(pattern.len());
    let literal = &pattern[..cut];
    let base = if cut == pattern.len() {
        literal.trim_end_matches('/')
    } else {
        &literal[..literal.rfind('/').unwrap_or(0)]
    };
    Some(if base.is_empty() { "/" } else { base }.to_owned())
}

/// Whether a path strictly below the directory `dir` may match the absolute glob `pattern`
/// (`*`, `?` and `[…]` within one component, `**` across them): `/home/*` holds nothing
/// below `/home/alice`, `/var/lib/*/data` may below `/var/lib/app`.
pub(crate) fn may_match_below(pattern: &str, dir: &str) -> bool {
    if !pattern.starts_with('/') || pattern.contains('{') {
        return true;
    }
    let p: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let d: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for (i, dc) in d.iter().enumerate() {
        let Some(pc) = p.get(i) else {
            return false;
        };
        if pc.contains("**") {
            return true;
        }
        if !component_may_match(pc, dc) {
            return false;
        }
    }
    p.len() > d.len()
}

/// One component of a glob against a name; a class (`[…]`) or an escape may match anything.
fn component_may_match(pattern: &str, name: &str) -> bool {
    pattern.contains(['[', '\\']) || crate::host::state::component_matches(pattern, name)
}

fn under(path: &str, dir: &str) -> bool {
    dir == "/" || path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn depth_below(path: &str, root: &str) -> usize {
    let rest = if root == "/" {
        path.trim_start_matches('/')
    } else {
        path.strip_prefix(root)
            .unwrap_or("")
            .trim_start_matches('/')
    };
    if rest.is_empty() {
        0
    } else {
        rest.split('/').count()
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

struct Looker<'q, 'a> {
    q: &'q Question<'a>,
    seen: usize,
    users: HashMap<u32, bool>,
    groups: HashMap<u32, bool>,
}

/// What stops the walk early.
enum Stop {
    /// An entry the rule is about is acted on.
    Reached,
    /// Too much to look at, or something could not be read: it may be.
    Unsure,
}

impl Looker<'_, '_> {
    /// Judges one path; for a directory, the names in it (when it is to be walked). A path
    /// on the way to a base (`walk` false) holds the rule's files: acting on it counts.
    fn judge(&mut self, path: &str, walk: bool) -> Result<Option<Vec<String>>, Stop> {
        self.seen += 1;
        if self.seen > MAX_ENTRIES {
            return Err(Stop::Unsure);
        }
        let real = (self.q.real)(path).ok_or(Stop::Unsure)?;
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err(Stop::Unsure),
        };
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else if ft.is_symlink() {
            Kind::Link
        } else {
            use std::os::unix::fs::FileTypeExt;
            Kind::Other(if ft.is_block_device() {
                'b'
            } else if ft.is_char_device() {
                'c'
            } else if ft.is_fifo() {
                'p'
            } else {
                's'
            })
        };
        let depth = depth_below(path, self.q.root);
        let children = if kind == Kind::Dir {
            Some(names(&real).ok_or(Stop::Unsure)?)
        } else {
            None
        };
        let (uid, gid) = (meta.uid(), meta.gid());
        let user_known = *self.users.entry(uid).or_insert_with(|| {
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).is_ok_and(|u| u.is_some())
        });
        let group_known = *self.groups.entry(gid).or_insert_with(|| {
            nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)).is_ok_and(|g| g.is_some())
        });
        let entry = Entry {
            path,
            depth,
            kind,
            size: meta.len(),
            uid,
            gid,
            empty: children.as_ref().map_or(meta.len() == 0, Vec::is_empty),
            user_known,
            group_known,
        };
        if (!walk || (self.q.interesting)(path)) && self.q.expr.may_act_on(&entry) {
            return Err(Stop::Reached);
        }
        Ok(
            if walk && depth < self.q.expr.max_depth() && (self.q.deeper)(path) {
                children
            } else {
                None
            },
        )
    }

    fn tree(&mut self, top: &str) -> Result<(), Stop> {
        let mut todo = vec![top.to_owned()];
        while let Some(path) = todo.pop() {
            if let Some(names) = self.judge(&path, true)? {
                todo.extend(names.iter().map(|n| join(&path, n)));
            }
        }
        Ok(())
    }
}

fn names(dir: &Path) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).ok()? {
        out.push(e.ok()?.file_name().into_string().ok()?);
    }
    Some(out)
}

/// Whether the find may act on a file the rule is about, under `q.root`.
pub(crate) fn may_reach(q: Question<'_>) -> bool {
    let root = match q.root.trim_end_matches('/') {
        "" => "/",
        r => r,
    };
    // A search that starts among the rule's files is judged by where it starts: what is there
    // at check time is not what is there when it runs (`find <data dir> -name '*.log' -delete`).
    if (q.among)(root) {
        return true;
    }
    let q = Question { root, ..q };
    let mut l = Looker {
        q: &q,
        seen: 0,
        users: HashMap::new(),
        groups: HashMap::new(),
    };
    let mut bases: Vec<&str> = Vec::new();
    for b in &q.bases {
        // A base above the root: the root is where the rule's files may be.
        let b = if under(root, b) { root } else { b.as_str() };
        if under(b, root) && !bases.contains(&b) {
            bases.push(b);
        }
    }
    let outcome: Result<(), Stop> = (|| {
        for base in bases {
            // The directories between the root and the base: acting on one acts on the base.
            let mut dir = root.to_owned();
            let rest = base
                .strip_prefix(root)
                .unwrap_or("")
                .trim_start_matches('/');
            let mut missing = false;
            for part in rest.split('/').filter(|p| !p.is_empty()) {
                if !exists(&q, &dir)? {
                    missing = true;
                    break;
                }
                l.judge(&dir, false)?;
                dir = join(&dir, part);
            }
            if !missing {
                l.tree(base)?;
            }
        }
        Ok(())
    })();
    !matches!(outcome, Ok(()))
}

fn exists(q: &Question<'_>, path: &str) -> Result<bool, Stop> {
    let real = (q.real)(path).ok_or(Stop::Unsure)?;
    Ok(std::fs::symlink_metadata(real).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(s: &str) -> FindExpr {
        FindExpr::of_words(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn literal_bases() {
        assert_eq!(
            literal_base("/var/lib/postgresql/**").as_deref(),
            Some("/var/lib/postgresql")
        );
        assert_eq!(
            literal_base("/var/lib/postgresql").as_deref(),
            Some("/var/lib/postgresql")
        );
        assert_eq!(literal_base("/data*").as_deref(), Some("/"));
        assert_eq!(literal_base("/etc/*").as_deref(), Some("/etc"));
        assert_eq!(literal_base("relative/*"), None);
    }

    #[test]
    fn what_may_lie_below() {
        assert!(!may_match_below("/home/*", "/home/alice"));
        assert!(may_match_below("/home/*", "/home"));
        assert!(may_match_below("/home/*", "/"));
        assert!(!may_match_below("/home/*", "/usr"));
        assert!(may_match_below("/var/lib/*/data", "/var/lib/app"));
        assert!(!may_match_below("/var/lib/*/data", "/var/lib/app/data"));
        assert!(may_match_below(
            "/var/lib/postgresql/**",
            "/var/lib/postgresql/15/main"
        ));
        assert!(!may_match_below("/var/lib/postgresql/**", "/var/lib/mysql"));
        assert!(may_match_below("/data*", "/"));
        assert!(may_match_below("/data*/**", "/data2/x"));
        assert!(!may_match_below("/data*", "/database"));
        assert!(!may_match_below("/etc/passwd", "/etc/passwd"));
        assert!(may_match_below("/etc/{a,b}", "/etc/a"));
    }

    #[test]
    fn the_files_there_decide() {
        let host = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = host.path().join("var/lib/postgresql/15/main/base");
        std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(data.join("1259"), "x").unwrap_or_else(|e| panic!("{e}"));
        let top = host.path().to_owned();
        let real = move |p: &str| Some(top.join(p.trim_start_matches('/')));
        // As the matcher asks: a directory above the data holds it.
        let interesting =
            |p: &str| under(p, "/var/lib/postgresql") || under("/var/lib/postgresql", p);
        let among = |p: &str| under(p, "/var/lib/postgresql");
        let deeper = |p: &str| under(p, "/var/lib/postgresql") || under("/var/lib/postgresql", p);
        let ask = |root: &str, e: &str| {
            may_reach(Question {
                root,
                expr: &expr(e),
                bases: vec!["/var/lib/postgresql".into()],
                interesting: &interesting,
                among: &among,
                deeper: &deeper,
                real: &real,
            })
        };
        assert!(!ask("/", "-name core -exec rm -f {} ;"));
        assert!(!ask("/", "-name *.mp3 -size +10M -exec rm {} ;"));
        assert!(ask("/", "-name 1259 -exec rm -f {} ;"));
        assert!(ask("/", "-type f -mtime +30 -delete"));
        // `/var/lib` itself is on the way to the data: acting on it acts on the data.
        assert!(ask("/", "-type d -name lib -exec rm -rf {} ;"));
        // `/var` is at depth 1: `rm -rf /var`.
        assert!(ask("/", "-maxdepth 1 -exec rm -rf {} ;"));
        assert!(!ask(
            "/",
            "-mindepth 1 -maxdepth 1 -name tmp -exec rm -rf {} ;"
        ));
        assert!(!ask("/", "-maxdepth 2 -name lib -type f -delete"));
        assert!(ask(
            "/var/lib/postgresql/15",
            "-name base -exec rm -rf {} ;"
        ));
        // Started among the data, it may reach what is there when it runs.
        assert!(ask(
            "/var/lib/postgresql/15",
            "-name *.nothing-here -delete"
        ));
        assert!(!ask("/srv", "-exec rm -rf {} ;"));
        // Above the data, not among it: judged on what is there.
        assert!(!ask("/var", "-name core -delete"));
        assert!(!ask("/var/lib", "-name *.log -exec rm {} ;"));
        assert!(ask("/var/lib", "-name main -exec rm -rf {} ;"));
        // Nothing to look at: it may.
        let nowhere = |_: &str| None;
        assert!(may_reach(Question {
            root: "/",
            expr: &expr("-name core -delete"),
            bases: vec!["/var/lib/postgresql".into()],
            interesting: &interesting,
            among: &among,
            deeper: &deeper,
            real: &nowhere,
        }));
    }
}
