//! The one golden-file helper of the test suites: a text a person reads, compared byte for byte
//! with `tests/golden/NAME`. `PRODGUARD_BLESS=1` writes the file instead (review the diff of
//! `tests/golden/` before committing it).
//!
//! Included with `#[path]` (`mod golden;`) by the suites that pin texts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the golden file `name` lives.
pub fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Whether this run writes the golden files instead of comparing: `PRODGUARD_BLESS=1`.
pub fn blessing() -> bool {
    std::env::var("PRODGUARD_BLESS").is_ok_and(|v| v == "1")
}

/// ESC written as `\e` and BEL as `\a`, so colour and title codes are visible in a golden file.
pub fn visible(s: &str) -> String {
    s.replace('\x1b', "\\e").replace('\x07', "\\a")
}

/// Compare `actual` with the golden file `name`; with `PRODGUARD_BLESS=1`, write it. A
/// difference fails naming the lines that are new and the lines that are gone.
#[track_caller]
pub fn golden(name: &str, actual: &str) {
    let path = path(name);
    if blessing() {
        std::fs::create_dir_all(path.parent().expect("golden dir")).expect("create golden dir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with PRODGUARD_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let have: BTreeSet<&str> = expected.lines().collect();
    let want: BTreeSet<&str> = actual.lines().collect();
    let show = |v: Vec<&&str>| v.iter().map(|l| format!("  {l}\n")).collect::<String>();
    panic!(
        "output differs from {} (PRODGUARD_BLESS=1 after review)\nnew lines:\n{}lines gone:\n{}--- actual\n{actual}",
        path.display(),
        show(want.difference(&have).take(40).collect()),
        show(have.difference(&want).take(40).collect()),
    );
}
