//! Redaction does not mangle ordinary commands: every line of the benign corpora
//! (`../shared/corpus`: tldr-pages examples and a guard's allowed-command tests) is redacted, and
//! the lines that change are exactly those in `tests/golden/redact_corpus.txt` — each one
//! reviewed as holding a secret (a password option, a credential URL, a token). A new rule
//! that starts eating ordinary words shows up here as a diff; `PRODGUARD_BLESS=1` rewrites the
//! file after review.

use prodguard::audit::redact::redact;
use std::path::{Path, PathBuf};

mod support;

const FILES: &[&str] = &["benign_tldr_examples.txt", "benign_agent_guard_tests.txt"];

/// The corpus directory: `../shared/corpus` next to the checkout (or one level further up).
fn corpus_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("../shared/corpus"),
        root.join("../../shared/corpus"),
    ]
    .into_iter()
    .find(|d| d.join(FILES[0]).is_file())
}

#[test]
fn benign_commands_are_not_mangled() {
    let Some(dir) = corpus_dir() else {
        return support::skip("the benign corpus (../shared/corpus) is not there");
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
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/redact_corpus.txt");
    let header = format!(
        "# Benign corpus lines that redaction changes ({count} of {total}); each holds a secret.\n"
    );
    let want = format!("{header}{changed}");
    if std::env::var("PRODGUARD_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&golden, &want).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let have = std::fs::read_to_string(&golden).unwrap_or_default();
    if have != want {
        let have_lines: std::collections::BTreeSet<&str> = have.lines().collect();
        let want_lines: std::collections::BTreeSet<&str> = want.lines().collect();
        let new: Vec<&&str> = want_lines.difference(&have_lines).take(40).collect();
        let gone: Vec<&&str> = have_lines.difference(&want_lines).take(40).collect();
        panic!(
            "redaction of the benign corpus changed (PRODGUARD_BLESS=1 after review)\nnew:\n{}\ngone:\n{}",
            new.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n"),
            gone.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n")
        );
    }
    // Well under one line in a hundred: redaction is not a filter on ordinary text.
    assert!(count * 100 < total, "{count} of {total} lines changed");
}
