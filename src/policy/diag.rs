//! Policy errors, printed the way compilers print them: `file:line:col`, the line, a caret, a hint.

use std::fmt;

/// One problem in a policy file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// File name as given (or `<embedded>/name.toml`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column in characters, 0 when unknown.
    pub col: usize,
    /// What is wrong, as a sentence fragment (`unknown field \`acton\``).
    pub message: String,
    /// How to fix it, when we can tell (`did you mean \`action\`?`).
    pub help: Option<String>,
    /// The source line, for the caret display.
    pub source_line: Option<String>,
    /// Width of the underlined span, in characters (at least 1).
    pub width: usize,
    /// A warning: worth fixing, but the pack loads.
    pub warning: bool,
}

impl Diagnostic {
    /// A diagnostic at byte span `span` of `text`.
    pub fn at(file: &str, text: &str, span: std::ops::Range<usize>, message: String) -> Self {
        let (line, col) = crate::host::line_col(text, span.start);
        let source_line = text.lines().nth(line.saturating_sub(1)).map(str::to_string);
        let width = text
            .get(span.clone())
            .map(|s| s.lines().next().unwrap_or("").chars().count())
            .unwrap_or(1)
            .max(1);
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            message,
            help: None,
            source_line,
            width,
            warning: false,
        }
    }

    /// A diagnostic about a whole file (no position).
    pub fn file(file: &str, message: String) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: 0,
            col: 0,
            message,
            help: None,
            source_line: None,
            width: 1,
            warning: false,
        }
    }

    /// Make it a warning.
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }

    /// Attach a hint.
    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// The one-line form `file:line:col: message`.
    pub fn headline(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.message)
        } else {
            format!("{}:{}:{}: {}", self.file, self.line, self.col, self.message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.warning { "warning" } else { "error" };
        writeln!(f, "{kind}: {}", self.headline())?;
        if let Some(src) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {src}")?;
            let lead: String = src
                .chars()
                .take(self.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} | {lead}{}", "^".repeat(self.width))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        // Optimal string alignment: a swap of two neighbours is one edit (`hots` → `host`).
        let d = strsim::osa_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
    (d <= limit).then(|| format!("did you mean `{c}`?"))
}

/// Pull the backticked names out of a serde message such as
/// "unknown field `acton`, expected one of `id`, `action`" → ("acton", ["id", "action"]).
pub(crate) fn unknown_and_expected(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (word, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((word.to_string(), expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_span() {
        let text = "id = \"x\"\nacton = \"deny\"\n";
        let d = Diagnostic::at("p.toml", text, 9..14, "unknown field `acton`".into())
            .with_help(Some("did you mean `action`?".into()));
        assert_eq!(
            d.to_string(),
            "error: p.toml:2:1: unknown field `acton`\n  |\n2 | acton = \"deny\"\n  | ^^^^^\n  = help: did you mean `action`?\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("acton", ["id", "action"]).as_deref(),
            Some("did you mean `action`?")
        );
        assert_eq!(did_you_mean("zzzzzz", ["id", "action"]), None);
        assert_eq!(
            did_you_mean("hots", ["host", "role"]).as_deref(),
            Some("did you mean `host`?")
        );
        assert_eq!(
            did_you_mean("recusive", ["recursive", "force"]).as_deref(),
            Some("did you mean `recursive`?")
        );
    }

    #[test]
    fn extracts_serde_unknown_names() {
        let (w, e) =
            unknown_and_expected("unknown variant `confrim`, expected one of `allow`, `confirm`")
                .unwrap();
        assert_eq!(w, "confrim");
        assert_eq!(e, vec!["allow", "confirm"]);
    }
}
