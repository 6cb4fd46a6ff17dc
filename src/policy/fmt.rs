//! `prodguard policy fmt`: the canonical layout of a pack, comments kept.
//!
//! `toml_edit` keeps every comment and blank line attached to the key it precedes, so a pack
//! can be rewritten without losing what its authors wrote between the rules (the default packs
//! explain each rule in comments; a reformatter that drops them would never be run). The
//! layout:
//! - the keys of a `[[rule]]` in one order: id, severity, action, confirm, approvers, when,
//!   match, message, why, instead, tests, then anything else as it was;
//! - `key = value` with one space either side; inline tables as `{ a = 1, b = 2 }`;
//!   one-line arrays as `["a", "b"]` (multi-line arrays keep their lines);
//! - one blank line between tables, none at the end of lines, one newline at the end.
//!
//! Formatting is idempotent, and a formatted pack means exactly what it meant before (the test
//! suite checks both on the default packs).

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

/// The order of a rule's keys.
const RULE_ORDER: &[&str] = &[
    "id",
    "severity",
    "action",
    "confirm",
    "approvers",
    "when",
    "match",
    "message",
    "why",
    "instead",
    "tests",
    "escalate",
    "exempt",
];

/// Format a pack's text. Errors when it is not TOML.
pub fn format(text: &str) -> Result<String, toml_edit::TomlError> {
    let mut doc: DocumentMut = text.parse()?;
    let root = doc.as_table_mut();
    for (_, item) in root.iter_mut() {
        match item {
            Item::ArrayOfTables(a) => {
                for t in a.iter_mut() {
                    format_table(t, true);
                }
            }
            Item::Table(t) => format_table(t, false),
            Item::Value(v) => format_value(v),
            Item::None => {}
        }
    }
    normalise_keys(root);
    let mut out = String::with_capacity(text.len());
    let rendered = doc.to_string();
    let mut blank = 0;
    for line in rendered.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if blank > 0 && !out.is_empty() {
            out.push('\n');
        }
        blank = 0;
        // A table header gets one blank line before it (or before its comments).
        out.push_str(line);
        out.push('\n');
    }
    Ok(space_tables(&out))
}

/// One blank line before every table header and before the comment block that precedes it.
fn space_tables(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        let header = line.starts_with('[');
        let comment = line.starts_with('#');
        // The first line of a comment block directly above a header, or a header without one.
        let starts_block = if header {
            i > 0 && !lines[i - 1].starts_with('#')
        } else if comment {
            (i == 0 || !lines[i - 1].starts_with('#'))
                && lines[i..]
                    .iter()
                    .find(|l| !l.starts_with('#'))
                    .is_some_and(|l| l.starts_with('['))
        } else {
            false
        };
        if starts_block && i > 0 && !lines[i - 1].is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn rank(key: &str) -> usize {
    RULE_ORDER
        .iter()
        .position(|k| *k == key)
        .unwrap_or(RULE_ORDER.len())
}

fn format_table(t: &mut Table, rule: bool) {
    if rule {
        t.sort_values_by(|k1, _, k2, _| rank(k1.get()).cmp(&rank(k2.get())));
    }
    for (_, item) in t.iter_mut() {
        match item {
            Item::Value(v) => format_value(v),
            Item::Table(sub) => format_table(sub, false),
            Item::ArrayOfTables(a) => {
                for sub in a.iter_mut() {
                    format_table(sub, false);
                }
            }
            Item::None => {}
        }
    }
    normalise_keys(t);
}

/// `key = value` with single spaces; comments before a key and after a value are kept.
fn normalise_keys(t: &mut Table) {
    let keys: Vec<String> = t
        .iter()
        .filter(|(_, v)| v.is_value())
        .map(|(k, _)| k.to_string())
        .collect();
    for k in keys {
        if let Some(mut key) = t.key_mut(&k) {
            let leaf = key.leaf_decor_mut();
            leaf.set_suffix(" ");
            let prefix = leaf
                .prefix()
                .and_then(|p| p.as_str())
                .map(tidy_prefix)
                .unwrap_or_default();
            leaf.set_prefix(prefix);
        }
        if let Some(Item::Value(v)) = t.get_mut(&k) {
            let suffix = v
                .decor()
                .suffix()
                .and_then(|s| s.as_str())
                .map(tidy_suffix)
                .unwrap_or_default();
            v.decor_mut().set_prefix(" ");
            v.decor_mut().set_suffix(suffix);
        }
    }
}

/// Comment lines before a key keep their text; indentation and trailing spaces go.
fn tidy_prefix(p: &str) -> String {
    let mut out = String::new();
    for line in p.split_inclusive('\n') {
        let t = line.trim();
        if t.is_empty() {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(t);
            out.push('\n');
        }
    }
    out
}

/// A comment after a value: ` # text`; nothing else.
fn tidy_suffix(s: &str) -> String {
    match s.find('#') {
        Some(i) => format!(" {}", s[i..].trim_end()),
        None => String::new(),
    }
}

fn format_value(v: &mut Value) {
    match v {
        Value::InlineTable(t) => format_inline(t),
        Value::Array(a) => format_array(a),
        _ => {}
    }
}

fn format_inline(t: &mut InlineTable) {
    for (_, v) in t.iter_mut() {
        format_value(v);
    }
    let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    let n = keys.len();
    for (i, k) in keys.iter().enumerate() {
        if let Some(mut key) = t.key_mut(k) {
            let leaf = key.leaf_decor_mut();
            leaf.set_prefix(" ");
            leaf.set_suffix(" ");
        }
        if let Some(v) = t.get_mut(k) {
            v.decor_mut().set_prefix(" ");
            v.decor_mut().set_suffix(if i + 1 == n { " " } else { "" });
        }
    }
    if n == 0 {
        t.set_preamble("");
    }
}

fn format_array(a: &mut Array) {
    for v in a.iter_mut() {
        format_value(v);
    }
    if a.to_string().contains('\n') || a.to_string().contains('#') {
        return;
    }
    a.fmt();
    a.set_trailing("");
    a.set_trailing_comma(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_spacing_and_comments_kept() {
        let text = "# pack header\n\n[pack]\nname=\"x\"\n\n\n\n# the rule\n[[rule]]\nmessage = \"m\"   \nmatch = {program=[\"rm\",\"rmdir\"],flags = [ \"recursive\" ]}\n# why this\naction = \"deny\"  # never\nid = \"x.rm\"\ntests.match = [\"rm -r /x\"]\n[[rule]]\nid=\"y\"\naction=\"warn\"\nmatch={ program = [\"ls\"] }\nmessage=\"n\"\n";
        let out = format(text).expect("format");
        assert_eq!(
            out,
            "# pack header\n\n[pack]\nname = \"x\"\n\n# the rule\n[[rule]]\nid = \"x.rm\"\n# why this\naction = \"deny\" # never\nmatch = { program = [\"rm\", \"rmdir\"], flags = [\"recursive\"] }\nmessage = \"m\"\ntests.match = [\"rm -r /x\"]\n\n[[rule]]\nid = \"y\"\naction = \"warn\"\nmatch = { program = [\"ls\"] }\nmessage = \"n\"\n"
        );
        assert_eq!(format(&out).expect("again"), out);
    }

    #[test]
    fn not_toml_is_an_error() {
        assert!(format("[[rule]\nid = ").is_err());
    }
}
