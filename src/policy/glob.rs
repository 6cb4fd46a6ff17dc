//! Small glob matching for names (`db-*`, `mkfs.*`, `prod?`): `*` and `?` only, no allocation.
//! Paths use `globset` instead, for `**`.

/// Whether `name` matches `pattern`, where `*` matches any run of characters and `?` one.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
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
    p[pi..].iter().all(|&c| c == '*')
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
    }
}
