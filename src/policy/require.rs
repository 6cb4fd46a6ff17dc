//! Preconditions of a rule (`[[rule.require]]`): what must be true before the question is asked,
//! validated at load. Checking them is `crate::precondition`'s job; this module only knows what
//! they say.
//!
//! ```toml
//! [[rule.require]]
//! kind = "backup"                        # newest file matching `path` is fresh and big enough
//! path = "/backups/{target}-*.dump"
//! max_age = "24h"
//! min_size = "1MB"
//!
//! [[rule.require]]
//! kind = "command"                       # a probe, run without a shell; exit 0 means met
//! argv = ["pg_restore", "--list", "{file}"]
//! timeout = "10s"
//!
//! [[rule.require]]
//! kind = "file"                          # a flag file must (or must not) exist
//! path = "/etc/prodguard/maintenance"
//! exists = true
//! ```

use super::diag::{did_you_mean, Diagnostic};
use super::raw::RawRequire;
use serde::{Deserialize, Serialize, Serializer};
use std::time::Duration;
use toml::Spanned;

/// What an unmet precondition does to the rule's action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unmet {
    /// Raise the action one step: warn → confirm → approve → deny.
    #[default]
    Raise,
    /// Refuse.
    Deny,
}

impl Unmet {
    /// The policy-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Unmet::Raise => "raise",
            Unmet::Deny => "deny",
        }
    }

    /// Whether this is the default, `raise`.
    pub fn is_default(&self) -> bool {
        *self == Unmet::Raise
    }
}

/// The kind of a precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequireKind {
    Backup,
    Command,
    File,
}

impl RequireKind {
    /// The policy-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RequireKind::Backup => "backup",
            RequireKind::Command => "command",
            RequireKind::File => "file",
        }
    }
}

const KINDS: &[&str] = &["backup", "command", "file"];

/// How long a probe or a directory listing may take unless the rule says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout a rule may set: a probe must never hold the user for long.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// One validated precondition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Require {
    /// The newest file matching `path` (a glob, placeholders filled in) is younger than
    /// `max_age` and larger than `min_size` bytes.
    Backup {
        path: String,
        #[serde(serialize_with = "ser_duration")]
        max_age: Duration,
        min_size: u64,
        #[serde(serialize_with = "ser_duration")]
        timeout: Duration,
    },
    /// `argv` (placeholders filled in, `{file}` = the newest backup file) exits 0 within
    /// `timeout`.
    Command {
        argv: Vec<String>,
        #[serde(serialize_with = "ser_duration")]
        timeout: Duration,
    },
    /// `path` exists (or, with `exists = false`, does not).
    File {
        path: String,
        exists: bool,
        #[serde(serialize_with = "ser_duration")]
        timeout: Duration,
    },
}

impl Require {
    pub fn kind(&self) -> RequireKind {
        match self {
            Require::Backup { .. } => RequireKind::Backup,
            Require::Command { .. } => RequireKind::Command,
            Require::File { .. } => RequireKind::File,
        }
    }

    /// What it demands, in words, with placeholders unfilled:
    /// `a backup matching /backups/{target}-*.dump, younger than 24 h, larger than 1 MB`.
    pub fn describe(&self) -> String {
        match self {
            Require::Backup {
                path,
                max_age,
                min_size,
                ..
            } => format!(
                "a backup matching {path}, younger than {}, larger than {}",
                human_duration(*max_age),
                human_size(*min_size)
            ),
            Require::Command { argv, timeout } => format!(
                "`{}` succeeds within {}",
                crate::shell::quote::join(argv),
                human_duration(*timeout)
            ),
            Require::File { path, exists, .. } => {
                if *exists {
                    format!("{path} exists")
                } else {
                    format!("{path} does not exist")
                }
            }
        }
    }
}

/// The result of checking one precondition, as shown in the question, `explain` and the audit
/// record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreconditionResult {
    pub kind: RequireKind,
    /// Whether it holds.
    pub met: bool,
    /// What was found ("newest backup: /backups/app-….dump, 3 h old, 2.1 GB"), or exactly what is
    /// missing ("newest backup is 6 days old; expected < 24 h").
    pub evidence: String,
    /// What the rule demands ([`Require::describe`]).
    pub required: String,
}

/// Placeholders `path` and `argv` may use.
pub const REQUIRE_PLACEHOLDERS: &[&str] = &[
    "target",
    "target_name",
    "host",
    "short_host",
    "env",
    "role",
    "cluster",
];

/// The extra placeholder of a `command` precondition: the newest file the rule's `backup`
/// precondition found.
pub const FILE_PLACEHOLDER: &str = "file";

/// The `{name}` placeholders in `s`, with their byte ranges. A brace group that is not a plain
/// lower-case identifier (`{a,b}`) is a glob alternation, not a placeholder.
pub fn placeholders(s: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = s[from..].find('{').map(|i| i + from) {
        // `\{` is an escaped brace in a glob.
        if open > 0 && s.as_bytes()[open - 1] == b'\\' {
            from = open + 1;
            continue;
        }
        let Some(close) = s[open + 1..].find('}').map(|i| i + open + 1) else {
            break;
        };
        let name = &s[open + 1..close];
        if !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            out.push((open..close + 1, name));
            from = close + 1;
        } else {
            from = open + 1;
        }
    }
    out
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&duration_spec(*d))
}

/// A duration in the policy-file spelling, in its largest whole unit (`24h`, `90s`, `500ms`).
pub fn duration_spec(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("w", 604_800_000u128),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Parse `24h`, `30m`, `10s`, `500ms`, `7d`, `2w`, or a sum such as `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration; write e.g. \"24h\", \"30m\", \"10s\"".into());
    }
    let mut total: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "invalid duration `{s}`: expected a number before `{rest}`; write e.g. \"24h\", \"30m\", \"10s\""
            ));
        }
        let n: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration `{s}`: number too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        let ms: u128 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            "" => {
                return Err(format!(
                    "invalid duration `{s}`: a unit is needed (ms, s, m, h, d, w)"
                ))
            }
            other => {
                return Err(format!(
                    "invalid duration `{s}`: unknown unit `{other}` (use ms, s, m, h, d, w)"
                ))
            }
        };
        total = total.saturating_add(n.saturating_mul(ms));
        rest = rest[unit_len..].trim_start();
    }
    if total == 0 {
        return Err(format!("invalid duration `{s}`: must be more than zero"));
    }
    let ms = u64::try_from(total).map_err(|_| format!("invalid duration `{s}`: too long"))?;
    Ok(Duration::from_millis(ms))
}

/// Parse a size: `1MB`, `500 kB`, `2GiB`, `1048576` (bytes). kB, MB, GB, TB are powers of
/// 1000; KiB, MiB, GiB, TiB powers of 1024.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let num_len = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    if num_len == 0 {
        return Err(format!(
            "invalid size `{s}`: expected a number; write e.g. \"1MB\", \"500kB\", \"2GiB\""
        ));
    }
    let n: f64 = t[..num_len]
        .parse()
        .map_err(|_| format!("invalid size `{s}`: `{}` is not a number", &t[..num_len]))?;
    let unit = t[num_len..].trim();
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
            "invalid size `{s}`: unknown unit `{unit}` (use B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)"
        ))
        }
    };
    let bytes = (n * mult).round();
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("invalid size `{s}`: too large"));
    }
    Ok(bytes as u64)
}

/// `3 h`, `6 days`, `45 min`, `12 s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        return format!("{} ms", d.as_millis());
    }
    if s < 120 {
        format!("{s} s")
    } else if s < 120 * 60 {
        format!("{} min", s / 60)
    } else if s < 48 * 3600 {
        format!("{} h", s / 3600)
    } else {
        format!("{} days", s / 86_400)
    }
}

/// `312 B`, `1 MB`, `2.1 GB` (powers of 1000).
pub fn human_size(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut unit = "B";
    for u in ["kB", "MB", "GB", "TB", "PB"] {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    let text = if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    format!("{} {unit}", text.trim_end_matches(".0"))
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err(&mut self, span: std::ops::Range<usize>, message: String) {
        self.diags
            .push(Diagnostic::at(self.file, self.text, span, message));
    }

    fn err_help(&mut self, span: std::ops::Range<usize>, message: String, help: Option<String>) {
        self.diags
            .push(Diagnostic::at(self.file, self.text, span, message).with_help(help));
    }
}

/// Validate a rule's `require` tables. Every problem is reported with its position; the result
/// is only used when there were none.
pub(crate) fn compile_requires(
    raw: &[Spanned<RawRequire>],
    unmet: Option<(Unmet, std::ops::Range<usize>)>,
    file: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Require> {
    let mut cx = Ctx { file, text, diags };
    if raw.is_empty() {
        if let Some((u, span)) = unmet {
            cx.err(
                span,
                format!(
                    "`unmet = \"{}\"` has no effect: this rule has no `[[rule.require]]`",
                    u.as_str()
                ),
            );
        }
        return Vec::new();
    }
    let has_backup = raw
        .iter()
        .any(|r| r.get_ref().kind.get_ref().trim() == "backup");
    let mut out = Vec::new();
    for r in raw {
        if let Some(req) = compile_one(r, has_backup, &mut cx) {
            out.push(req);
        }
    }
    out
}

fn compile_one(
    spanned: &Spanned<RawRequire>,
    has_backup: bool,
    cx: &mut Ctx<'_>,
) -> Option<Require> {
    let r = spanned.get_ref();
    let kind = r.kind.get_ref().trim();
    let table = spanned.span();
    let allowed: &[&str] = match kind {
        "backup" => &["path", "max_age", "min_size", "timeout"],
        "command" => &["argv", "timeout"],
        "file" => &["path", "exists", "timeout"],
        other => {
            cx.err_help(
                r.kind.span(),
                format!("unknown precondition kind `{other}`"),
                did_you_mean(other, KINDS.iter().copied())
                    .or_else(|| Some(format!("kinds are {}", KINDS.join(", ")))),
            );
            return None;
        }
    };
    let present: [(&str, Option<std::ops::Range<usize>>); 6] = [
        ("path", r.path.as_ref().map(Spanned::span)),
        ("max_age", r.max_age.as_ref().map(Spanned::span)),
        ("min_size", r.min_size.as_ref().map(Spanned::span)),
        ("argv", r.argv.as_ref().map(Spanned::span)),
        ("timeout", r.timeout.as_ref().map(Spanned::span)),
        ("exists", r.exists.as_ref().map(Spanned::span)),
    ];
    let before = cx.diags.len();
    for (key, span) in present {
        if let Some(span) = span {
            if !allowed.contains(&key) {
                cx.err_help(
                    span,
                    format!("`{key}` does not apply to kind = \"{kind}\""),
                    Some(format!(
                        "kind = \"{kind}\" takes {}",
                        allowed
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
    }
    let timeout = match &r.timeout {
        None => Some(DEFAULT_TIMEOUT),
        Some(t) => match parse_duration(t.get_ref()) {
            Ok(d) if d > MAX_TIMEOUT => {
                cx.err(
                    t.span(),
                    format!(
                        "timeout {} is too long: a precondition may hold the user for at most {}",
                        human_duration(d),
                        human_duration(MAX_TIMEOUT)
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                cx.err(t.span(), e);
                None
            }
        },
    };
    let need = |cx: &mut Ctx<'_>, key: &str, present: bool| {
        if !present {
            cx.err(
                table.clone(),
                format!("a precondition of kind = \"{kind}\" needs `{key}`"),
            );
        }
        present
    };
    let req = match kind {
        "backup" => {
            let path = if need(cx, "path", r.path.is_some()) {
                r.path.as_ref().and_then(|p| check_path(p, true, cx))
            } else {
                None
            };
            let max_age = if need(cx, "max_age", r.max_age.is_some()) {
                r.max_age.as_ref().and_then(|m| {
                    parse_duration(m.get_ref())
                        .map_err(|e| cx.err(m.span(), e))
                        .ok()
                })
            } else {
                None
            };
            let min_size = match &r.min_size {
                None => Some(0),
                Some(m) => parse_size(m.get_ref())
                    .map_err(|e| cx.err(m.span(), e))
                    .ok(),
            };
            match (path, max_age, min_size, timeout) {
                (Some(path), Some(max_age), Some(min_size), Some(timeout)) => {
                    Some(Require::Backup {
                        path,
                        max_age,
                        min_size,
                        timeout,
                    })
                }
                _ => None,
            }
        }
        "command" => {
            let argv = if need(cx, "argv", r.argv.is_some()) {
                r.argv.as_ref().and_then(|a| check_argv(a, has_backup, cx))
            } else {
                None
            };
            match (argv, timeout) {
                (Some(argv), Some(timeout)) => Some(Require::Command { argv, timeout }),
                _ => None,
            }
        }
        _ => {
            let path = if need(cx, "path", r.path.is_some()) {
                r.path.as_ref().and_then(|p| check_path(p, false, cx))
            } else {
                None
            };
            match (path, timeout) {
                (Some(path), Some(timeout)) => Some(Require::File {
                    path,
                    exists: r.exists.as_ref().is_none_or(|e| *e.get_ref()),
                    timeout,
                }),
                _ => None,
            }
        }
    };
    (cx.diags.len() == before).then_some(req).flatten()
}

/// Report unknown placeholders in `s` (at `span`); `extra` names the ones allowed besides
/// [`REQUIRE_PLACEHOLDERS`]. Returns whether all were known.
fn check_placeholders(
    s: &str,
    span: std::ops::Range<usize>,
    extra: &[&str],
    cx: &mut Ctx<'_>,
) -> bool {
    let known: Vec<&str> = REQUIRE_PLACEHOLDERS.iter().chain(extra).copied().collect();
    let mut ok = true;
    for (_, name) in placeholders(s) {
        if !known.contains(&name) {
            ok = false;
            cx.err_help(
                span.clone(),
                format!("unknown placeholder `{{{name}}}`"),
                did_you_mean(name, known.iter().copied())
                    .or_else(|| Some(format!("placeholders here are {}", known.join(", ")))),
            );
        }
    }
    ok
}

/// A `path`: absolute, known placeholders, and for a backup a glob that compiles (without
/// `**`), for a file no glob at all.
fn check_path(p: &Spanned<String>, glob: bool, cx: &mut Ctx<'_>) -> Option<String> {
    let s = p.get_ref();
    if !s.starts_with('/') {
        cx.err(
            p.span(),
            format!("path `{s}` must be absolute (start with `/`)"),
        );
        return None;
    }
    if !check_placeholders(s, p.span(), &[], cx) {
        return None;
    }
    // The pattern with each placeholder replaced by a plain word, as it will be at run time.
    let mut sample = s.clone();
    for (range, _) in placeholders(s).into_iter().rev() {
        sample.replace_range(range, "x");
    }
    if glob {
        if sample.contains("**") {
            cx.err_help(
                p.span(),
                "`**` is not supported in a backup path".into(),
                Some("name each directory level, e.g. /backups/*/app-*.dump".into()),
            );
            return None;
        }
        for component in sample.split('/').filter(|c| !c.is_empty()) {
            if let Err(e) = globset::GlobBuilder::new(component)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
            {
                cx.err(p.span(), format!("invalid path pattern: {e}"));
                return None;
            }
        }
    } else if sample.contains(['*', '?', '[', '{']) {
        cx.err_help(
            p.span(),
            format!("a file precondition names one path, not a pattern: `{s}`"),
            Some("use kind = \"backup\" to look for the newest of several files".into()),
        );
        return None;
    }
    Some(s.clone())
}

fn check_argv(
    a: &Spanned<Vec<Spanned<String>>>,
    has_backup: bool,
    cx: &mut Ctx<'_>,
) -> Option<Vec<String>> {
    let words = a.get_ref();
    let Some(first) = words.first() else {
        cx.err(
            a.span(),
            "`argv` is empty: name the program and its arguments".into(),
        );
        return None;
    };
    let mut ok = true;
    if first.get_ref().trim().is_empty() || !placeholders(first.get_ref()).is_empty() {
        cx.err(
            first.span(),
            "the program of a probe must be a fixed name or absolute path".into(),
        );
        ok = false;
    }
    for w in words.iter().skip(1) {
        ok &= check_placeholders(w.get_ref(), w.span(), &[FILE_PLACEHOLDER], cx);
        if !has_backup
            && placeholders(w.get_ref())
                .iter()
                .any(|(_, n)| *n == FILE_PLACEHOLDER)
        {
            cx.err_help(
                w.span(),
                "`{file}` is the newest file found by this rule's backup precondition, and the rule has none".into(),
                Some("add a [[rule.require]] with kind = \"backup\"".into()),
            );
            ok = false;
        }
    }
    ok.then(|| words.iter().map(|w| w.get_ref().clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_duration("24").is_err());
        assert!(parse_duration("24x").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(duration_spec(Duration::from_secs(86_400)), "1d");
        assert_eq!(duration_spec(Duration::from_secs(5400)), "90m");
        assert_eq!(duration_spec(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("1 MiB"), Ok(1_048_576));
        assert_eq!(parse_size("1.5kB"), Ok(1500));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("MB").is_err());
        assert!(parse_size("1XB").is_err());
        assert_eq!(human_size(312), "312 B");
        assert_eq!(human_size(2_100_000_000), "2.1 GB");
        assert_eq!(human_size(1_000_000), "1 MB");
        assert_eq!(human_size(250_000), "250 kB");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(Duration::from_secs(3 * 3600 + 5)), "3 h");
        assert_eq!(human_duration(Duration::from_secs(6 * 86_400)), "6 days");
        assert_eq!(human_duration(Duration::from_secs(86_400)), "24 h");
        assert_eq!(human_duration(Duration::from_secs(45 * 60)), "45 min");
    }

    #[test]
    fn placeholders_are_identifiers_only() {
        let p = placeholders("/backups/{target}-{a,b}-\\{x}-{short_host}.dump");
        let names: Vec<&str> = p.iter().map(|(_, n)| *n).collect();
        assert_eq!(names, ["target", "short_host"]);
    }
}
