//! Splitting a pack into its header and its `[[rule]]` blocks. Shared with `build.rs`, so it
//! depends on nothing.

/// Byte ranges of the header (everything before the first `[[rule]]` line) and of each rule
/// block (from its `[[rule]]` line to the next one, or the end).
pub fn split_blocks(text: &str) -> (std::ops::Range<usize>, Vec<std::ops::Range<usize>>) {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "[[rule]]" {
            starts.push(offset);
        }
        offset += line.len();
    }
    let header = 0..starts.first().copied().unwrap_or(text.len());
    let blocks = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| s..starts.get(i + 1).copied().unwrap_or(text.len()))
        .collect();
    (header, blocks)
}
