//! Fail-closed fallback: a small token scanner for text the parser rejects.
//!
//! It splits on unquoted `;`, `|`, `&`, `(`, `)`, backticks and newlines into commands, and each
//! command on unquoted whitespace into words (quotes kept, for `word::expand` to remove). It is
//! deliberately crude: its job is to let policy name what looked dangerous in a line that is
//! treated as unparseable anyway.

/// The commands of `text`, each a list of raw words.
pub(crate) fn scan(text: &str) -> Vec<Vec<&str>> {
    let b = text.as_bytes();
    let mut cmds = Vec::new();
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                start.get_or_insert(i);
                i += 2;
                continue;
            }
            b'\'' | b'"' => {
                start.get_or_insert(i);
                let mut j = i + 1;
                while j < b.len() && b[j] != c {
                    if c == b'"' && b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            b' ' | b'\t' | b'\n' | b'\r' | b';' | b'|' | b'&' | b'(' | b')' | b'`' | b'<'
            | b'>' => {
                if let Some(s) = start.take() {
                    words.push(&text[s..i]);
                }
                if !matches!(c, b' ' | b'\t' | b'<' | b'>') && !words.is_empty() {
                    cmds.push(std::mem::take(&mut words));
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
        i += 1;
    }
    if let Some(s) = start {
        words.push(text.get(s..).unwrap_or(""));
    }
    if !words.is_empty() {
        cmds.push(words);
    }
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands_and_words() {
        assert_eq!(
            scan("rm -rf /x 'unclosed"),
            vec![vec!["rm", "-rf", "/x", "'unclosed"]]
        );
        assert_eq!(
            scan("echo $(rm -rf /y; ls \"a b\""),
            vec![
                vec!["echo", "$"],
                vec!["rm", "-rf", "/y"],
                vec!["ls", "\"a b\""]
            ]
        );
    }
}
