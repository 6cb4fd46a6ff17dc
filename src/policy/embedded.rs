//! The packs compiled into the binary, with their build-time program index.

/// One embedded pack: its text and the byte range of each `[[rule]]` block.
pub(super) struct EmbeddedPack {
    pub file: &'static str,
    /// sha256 of `text`, computed at build time.
    pub sha256: &'static str,
    pub text: &'static str,
    pub rules: &'static [(usize, usize)],
}

include!(concat!(env!("OUT_DIR"), "/embedded_policies.rs"));

/// `(pack, rule)` positions of the rules indexed under `program` (`*` for any program).
pub(super) fn lookup(program: &str) -> &'static [(usize, usize)] {
    INDEX
        .binary_search_by(|(k, _)| (*k).cmp(program))
        .map(|i| INDEX[i].1)
        .unwrap_or(&[])
}
