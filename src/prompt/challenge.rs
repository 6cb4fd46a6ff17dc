//! Judging answers: one attempt per question, evidence without secrets.
#![forbid(unsafe_code)]

use super::line::{Line, LineReader};
use super::render::{self, display_safe};
use super::{Challenge, Evidence, Outcome, Question, TtyIo};
use regex::Regex;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::Read;

/// The least number of characters (after trimming) a ticket challenge's reason must have.
pub const MIN_REASON_CHARS: usize = 8;

/// The words a `phrase` challenge draws from: short, common, unlike hostnames and unlike each
/// other. 128 of them, so a draw is one byte of randomness without bias.
pub const PHRASE_WORDS: [&str; 128] = [
    "amber", "anchor", "apple", "arrow", "badger", "banjo", "barley", "basil", "beacon", "birch",
    "bison", "blossom", "bramble", "breeze", "bronze", "bucket", "cabin", "cactus", "camel",
    "candle", "canyon", "cedar", "cherry", "cobalt", "comet", "copper", "coral", "cotton", "crane",
    "cricket", "daisy", "desert", "dolphin", "dragon", "eagle", "ember", "falcon", "fennel",
    "fern", "fiddle", "flint", "forest", "fossil", "garnet", "ginger", "glacier", "granite",
    "gravel", "harbor", "hazel", "heron", "hollow", "honey", "iris", "island", "ivory", "jasper",
    "juniper", "kettle", "lagoon", "lantern", "lemon", "lemur", "lilac", "linen", "lotus",
    "magnet", "mango", "maple", "marble", "meadow", "melon", "meteor", "mint", "mosaic", "moss",
    "nectar", "nickel", "nutmeg", "oasis", "olive", "onyx", "orbit", "orchid", "otter", "panda",
    "papaya", "parrot", "pebble", "pepper", "pigeon", "pine", "planet", "plum", "pollen", "poppy",
    "prairie", "pumpkin", "quartz", "quill", "rabbit", "raven", "reef", "ribbon", "river", "robin",
    "saddle", "saffron", "salmon", "sapphire", "shell", "silver", "sparrow", "spruce", "squid",
    "summit", "thistle", "thunder", "tiger", "timber", "tomato", "topaz", "tulip", "tundra",
    "velvet", "violet", "walnut", "willow",
];

/// What a ticket id must look like. The default takes any single non-empty token.
#[derive(Clone)]
pub struct TicketPattern {
    source: Option<String>,
    regex: Option<Regex>,
}

impl TicketPattern {
    /// Any non-empty token without whitespace.
    pub fn any() -> TicketPattern {
        TicketPattern {
            source: None,
            regex: None,
        }
    }

    /// A pattern the whole ticket id must match, e.g. `[A-Z]+-\d+|#\d+`. It is anchored at both
    /// ends. Fails with the regex error, for the policy loader to report with its position.
    pub fn new(pattern: &str) -> Result<TicketPattern, regex::Error> {
        let regex = Regex::new(&format!("^(?:{pattern})$"))?;
        Ok(TicketPattern {
            source: Some(pattern.to_string()),
            regex: Some(regex),
        })
    }

    /// The pattern as written, `None` for [`TicketPattern::any`].
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Whether `ticket` (already trimmed) is acceptable.
    pub fn accepts(&self, ticket: &str) -> bool {
        if ticket.is_empty() || ticket.chars().any(char::is_whitespace) {
            return false;
        }
        self.regex.as_ref().is_none_or(|r| r.is_match(ticket))
    }
}

impl Default for TicketPattern {
    fn default() -> Self {
        TicketPattern::any()
    }
}

impl fmt::Debug for TicketPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TicketPattern").field(&self.source).finish()
    }
}

/// A random index below `n`, from the OS (`/dev/urandom`); if that cannot be read, from std's
/// per-process random hash keys, which the OS seeded too.
pub(crate) fn os_random(n: usize) -> usize {
    let mut bytes = [0u8; 8];
    let seed = match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))
    {
        Ok(()) => u64::from_ne_bytes(bytes),
        Err(_) => {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(u64::from(std::process::id()));
            h.finish()
        }
    };
    usize::try_from(seed % u64::try_from(n.max(1)).unwrap_or(u64::MAX)).unwrap_or(0)
}

/// [`super::ask`] with the random source given (tests fix it).
pub(crate) fn ask_with(
    q: &Question<'_>,
    tty: &mut impl TtyIo,
    random: &mut dyn FnMut(usize) -> usize,
) -> Outcome {
    let colour = tty.colour();
    let outcome = converse(q, tty, random, colour);
    // Say how it ended, on the terminal the question was asked on. A failure to write this is
    // not worth changing the outcome for.
    if !matches!(outcome, Outcome::NoTerminal | Outcome::TerminalError(_)) {
        let _ = tty.write_all(render::render_outcome(q, &outcome, colour).as_bytes());
    }
    outcome
}

fn converse(
    q: &Question<'_>,
    tty: &mut impl TtyIo,
    random: &mut dyn FnMut(usize) -> usize,
    colour: bool,
) -> Outcome {
    match judge(q, tty, random, colour) {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

/// Read one answer after writing `prompt`; `Err` is how the conversation ended instead.
fn read_answer(
    reader: &mut LineReader,
    tty: &mut impl TtyIo,
    prompt: &str,
    q: &Question<'_>,
) -> Result<String, Outcome> {
    tty.write_all(prompt.as_bytes())
        .map_err(|e| Outcome::TerminalError(e.to_string()))?;
    let line = reader.read_line(tty, q.timeout);
    if matches!(line, Line::Aborted | Line::Eof | Line::TimedOut) {
        // The line ended without Enter and the cursor is still after the prompt: end it, so
        // that the outcome is a line of its own rather than `host name: db aborted: …`.
        let _ = tty.write_all(b"\r\n");
    }
    match line {
        Line::Text(t) => Ok(t),
        Line::Aborted => Err(Outcome::Aborted),
        Line::Eof => Err(Outcome::Eof),
        Line::TimedOut => Err(Outcome::TimedOut),
        Line::Failed(e) => Err(Outcome::TerminalError(e)),
    }
}

fn judge(
    q: &Question<'_>,
    tty: &mut impl TtyIo,
    random: &mut dyn FnMut(usize) -> usize,
    colour: bool,
) -> Result<Outcome, Outcome> {
    let ch = &q.challenge;
    let refuse = |reason: String, passed_evidence: Evidence| Outcome::Refused {
        reason,
        evidence: passed_evidence,
    };
    if let Challenge::Target(t) = ch {
        if t.trim().is_empty() {
            // A target challenge with nothing to compare to would accept an empty answer.
            return Ok(refuse(
                "the rule asks to type the target, but no target was found in the command; \
                 refusing rather than asking a question without an answer"
                    .to_string(),
                Evidence::new(ch, false),
            ));
        }
    }
    tty.write_all(render::render_question(q, colour).as_bytes())
        .map_err(|e| Outcome::TerminalError(e.to_string()))?;
    let mut reader = LineReader::new();
    let mut read = |tty: &mut _, prompt: &str| read_answer(&mut reader, tty, prompt, q);

    Ok(match ch {
        Challenge::Hostname => {
            let typed = read(tty, "  host name: ")?;
            judge_hostname(q.host, typed.trim())
        }
        Challenge::Target(target) => {
            let typed = read(tty, "  target: ")?;
            if typed.trim() == target.trim() {
                Outcome::Confirmed {
                    evidence: Evidence::new(ch, true),
                }
            } else {
                refuse(
                    format!(
                        "what you typed is not the target {}",
                        quoted(&display_safe(target))
                    ),
                    Evidence::new(ch, false),
                )
            }
        }
        Challenge::Phrase => {
            let word = PHRASE_WORDS
                .get(random(PHRASE_WORDS.len()))
                .copied()
                .unwrap_or("amber");
            let typed = read(tty, &format!("  word: {word}\n  type it: "))?;
            if typed.trim().eq_ignore_ascii_case(word) {
                Outcome::Confirmed {
                    evidence: Evidence::new(ch, true),
                }
            } else {
                refuse(
                    format!("what you typed is not the word {}", quoted(word)),
                    Evidence::new(ch, false),
                )
            }
        }
        Challenge::Ticket(pattern) => {
            let ticket = read(tty, "  ticket: ")?;
            let ticket = ticket.trim();
            if !pattern.accepts(ticket) {
                let want = match pattern.source() {
                    Some(p) => format!("a ticket id matching {}", quoted(p)),
                    None => "a ticket id (one word)".to_string(),
                };
                let reason = if ticket.is_empty() {
                    format!("no ticket given; {want} is required")
                } else {
                    format!("{} is not {want}", quoted(&display_safe(ticket)))
                };
                return Ok(refuse(reason, Evidence::new(ch, false)));
            }
            let why = read(tty, "  reason: ")?;
            let why = why.trim();
            let mut evidence = Evidence::new(ch, false);
            evidence.ticket = Some(ticket.to_string());
            if why.chars().count() < MIN_REASON_CHARS {
                return Ok(refuse(
                    format!("a reason of at least {MIN_REASON_CHARS} characters is required"),
                    evidence,
                ));
            }
            evidence.passed = true;
            evidence.reason = Some(why.to_string());
            Outcome::Confirmed { evidence }
        }
        Challenge::Yes => {
            let typed = read(tty, "  run it? [y/N] ")?;
            let typed = typed.trim();
            if typed.eq_ignore_ascii_case("y") || typed.eq_ignore_ascii_case("yes") {
                Outcome::Confirmed {
                    evidence: Evidence::new(ch, true),
                }
            } else {
                refuse(
                    "not confirmed (the default is no)".to_string(),
                    Evidence::new(ch, false),
                )
            }
        }
    })
}

/// The hostname challenge: this host's short or full name, case-insensitive. `localhost` and
/// addresses do not count: the point is to name the machine.
fn judge_hostname(host: &crate::host::HostContext, typed: &str) -> Outcome {
    let ch = Challenge::Hostname;
    let t = typed.trim().trim_end_matches('.');
    if !t.is_empty()
        && (t.eq_ignore_ascii_case(host.short_name()) || t.eq_ignore_ascii_case(&host.hostname))
    {
        return Outcome::Confirmed {
            evidence: Evidence::new(&ch, true),
        };
    }
    let here = match &host.role {
        Some(role) => format!(
            "this is {} ({})",
            display_safe(host.short_name()),
            display_safe(role)
        ),
        None => format!("this is {}", display_safe(host.short_name())),
    };
    // Name what was typed only when it is a host of the fleet: an answer typed into the wrong
    // prompt could be a password, and this reason goes into the audit record.
    let reason = if t.is_empty() {
        format!("no host name typed — {here}")
    } else if let Some(other) = host.fleet_host(t) {
        let what = match &other.role {
            Some(role) => format!("{} ({})", display_safe(t), display_safe(role)),
            None => display_safe(t),
        };
        format!("you typed {what} — {here}")
    } else {
        format!("you typed a name that is not this host's — {here}")
    };
    Outcome::Refused {
        reason,
        evidence: Evidence::new(&ch, false),
    }
}

fn quoted(s: &str) -> String {
    format!("\u{2018}{s}\u{2019}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostContext;
    use crate::prompt::ReadOutcome;
    use std::time::Duration;

    struct Typed(Option<&'static [u8]>, Vec<u8>);

    impl TtyIo for Typed {
        fn read(&mut self, buf: &mut [u8], _t: Duration) -> std::io::Result<ReadOutcome> {
            match self.0.take() {
                Some(b) => {
                    buf[..b.len()].copy_from_slice(b);
                    Ok(ReadOutcome::Data(b.len()))
                }
                None => Ok(ReadOutcome::TimedOut),
            }
        }
        fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            self.1.extend_from_slice(bytes);
            Ok(())
        }
    }

    #[test]
    fn phrase_uses_the_drawn_word() {
        let host = HostContext::unknown();
        let q = Question::new(&host, "rm -rf /", Challenge::Phrase);
        let falcon = PHRASE_WORDS
            .iter()
            .position(|w| *w == "falcon")
            .unwrap_or(0);
        let mut tty = Typed(Some(b" Falcon \r"), Vec::new());
        let outcome = ask_with(&q, &mut tty, &mut |_| falcon);
        assert!(outcome.is_confirmed(), "{outcome:?}");
        assert!(String::from_utf8_lossy(&tty.1).contains("  word: falcon\n  type it:  Falcon"));

        let mut tty = Typed(Some(b"amber\r"), Vec::new());
        let outcome = ask_with(&q, &mut tty, &mut |_| falcon);
        assert_eq!(outcome.label(), "refused");
    }

    #[test]
    fn phrase_words_are_distinct_lowercase_words() {
        let mut seen = std::collections::HashSet::new();
        for w in PHRASE_WORDS {
            assert!(w.bytes().all(|b| b.is_ascii_lowercase()), "{w}");
            assert!(seen.insert(w), "{w} twice");
        }
    }

    #[test]
    fn os_random_stays_in_range() {
        assert!((0..100).all(|_| os_random(128) < 128));
        assert_eq!(os_random(0), 0);
    }

    #[test]
    fn ticket_pattern_is_anchored() {
        let p = TicketPattern::new(r"[A-Z]+-\d+").unwrap_or_default();
        assert!(p.accepts("OPS-12"));
        assert!(!p.accepts("xOPS-12"));
        assert!(!p.accepts("OPS-12x"));
        assert!(!TicketPattern::any().accepts(""));
    }
}
