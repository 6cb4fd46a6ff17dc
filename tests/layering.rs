//! The module order of src/lib.rs holds: no module imports one listed after it, so there is no
//! import circle in src/, and src/cli (the last) holds no decision logic of its own: nothing in it
//! decides, checks preconditions or records a decision but through `guard`.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules, in the order src/lib.rs declares them.
fn order() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The files of top-level module `m`.
fn files_of(m: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src().join(format!("{m}.rs"));
    if file.is_file() {
        out.push(file);
    }
    let dir = src().join(m);
    if dir.is_dir() {
        rust_files(&dir, &mut out);
    }
    out
}

/// The top-level modules `text` names as `crate::NAME`.
fn crate_refs(text: &str, modules: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&name) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

#[test]
fn no_module_imports_one_after_it() {
    let order = order();
    assert!(order.len() > 5, "modules of src/lib.rs: {order:?}");
    let mut upward = Vec::new();
    for (i, m) in order.iter().enumerate() {
        for file in files_of(m) {
            let text = std::fs::read_to_string(&file).expect("read");
            // Code only: a doc comment may name any module.
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for r in crate_refs(&code, &order) {
                let j = order.iter().position(|o| *o == r).unwrap_or(0);
                if j > i {
                    upward.push(format!("{} uses crate::{r}", file.display()));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "modules reaching up the order of src/lib.rs:\n{}",
        upward.join("\n")
    );
}

#[test]
fn cli_builds_no_pipeline_of_its_own() {
    // The steps of the spine: only `guard` calls them.
    const STEPS: &[&str] = &[
        "decide::decide",
        "precondition::check",
        "journal::decision_record",
        "approval::gate",
        "gate::pass",
        "declared::break_glass",
    ];
    let mut files = Vec::new();
    rust_files(&src().join("cli"), &mut files);
    files.extend(files_of("login"));
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for step in STEPS {
            if text.contains(step) {
                found.push(format!("{} calls {step}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "decision steps outside src/guard:\n{}",
        found.join("\n")
    );
}
