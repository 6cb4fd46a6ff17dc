//! Text for humans: the environment bar, the login banner, the question, the result line, the
//! no-terminal refusal, the prompt segment and the terminal title. Pure functions of their
//! arguments (no clock, no environment), pinned by golden tests.
//!
//! Everything that came from outside (the command, rule messages, host.toml values, what was
//! typed) goes through [`display_safe`] so that escape sequences or bidirectional-override
//! characters cannot rewrite or disguise the question.
#![forbid(unsafe_code)]

use super::{Challenge, Outcome, Question};
use crate::host::{Colour, HostContext};
use std::fmt::Write as _;
use std::time::Duration;

/// Width the bar is at least, and the column text is wrapped at.
const WIDTH: usize = 76;
const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

/// Which shell a prompt segment is for: how non-printing escapes are marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// bash `PS1`: escapes inside `\[ \]`.
    Bash,
    /// zsh `PROMPT`: escapes inside `%{ %}`.
    Zsh,
    /// No markers (for a title, or a shell that needs none).
    Plain,
}

fn bar_sgr(c: Colour) -> &'static str {
    match c {
        Colour::Red => "\x1b[1;97;41m",
        Colour::Yellow => "\x1b[1;30;43m",
        Colour::Green => "\x1b[1;30;42m",
        Colour::Blue => "\x1b[1;97;44m",
        Colour::Magenta => "\x1b[1;97;45m",
        Colour::Cyan => "\x1b[1;30;46m",
    }
}

fn severity_sgr(severity: &str) -> &'static str {
    match severity {
        "critical" => "\x1b[1;31m",
        "high" => "\x1b[31m",
        "warning" => "\x1b[33m",
        _ => "\x1b[36m",
    }
}

fn paint(colour: bool, sgr: &str, text: &str) -> String {
    if colour {
        format!("{sgr}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// `text` with every character that could control the terminal or hide what it says shown as an
/// escape: C0/C1 controls and DEL (`\n`, `\t`, `\x1b`, …), bidirectional overrides and isolates,
/// and zero-width characters (`\u{202e}`).
pub fn display_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push('\\'),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (0x80..0xa0).contains(&(c as u32)) || is_invisible(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x061c | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff)
}

/// The environment as shown, in capitals; an unknown one says it is treated as production.
fn env_label(host: &HostContext) -> String {
    if host.environment == "unknown" {
        "UNKNOWN ENVIRONMENT (treated as production)".to_string()
    } else {
        display_safe(&host.environment.to_uppercase())
    }
}

/// `PRODUCTION · db1 · db-primary · cluster main`
fn headline(host: &HostContext) -> String {
    let mut parts = vec![env_label(host), display_safe(host.short_name())];
    if let Some(role) = &host.role {
        parts.push(display_safe(role));
    }
    if let Some(cluster) = &host.cluster {
        parts.push(format!("cluster {}", display_safe(cluster)));
    }
    parts.join(" \u{b7} ")
}

/// The three-line environment bar: a full-width block of the environment's colour, or rules of
/// `=` without colour.
fn bar(host: &HostContext, colour: bool) -> String {
    let head = headline(host);
    let width = WIDTH.max(head.chars().count() + 4);
    if colour {
        let sgr = bar_sgr(host.display_colour());
        let blank = " ".repeat(width);
        let pad = " ".repeat(width - 2 - head.chars().count());
        format!("{sgr}{blank}{RESET}\n{sgr}  {head}{pad}{RESET}\n{sgr}{blank}{RESET}\n")
    } else {
        let rule = "=".repeat(width);
        format!("{rule}\n  {head}\n{rule}\n")
    }
}

/// Word-wrap `text` to [`WIDTH`], the first line after `first`, the rest indented by `indent`.
fn wrap(out: &mut String, first: &str, indent: usize, text: &str) {
    let mut col = first.chars().count();
    out.push_str(first);
    let mut at_start = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if !at_start && col + 1 + len > WIDTH {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
            at_start = true;
        }
        if !at_start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
        at_start = false;
    }
    out.push('\n');
}

fn field(out: &mut String, colour: bool, label: &str, value: &str) {
    let label = format!("  {label:<12} ");
    let _ = writeln!(out, "{}{value}", paint(colour, "\x1b[2m", &label));
}

/// The banner shown at login: where you are, which policy guards it, and what is wrong with the
/// setup (`policy_warnings`, and the host description's own warnings).
pub fn render_banner(
    host: &HostContext,
    policy_digest: &str,
    policy_warnings: &[String],
    colour: bool,
) -> String {
    let mut out = bar(host, colour);
    field(&mut out, colour, "host", &display_safe(&host.hostname));
    let env = if host.environment == "unknown" {
        "unknown \u{2014} treated as production".to_string()
    } else {
        display_safe(&host.environment)
    };
    field(&mut out, colour, "environment", &env);
    if let Some(role) = &host.role {
        field(&mut out, colour, "role", &display_safe(role));
    }
    if let Some(cluster) = &host.cluster {
        field(&mut out, colour, "cluster", &display_safe(cluster));
    }
    let digest = short_digest(policy_digest);
    field(
        &mut out,
        colour,
        "policy",
        if digest.is_empty() {
            "(none loaded)"
        } else {
            &digest
        },
    );
    out.push_str("  Every command run here is checked by prodguard and recorded.\n");
    if !host.motd.is_empty() {
        out.push('\n');
        for line in &host.motd {
            let _ = writeln!(out, "  {}", display_safe(line));
        }
    }
    let warnings: Vec<&String> = host.warnings.iter().chain(policy_warnings).collect();
    if !warnings.is_empty() {
        out.push('\n');
        for w in warnings {
            let label = paint(colour, "\x1b[1;33m", "warning:");
            wrap(&mut out, &format!("  {label} "), 4, &display_safe(w));
        }
    }
    out
}

/// `sha256:` and the first 16 hex digits, or the digest as given when it is in another form. A
/// bare 64-digit hex digest (what `PolicySet::digest` holds) is a sha256 one.
fn short_digest(digest: &str) -> String {
    let d = display_safe(digest.trim());
    let bare_sha256 = d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit());
    match d.strip_prefix("sha256:") {
        Some(hex) => format!("sha256:{}", hex.get(..16).unwrap_or(hex)),
        None if bare_sha256 => format!("sha256:{}", d.get(..16).unwrap_or(&d)),
        None => d,
    }
}

fn timeout_text(t: Duration) -> String {
    if t.subsec_millis() == 0 {
        format!("{} s", t.as_secs())
    } else {
        format!("{} ms", t.as_millis())
    }
}

/// The question: the environment bar, the command as typed and as parsed, every matching rule,
/// and what to type. The answer prompt itself (`host name: `) follows it on the terminal.
pub fn render_question(q: &Question<'_>, colour: bool) -> String {
    let mut out = bar(q.host, colour);
    field(&mut out, colour, "host", &display_safe(&q.host.hostname));
    for (i, line) in q.command.lines().enumerate() {
        let label = if i == 0 { "command" } else { "" };
        field(
            &mut out,
            colour,
            label,
            &paint(colour, BOLD, &display_safe(line)),
        );
    }
    if q.command.lines().next().is_none() {
        field(&mut out, colour, "command", "(empty)");
    }
    for (i, line) in q.parsed.iter().enumerate() {
        let label = if i == 0 { "parsed" } else { "" };
        field(&mut out, colour, label, &display_safe(line));
    }
    for r in &q.reasons {
        out.push('\n');
        let sev = display_safe(&r.severity.to_uppercase());
        let sev_padded = format!("{sev:<9}");
        let _ = writeln!(
            out,
            "  {} {}",
            paint(colour, severity_sgr(&r.severity), &sev_padded),
            display_safe(&r.id)
        );
        let indent = "            ";
        wrap(&mut out, indent, indent.len(), &display_safe(&r.message));
        if let Some(why) = &r.why {
            wrap(
                &mut out,
                &format!("{indent}why: "),
                indent.len() + 5,
                &display_safe(why),
            );
        }
        if let Some(instead) = &r.instead {
            wrap(
                &mut out,
                &format!("{indent}instead: "),
                indent.len() + 9,
                &display_safe(instead),
            );
        }
    }
    out.push('\n');
    let t = timeout_text(q.timeout);
    let ask = match &q.challenge {
        Challenge::Hostname => {
            format!("To run it, type the name of this host. Anything else refuses; {t} to answer.")
        }
        Challenge::Target(_) => format!(
            "To run it, type the name of what it destroys, exactly as in the command. \
             Anything else refuses; {t} to answer."
        ),
        Challenge::Phrase => format!(
            "To run it, type the word shown below (a new one each time). Anything else \
             refuses; {t} to answer."
        ),
        Challenge::Ticket(p) => {
            let matching = p
                .source()
                .map(|s| format!(" (matching \u{2018}{}\u{2019})", display_safe(s)))
                .unwrap_or_default();
            format!(
                "To run it, give a ticket id{matching} and a reason; both are recorded. {t} \
                 for each answer."
            )
        }
        Challenge::Yes => {
            format!("Type y to run it; Enter or anything else refuses; {t} to answer.")
        }
    };
    let mut line = String::new();
    wrap(&mut line, "", 0, &ask);
    out.push_str(&paint(colour, BOLD, line.trim_end_matches('\n')));
    out.push('\n');
    out
}

/// The line said after the answer: `confirmed`, `refused: you typed db2 — this is db1
/// (db-primary)`, `aborted (Ctrl-C)`, … For [`Outcome::NoTerminal`] this is
/// [`render_refusal`].
pub fn render_outcome(q: &Question<'_>, outcome: &Outcome, colour: bool) -> String {
    let red = "\x1b[1;31m";
    let (sgr, text) = match outcome {
        Outcome::Confirmed { .. } => ("\x1b[1;32m", "confirmed".to_string()),
        Outcome::Refused { reason, .. } => (red, format!("refused: {reason}")),
        Outcome::Aborted => (red, "aborted: not confirmed".to_string()),
        Outcome::Eof => (red, "end of input: not confirmed".to_string()),
        Outcome::TimedOut => (
            red,
            format!(
                "no answer within {}: not confirmed",
                timeout_text(q.timeout)
            ),
        ),
        Outcome::NoTerminal => return render_refusal(q),
        Outcome::TerminalError(e) => (
            red,
            format!("the terminal failed ({}): not confirmed", display_safe(e)),
        ),
    };
    format!("{}\n", paint(colour, sgr, &text))
}

/// The refusal printed (on stderr) when a command needs a typed confirmation and there is no
/// terminal to ask on.
pub fn render_refusal(q: &Question<'_>) -> String {
    let ids: Vec<String> = q.reasons.iter().map(|r| display_safe(&r.id)).collect();
    let (who, verb) = match ids.len() {
        0 => ("this command".to_string(), "needs"),
        1 => (ids.join(", "), "needs"),
        _ => (ids.join(", "), "need"),
    };
    format!(
        "refused: {who} {verb} a typed confirmation ({}) and there is no terminal to ask on;\n  \
         run it from an interactive session, or ask for approval: prodguard request -- {}\n",
        q.challenge.name(),
        display_safe(&shell_quote(q.command)),
    )
}

/// Quote `s` as one shell word. Text with control characters (a script read from stdin has
/// newlines) is quoted `$'…'`, which bash and zsh read back as exactly `s`: the suggested
/// command is the real one, on one line.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return s.to_string();
    }
    if !s.chars().any(char::is_control) {
        return format!("'{}'", s.replace('\'', "'\\''"));
    }
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Only characters that cannot mean anything to a shell's prompt expansion.
fn prompt_safe(s: &str) -> String {
    only(s, "._-")
}

/// `s` with anything but ASCII letters, digits and the characters of `also` replaced by `?`.
fn only(s: &str, also: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || also.contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The prompt segment for `PS1`/`PROMPT`: ` PRODUCTION db1 ` on the environment's colour, or
/// `[PRODUCTION db1]` without colour, followed by `marker` (a break-glass session in force) in
/// white on red. Escapes are wrapped for `shell` so line editing counts columns right; the text
/// is restricted to characters with no meaning in prompt expansion.
pub fn render_prompt_segment(
    host: &HostContext,
    shell: Shell,
    colour: bool,
    marker: Option<&str>,
) -> String {
    let text = format!(
        "{} {}",
        prompt_safe(&host.environment.to_uppercase()),
        prompt_safe(host.short_name())
    );
    let marker = marker.map(marker_safe).filter(|m| !m.is_empty());
    if !colour {
        return match marker {
            Some(m) => format!("[{text} {m}]"),
            None => format!("[{text}]"),
        };
    }
    let (open, close) = match shell {
        Shell::Bash => ("\\[", "\\]"),
        Shell::Zsh => ("%{", "%}"),
        Shell::Plain => ("", ""),
    };
    let sgr = bar_sgr(host.display_colour());
    let mut out = format!("{open}{sgr}{close} {text} {open}{RESET}{close}");
    if let Some(m) = marker {
        out.push_str(&format!(
            "{open}{MARKER_SGR}{close} {m} {open}{RESET}{close}"
        ));
    }
    out
}

/// Bold white on red: the break-glass marker, whatever the environment's colour.
const MARKER_SGR: &str = "\x1b[1;97;41m";

/// A marker's text with anything but letters, digits, spaces and `.:-` replaced (no `%`, `\`,
/// `$` or backquote reaches a prompt).
fn marker_safe(s: &str) -> String {
    only(s, " .:-").trim().to_string()
}

/// The terminal title: `PRODUCTION · db1 · db-primary · cluster main`, then `marker` (a
/// break-glass session in force) when given.
pub fn render_title(host: &HostContext, marker: Option<&str>) -> String {
    match marker.map(display_safe).filter(|m| !m.is_empty()) {
        Some(m) => format!("{} \u{b7} {m}", headline(host)),
        None => headline(host),
    }
}

/// The escape sequence that sets the terminal title to `title` (OSC 0, BEL-terminated), with
/// anything that could end the sequence early removed.
pub fn title_escape(title: &str) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .collect();
    format!("\x1b]0;{clean}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_safe_escapes_controls_and_bidi() {
        assert_eq!(display_safe("rm -rf /x\x1b[2K"), "rm -rf /x\\x1b[2K");
        assert_eq!(display_safe("a\u{202e}b\u{200b}"), "a\\u{202e}b\\u{200b}");
        assert_eq!(display_safe("caf\u{e9} \u{b7}"), "caf\u{e9} \u{b7}");
        assert_eq!(display_safe("\u{9b}31m"), "\\u{009b}31m");
    }

    #[test]
    fn a_script_is_suggested_as_the_command_it_is() {
        assert_eq!(shell_quote("ls"), "ls");
        assert_eq!(shell_quote("rm -rf 'x'"), r"'rm -rf '\''x'\'''");
        let script = "echo 'hi'\nrm -rf /x\\y\t\u{7}\n";
        let quoted = shell_quote(script);
        assert_eq!(quoted, r"$'echo \'hi\'\nrm -rf /x\\y\t\x07\n'");
        // One line, and bash reads it back as the script itself (where there is a bash).
        assert!(!quoted.contains('\n'));
        if let Ok(out) = std::process::Command::new("bash")
            .args(["-c", &format!("printf %s {quoted}")])
            .output()
        {
            assert_eq!(String::from_utf8_lossy(&out.stdout), script);
        }
    }

    #[test]
    fn wrap_breaks_at_width() {
        let mut out = String::new();
        let long = "word ".repeat(30);
        wrap(&mut out, "    ", 4, &long);
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert!(
            out.lines().skip(1).all(|l| l.starts_with("    word")),
            "{out}"
        );
    }

    #[test]
    fn short_digest_forms() {
        let hex = "48551ebe78b243690ea3dec76969f1087ed67c9bceec0a65cb994cfe1f2d4712";
        assert_eq!(short_digest(hex), "sha256:48551ebe78b24369");
        assert_eq!(
            short_digest(&format!("sha256:{hex}")),
            "sha256:48551ebe78b24369"
        );
        assert_eq!(short_digest("md5:abc"), "md5:abc");
    }

    #[test]
    fn shell_quote_quotes() {
        assert_eq!(shell_quote("ls"), "ls");
        assert_eq!(shell_quote("rm -rf 'x'"), "'rm -rf '\\''x'\\'''");
    }

    #[test]
    fn prompt_segment_cannot_inject() {
        let mut h = HostContext::unknown();
        h.hostname = "$(reboot)`x`.example".into();
        h.environment = "production".into();
        let seg = render_prompt_segment(&h, Shell::Bash, false, None);
        assert_eq!(seg, "[PRODUCTION ??reboot??x?]");
    }

    #[test]
    fn a_marker_follows_the_segment_and_cannot_expand() {
        let h = HostContext::unknown();
        let plain =
            render_prompt_segment(&h, Shell::Bash, false, Some("BREAK-GLASS until 16:50 UTC"));
        assert!(plain.ends_with(" BREAK-GLASS until 16:50 UTC]"), "{plain}");
        let zsh = render_prompt_segment(&h, Shell::Zsh, true, Some("B %F$(x)`y`\\w"));
        assert!(
            zsh.contains(&format!("%{{{MARKER_SGR}%}} B ?F??x??y??w %{{")),
            "{zsh}"
        );
        assert_eq!(
            render_prompt_segment(&h, Shell::Bash, false, Some("  ")),
            render_prompt_segment(&h, Shell::Bash, false, None)
        );
        assert!(render_title(&h, Some("BREAK-GLASS until 16:50 UTC"))
            .ends_with(" \u{b7} BREAK-GLASS until 16:50 UTC"));
    }

    #[test]
    fn title_escape_strips_terminators() {
        assert_eq!(title_escape("a\x07b\x1b\\c"), "\x1b]0;ab\\c\x07");
    }
}
