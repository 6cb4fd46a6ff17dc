//! Redaction does not mangle ordinary commands: every line of the benign corpora
//! (`tests/data/corpus`: tldr-pages examples and a guard's allowed-command tests) is redacted, and
//! the lines that change are exactly those in `tests/golden/redact_corpus.txt` — each one
//! reviewed as holding a secret (a password option, a credential URL, a token). A new rule
//! that starts eating ordinary words shows up here as a diff; `PRODGUARD_BLESS=1` rewrites the
//! file after review.

use prodguard::audit::redact::redact;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "support/golden.rs"]
mod golden;
mod support;

const FILES: &[&str] = &["benign_tldr_examples.txt", "benign_agent_guard_tests.txt"];

/// The corpus directory, `tests/data/corpus` (its README names sources and licences).
fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    dir.join(FILES[0]).is_file().then_some(dir)
}

#[test]
fn benign_commands_are_not_mangled() {
    let Some(dir) = corpus_dir() else {
        return support::skip("the benign corpus (tests/data/corpus) is not there");
    };
    let mut total = 0usize;
    let mut changed = String::new();
    let mut count = 0usize;
    for f in FILES {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        for line in text.lines() {
            total += 1;
            let r = redact(line, &[]);
            if r.text != line {
                count += 1;
                let kinds: Vec<&str> = r.kinds.iter().copied().collect();
                changed.push_str(&format!(
                    "{line}\n  -> {}   [{}]\n",
                    r.text,
                    kinds.join(",")
                ));
            }
        }
    }
    assert!(total > 30_000, "corpus too small: {total} lines");
    let header = format!(
        "# Benign corpus lines that redaction changes ({count} of {total}); each holds a secret.\n"
    );
    golden::golden("redact_corpus.txt", &format!("{header}{changed}"));
    // Well under one line in a hundred: redaction is not a filter on ordinary text.
    assert!(count * 100 < total, "{count} of {total} lines changed");
}
