//! Text encodings for ids and blobs: RFC 4648 base32 (lowercase, no padding) for short ids, kept
//! here (twenty lines, encode only), and base64 (standard alphabet, padded) for the armored request
//! blob, by the `base64` crate.
#![forbid(unsafe_code)]

const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Standard alphabet; padding written, and optional when read.
const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Armor lines around a request blob.
pub const ARMOR_BEGIN: &str = "-----BEGIN PRODGUARD APPROVAL REQUEST-----";
pub const ARMOR_END: &str = "-----END PRODGUARD APPROVAL REQUEST-----";

/// Lowercase base32 of `bytes`, without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(B32[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(B32[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    B64.encode(bytes)
}

/// Decode standard base64; whitespace is ignored, padding optional. `None` on any other byte.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(compact).ok()
}

/// `bytes` as an armored blob: the begin line, base64 in lines of 64, the end line.
pub fn armor(bytes: &[u8]) -> String {
    let b = base64(bytes);
    let mut out = format!("{ARMOR_BEGIN}\n");
    for line in b.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(ARMOR_END);
    out.push('\n');
    out
}

/// The bytes inside an armored blob (or bare base64).
pub fn unarmor(text: &str) -> Option<Vec<u8>> {
    let body = match (text.find(ARMOR_BEGIN), text.find(ARMOR_END)) {
        (Some(b), Some(e)) if b < e => text.get(b + ARMOR_BEGIN.len()..e)?,
        (None, None) => text,
        _ => return None,
    };
    unbase64(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (plain, b32, b64) in [
            ("", "", ""),
            ("f", "my", "Zg=="),
            ("fo", "mzxq", "Zm8="),
            ("foo", "mzxw6", "Zm9v"),
            ("foob", "mzxw6yq", "Zm9vYg=="),
            ("fooba", "mzxw6ytb", "Zm9vYmE="),
            ("foobar", "mzxw6ytboi", "Zm9vYmFy"),
        ] {
            assert_eq!(base32(plain.as_bytes()), b32, "{plain}");
            assert_eq!(base64(plain.as_bytes()), b64, "{plain}");
            assert_eq!(unbase64(b64).as_deref(), Some(plain.as_bytes()), "{plain}");
        }
        assert_eq!(unbase64("Zm9v!"), None);
        assert_eq!(unbase64("Zg==Zg"), None);
    }

    #[test]
    fn armor_round_trips() {
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let a = armor(&data);
        assert!(a.starts_with(ARMOR_BEGIN));
        assert!(a.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert_eq!(unarmor(&a), Some(data.clone()));
        assert_eq!(unarmor(&format!("junk before\n{a}junk after")), Some(data));
        assert_eq!(unarmor(&format!("{ARMOR_END}\n{ARMOR_BEGIN}")), None);
    }
}
