//! Indexes the embedded policy packs by program name, so that a check parses only the rules that
//! could apply to the programs it sees. The packs themselves are validated by `prodguard policy
//! lint`/`test` (and the test suite); here a block that does not parse is indexed under `*`, so the
//! runtime loader reports it with its position.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

#[path = "src/policy/blocks.rs"]
mod blocks;

#[derive(Deserialize)]
struct Block {
    #[serde(default)]
    rule: Vec<BlockRule>,
}

#[derive(Deserialize)]
struct BlockRule {
    #[serde(default, rename = "match")]
    matcher: Option<BlockMatch>,
}

#[derive(Deserialize)]
struct BlockMatch {
    #[serde(default)]
    program: Vec<String>,
}

fn main() {
    println!("cargo:rerun-if-changed=policies");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();

    let mut packs = String::new();
    let mut index: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    let mut digest = Sha256::new();
    for (pi, path) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("pack.toml")
            .to_string();
        digest.update(name.as_bytes());
        digest.update([0]);
        digest.update((text.len() as u64).to_le_bytes());
        digest.update(text.as_bytes());
        let pack_sha: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();

        let (_header, blocks) = blocks::split_blocks(&text);
        let mut rules = String::new();
        for (ri, range) in blocks.iter().enumerate() {
            let (start, end) = (range.start, range.end);
            let _ = write!(rules, "({start}, {end}), ");
            let programs = toml::from_str::<Block>(&text[start..end])
                .ok()
                .and_then(|b| b.rule.into_iter().next())
                .and_then(|r| r.matcher)
                .map(|m| m.program);
            let keys: Vec<String> = match programs {
                Some(p) if !p.is_empty() && !p.iter().any(|s| s.contains(['*', '?', '['])) => p,
                _ => vec!["*".to_string()],
            };
            for k in keys {
                let slot = index.entry(k).or_default();
                if !slot.contains(&(pi, ri)) {
                    slot.push((pi, ri));
                }
            }
        }
        let _ = writeln!(
            packs,
            "    EmbeddedPack {{ file: {name:?}, sha256: {pack_sha:?}, text: include_str!({:?}), rules: &[{rules}] }},",
            path.display().to_string()
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pub(super) static PACKS: &[EmbeddedPack] = &[\n{packs}];"
    );
    let _ = writeln!(
        out,
        "pub(super) static INDEX: &[(&str, &[(usize, usize)])] = &["
    );
    for (k, v) in &index {
        let refs: Vec<String> = v.iter().map(|(p, r)| format!("({p}, {r})")).collect();
        let _ = writeln!(out, "    ({k:?}, &[{}]),", refs.join(", "));
    }
    let _ = writeln!(out, "];");
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let _ = writeln!(out, "pub(super) const DIGEST: &str = {hex:?};");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let _ = std::fs::write(Path::new(&out_dir).join("embedded_policies.rs"), out);
}
