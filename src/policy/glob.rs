//! Small glob matching for names (`db-*`, `mkfs.*`, `prod?`): `*` and `?` only, no allocation.
//! Paths use `globset` instead, for `**`.

/// Whether `name` matches `pattern`, where `*` matches any run of characters and `?` one.
/// Called for every rule and every word on the hot path: no allocation, and a plain comparison
/// when the pattern has no wildcard.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == name;
    }
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'?' {
            // One character, however many bytes it takes in UTF-8.
            pi += 1;
            ni += 1;
            while ni < n.len() && (n[ni] & 0xC0) == 0x80 {
                ni += 1;
            }
        } else if pi < p.len() && p[pi] != b'*' && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether `pattern` contains glob characters.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(name_matches("db-*", "db-primary"));
        assert!(name_matches("mkfs*", "mkfs.ext4"));
        assert!(name_matches("*", ""));
        assert!(name_matches("prod?", "prod1"));
        assert!(!name_matches("db-*", "web-1"));
        assert!(!name_matches("rm", "rmdir"));
        assert!(name_matches("a*b*c", "axxbyyc"));
        assert!(!name_matches("a*b*c", "axxbyy"));
        assert!(name_matches("caf?", "café"));
        assert!(name_matches("delete", "delete"));
        assert!(!name_matches("delete", "deletes"));
    }
}
