//! The hash chain.
//!
//! A sealed line is the record's compact JSON with `prev` as the second-to-last member and
//! `hash` as the last:
//!
//! ```text
//! {"v":1,"time":"…",…,"prev":"<64 hex>","hash":"<64 hex>"}
//! ```
//!
//! The *canonical bytes* of a record are that line with the `,"hash":"<64 hex>"` member removed,
//! i.e. the line up to `,"hash":` followed by `}`. Then
//!
//! ```text
//! hash = hex(sha256(prev_hex || canonical bytes))
//! ```
//!
//! Because `hash` always occupies the last 75 bytes of the line and `prev` the 74 bytes before
//! them, a verifier finds both at fixed offsets from the end and hashes the line's exact bytes:
//! no JSON parsing, no re-serialisation. The first record ever has `prev` = 64 zeros.

use super::record::Record;
use sha2::{Digest, Sha256};

/// `prev` of the first record ever.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const HASH_KEY: &[u8] = b",\"hash\":\"";
const PREV_KEY: &[u8] = b",\"prev\":\"";
/// Length of `,"hash":"<64 hex>"}`.
pub const HASH_SUFFIX_LEN: usize = HASH_KEY.len() + 64 + 2;
/// Length of `,"prev":"<64 hex>"`.
const PREV_SUFFIX_LEN: usize = PREV_KEY.len() + 64 + 1;

/// Whether `s` is 64 lowercase hex digits.
pub fn is_hash(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// The parts of a sealed line, found at fixed offsets from its end.
#[derive(Debug, Clone, Copy)]
pub struct Sealed<'a> {
    /// The line up to (not including) `,"hash":"`. Canonical bytes are `body` + `}`.
    pub body: &'a [u8],
    /// The `prev` member's value.
    pub prev: &'a [u8],
    /// The `hash` member's value.
    pub hash: &'a [u8],
}

impl<'a> Sealed<'a> {
    /// Split a line (without its `\n`). `None` when it does not have the shape of a sealed
    /// record: `{"v":` at the start, `prev` and `hash` members of 64 hex digits at the end.
    pub fn parse(line: &'a [u8]) -> Option<Sealed<'a>> {
        let n = line.len();
        if n < 6 + PREV_SUFFIX_LEN + HASH_SUFFIX_LEN || !line.starts_with(b"{\"v\":") {
            return None;
        }
        let (body, suffix) = line.split_at(n - HASH_SUFFIX_LEN);
        if !suffix.starts_with(HASH_KEY) || !suffix.ends_with(b"\"}") {
            return None;
        }
        let hash = &suffix[HASH_KEY.len()..HASH_KEY.len() + 64];
        let b = body.len();
        let prev_part = &body[b - PREV_SUFFIX_LEN..];
        if !prev_part.starts_with(PREV_KEY) || !prev_part.ends_with(b"\"") {
            return None;
        }
        let prev = &prev_part[PREV_KEY.len()..PREV_KEY.len() + 64];
        if !is_hash(hash) || !is_hash(prev) {
            return None;
        }
        Some(Sealed { body, prev, hash })
    }

    /// The hash these bytes should carry.
    pub fn compute(&self) -> [u8; 32] {
        digest(self.prev, self.body)
    }

    /// Whether the stored hash matches the bytes.
    pub fn hash_ok(&self) -> bool {
        let d = self.compute();
        hex_eq(self.hash, &d)
    }
}

fn digest(prev: &[u8], body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(body);
    h.update(b"}");
    h.finalize().into()
}

/// Whether `hex_text` is the lowercase hex of `bytes`, without allocating.
pub fn hex_eq(hex_text: &[u8], bytes: &[u8; 32]) -> bool {
    let mut expected = [0u8; 64];
    hex::encode_to_slice(bytes, &mut expected).is_ok() && hex_text == expected
}

/// Chain `record` after `prev` and serialise it: sets `record.prev` and `record.hash` and
/// returns the complete line including its final `\n`.
pub fn seal(record: &mut Record, prev: &str) -> Result<Vec<u8>, serde_json::Error> {
    record.prev = prev.to_string();
    record.hash.clear();
    let mut line = serde_json::to_vec(record)?;
    // serde_json writes the struct in field order; `hash` is skipped while empty, so the
    // line ends with `,"prev":"…"}` and everything before the `}` is the body.
    line.pop();
    let d = digest(prev.as_bytes(), &line);
    record.hash = hex::encode(d);
    line.extend_from_slice(HASH_KEY);
    line.extend_from_slice(record.hash.as_bytes());
    line.extend_from_slice(b"\"}\n");
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::Event;
    use crate::host::HostContext;

    fn sample() -> Record {
        Record::new(
            Event::Command,
            &HostContext::unknown(),
            "alice".into(),
            1000,
        )
        .with_command("rm -rf \"/tmp/x\"\nsecond line")
    }

    #[test]
    fn sealed_line_verifies_and_links() {
        let mut a = sample();
        let la = seal(&mut a, ZERO_HASH).unwrap_or_default();
        let mut b = sample();
        let lb = seal(&mut b, &a.hash).unwrap_or_default();
        assert_eq!(la.iter().filter(|&&c| c == b'\n').count(), 1);
        let sa = Sealed::parse(&la[..la.len() - 1]).expect("shape");
        let sb = Sealed::parse(&lb[..lb.len() - 1]).expect("shape");
        assert!(sa.hash_ok() && sb.hash_ok());
        assert_eq!(sa.prev, ZERO_HASH.as_bytes());
        assert_eq!(sb.prev, sa.hash);
        assert_eq!(sa.hash, a.hash.as_bytes());
    }

    #[test]
    fn canonical_bytes_are_the_json_without_hash() {
        let mut a = sample();
        let line = seal(&mut a, ZERO_HASH).unwrap_or_default();
        let mut unhashed = a.clone();
        unhashed.hash.clear();
        let canonical = serde_json::to_vec(&unhashed).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(ZERO_HASH.as_bytes());
        h.update(&canonical);
        assert_eq!(hex::encode(h.finalize()), a.hash);
        // And the line parses back to the same record.
        let back: Record = serde_json::from_slice(&line).expect("json");
        assert_eq!(back, a);
    }

    #[test]
    fn any_changed_byte_breaks_the_hash() {
        let mut a = sample();
        let line = seal(&mut a, ZERO_HASH).unwrap_or_default();
        let line = &line[..line.len() - 1];
        for i in 0..line.len() {
            let mut bad = line.to_vec();
            bad[i] ^= 0x01;
            if let Some(s) = Sealed::parse(&bad) {
                assert!(!s.hash_ok(), "flipping byte {i} went unnoticed");
            }
        }
    }

    #[test]
    fn rejects_foreign_lines() {
        for l in [&b""[..], b"hello", b"{\"v\":1}", &[b'x'; 200]] {
            assert!(Sealed::parse(l).is_none());
        }
    }
}
