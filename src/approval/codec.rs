//! Text encodings for ids and blobs: RFC 4648 base32 (lowercase, no padding) for short ids and
//! base64 (standard alphabet, padded) for the armored request blob. Small enough to keep here
//! rather than add a dependency.
#![forbid(unsafe_code)]

const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard base64; whitespace is ignored, padding optional. `None` on any other byte.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut padding = false;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding = true;
            continue;
        }
        if padding {
            return None;
        }
        let v = B64.iter().position(|&x| x == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
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
