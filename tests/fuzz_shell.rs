//! `shell::analyze` never panics, whatever the input.

use prodguard::shell::{analyze, Context};
use proptest::prelude::*;

fn ctx() -> Context {
    Context {
        cwd: "/srv".to_owned(),
        home: Some("/root".to_owned()),
        env: Vec::new(),
        stdin_unknown: false,
    }
}

fn corpus() -> Vec<String> {
    let mut lines = Vec::new();
    for f in [
        "dangerous_agent_guard_tests.txt",
        "benign_agent_guard_tests.txt",
    ] {
        let path = format!("{}/tests/data/corpus/{f}", env!("CARGO_MANIFEST_DIR"));
        if let Ok(t) = std::fs::read_to_string(path) {
            lines.extend(t.lines().map(str::to_owned));
        }
    }
    if lines.is_empty() {
        lines.push("sudo rm -rf \"$(echo /x)\" && ssh db 'psql -c \"drop table t\"'".to_owned());
    }
    lines
}

const SHELL_CHARS: &str = "$(){}[]`'\"\\;|&<>~*?#= \n\t-!%+,.:/€é😀";

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(s in "\\PC{0,200}") {
        let _ = analyze(&s, &ctx());
    }

    #[test]
    fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = analyze(&String::from_utf8_lossy(&b), &ctx());
    }

    #[test]
    fn shellish_strings(v in proptest::collection::vec(0..SHELL_CHARS.len() + 17, 0..120)) {
        let words = ["rm", "bash -c ", "ssh h ", "sudo", "$(", "<<E\n", "$((", "perl -i", "case x in ", "a=(", "${a[@]}", "IFS=", "alias a=", "f() { ", "| xargs ", "eval ", "{a,b}"];
        let s: String = v.iter().map(|&i| match SHELL_CHARS.as_bytes().get(i) {
            Some(_) => SHELL_CHARS.get(i..).and_then(|r| r.chars().next()).map(String::from).unwrap_or_default(),
            None => words[i - SHELL_CHARS.len()].to_owned(),
        }).collect();
        let _ = analyze(&s, &ctx());
    }

    #[test]
    fn edited_corpus_lines(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..SHELL_CHARS.len(), 0u8..3), 1..6),
    ) {
        let lines = corpus();
        let mut s: Vec<char> = pick.get(&lines).chars().collect();
        for (at, c, op) in edits {
            let Some(c) = SHELL_CHARS.get(c..).and_then(|r| r.chars().next()) else { continue };
            let i = if s.is_empty() { 0 } else { at.index(s.len()) };
            match op {
                0 => s.insert(i, c),
                1 if !s.is_empty() => { s.remove(i); }
                _ if !s.is_empty() => s[i] = c,
                _ => s.push(c),
            }
        }
        let text: String = s.into_iter().collect();
        let _ = analyze(&text, &ctx());
    }
}
