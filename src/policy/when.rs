//! `when` conditions about people, terminals, networks and time: `user`, `group`, `tty`, `ssh`,
//! `time`, and the pack-level change freezes `time` can name.
//!
//! Every condition evaluates to true, false or unknown (a replay without group data, a test
//! without a clock, a time zone that cannot be loaded). Unknown never makes a rule stop applying
//! and never lowers anything:
//! - a rule's `when` and an `escalate` entry hold unless a condition is known to be false;
//! - an `exempt` entry holds only when every condition is known to be true.

use super::glob::name_matches;
use crate::host::HostContext;
use crate::subject::{Origin, Subject};
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, Timestamp};
use serde::{Serialize, Serializer};
use std::net::IpAddr;

/// Three-valued conjunction: false wins, then unknown.
pub fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// A user or group entry: a name (with `*`/`?` globs) or a numeric id, optionally negated
/// with a leading `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPattern {
    pub negated: bool,
    pub pattern: String,
}

impl IdPattern {
    pub fn parse(s: &str) -> Result<IdPattern, String> {
        let (negated, p) = match s.trim().strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, s.trim()),
        };
        if p.is_empty() {
            return Err(format!("`{s}` names nobody"));
        }
        Ok(IdPattern {
            negated,
            pattern: p.to_string(),
        })
    }

    fn matches(&self, name: &str, id: Option<u32>) -> bool {
        match self.pattern.parse::<u32>() {
            Ok(n) => id == Some(n),
            Err(_) => name_matches(&self.pattern, name),
        }
    }
}

impl Serialize for IdPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bang = if self.negated { "!" } else { "" };
        s.serialize_str(&format!("{bang}{}", self.pattern))
    }
}

/// A list of patterns holds when a positive entry matches (or there are none) and no negated
/// entry matches.
fn list_holds<T>(list: &[T], negated: impl Fn(&T) -> bool, hit: impl Fn(&T) -> bool) -> bool {
    let mut positives = list.iter().filter(|p| !negated(p)).peekable();
    let pos_ok = positives.peek().is_none() || list.iter().any(|p| !negated(p) && hit(p));
    pos_ok && !list.iter().any(|p| negated(p) && hit(p))
}

fn user_holds(list: &[IdPattern], s: &Subject) -> Option<bool> {
    if list.is_empty() {
        return Some(true);
    }
    if s.user.is_none() && s.uid.is_none() {
        return None;
    }
    let name = s.user.as_deref().unwrap_or("");
    Some(list_holds(list, |p| p.negated, |p| p.matches(name, s.uid)))
}

fn group_holds(list: &[IdPattern], s: &Subject) -> Option<bool> {
    if list.is_empty() {
        return Some(true);
    }
    let groups = s.groups.as_ref()?;
    Some(list_holds(
        list,
        |p| p.negated,
        |p| groups.iter().any(|(n, g)| p.matches(n, Some(*g))),
    ))
}

/// An `ssh` entry: `local` (not an SSH session), an address, or a CIDR network; `!` negates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPattern {
    pub negated: bool,
    /// `None`: `local`.
    pub net: Option<(IpAddr, u8)>,
}

impl NetPattern {
    pub fn parse(s: &str) -> Result<NetPattern, String> {
        let (negated, p) = match s.trim().strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, s.trim()),
        };
        if p == "local" {
            return Ok(NetPattern { negated, net: None });
        }
        let (addr, len) = match p.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (p, None),
        };
        let ip: IpAddr = addr.parse().map_err(|_| {
            format!("`{p}` is not `local`, an IP address or a network such as 10.0.0.0/8")
        })?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("`{p}`: prefix length must be 0 to {max}"))?,
        };
        if masked(ip, len) != ip {
            return Err(format!(
                "`{p}` has host bits set; the network is {}/{len}",
                masked(ip, len)
            ));
        }
        Ok(NetPattern {
            negated,
            net: Some((ip, len)),
        })
    }

    fn matches(&self, origin: &Origin) -> bool {
        match (origin, self.net) {
            (Origin::Local, None) => true,
            (Origin::Ssh(ip), Some((net, len))) => {
                ip.is_ipv4() == net.is_ipv4() && masked(*ip, len) == net
            }
            _ => false,
        }
    }
}

impl Serialize for NetPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bang = if self.negated { "!" } else { "" };
        match self.net {
            None => s.serialize_str(&format!("{bang}local")),
            Some((ip, len)) => s.serialize_str(&format!("{bang}{ip}/{len}")),
        }
    }
}

fn masked(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4((bits & mask).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            IpAddr::V6((bits & mask).into())
        }
    }
}

fn ssh_holds(list: &[NetPattern], s: &Subject) -> Option<bool> {
    if list.is_empty() {
        return Some(true);
    }
    if s.origin == Origin::Unknown {
        return None;
    }
    Some(list_holds(list, |p| p.negated, |p| p.matches(&s.origin)))
}

/// A dated change freeze, from a pack's `[[freeze]]`. `from` and `to` are wall-clock times in
/// the host's zone; `to` is exclusive (a bare date means the end of that day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freeze {
    pub name: String,
    pub from: DateTime,
    pub to: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Freeze {
    /// Parse `from`/`to` (`2026-12-20`, `2026-12-20T18:00`, `2026-12-20 18:00`).
    pub fn new(name: &str, from: &str, to: &str, reason: Option<String>) -> Result<Freeze, String> {
        let from = parse_bound(from, false)?;
        let to = parse_bound(to, true)?;
        if to <= from {
            return Err(format!("freeze `{name}` ends before it starts"));
        }
        Ok(Freeze {
            name: name.to_string(),
            from,
            to,
            reason,
        })
    }

    /// Whether `now` is inside the freeze, in `tz`.
    pub fn contains(&self, now: Timestamp, tz: &TimeZone) -> bool {
        match (instant(self.from, tz), instant(self.to, tz)) {
            (Some(f), Some(t)) => f <= now && now < t,
            _ => true,
        }
    }
}

/// The instant a wall-clock time names in `tz`. A time the clocks skip (spring forward) names
/// the instant they jump; a time that happens twice (fall back) names its first occurrence.
/// So a window never reopens in a repeated hour and never outlasts a skipped one.
pub fn instant(dt: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Gap { after, .. } => {
            let earliest = after.to_timestamp(dt).ok()?;
            tz.following(earliest).next().map(|t| t.timestamp())
        }
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
    }
}

/// A freeze bound: a date (its start, or for an end its end) or a local date and time.
pub fn parse_bound(s: &str, end: bool) -> Result<DateTime, String> {
    let t = s.trim();
    if let Ok(d) = t.parse::<Date>() {
        if t.len() == 10 {
            let start = d.to_datetime(jiff::civil::Time::midnight());
            return if end {
                start
                    .checked_add(Span::new().days(1))
                    .map_err(|e| e.to_string())
            } else {
                Ok(start)
            };
        }
    }
    t.replacen(' ', "T", 1)
        .parse::<DateTime>()
        .map_err(|_| format!("`{s}` is not a date (2026-12-20) or a local time (2026-12-20T18:00)"))
}

/// One `time` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSpec {
    /// A recurring window: it starts on each of `days` at `start` (minutes after midnight) and
    /// lasts until `end` minutes after midnight `span_days` days later.
    Window {
        source: String,
        /// Bit n set: starts on the weekday n days after Monday.
        days: u8,
        start: u16,
        span_days: u8,
        end: u16,
    },
    /// `freeze` (any freeze) or `freeze:NAME`.
    Freeze(Option<String>),
}

impl Serialize for TimeSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TimeSpec::Window { source, .. } => s.serialize_str(source),
            TimeSpec::Freeze(None) => s.serialize_str("freeze"),
            TimeSpec::Freeze(Some(n)) => s.serialize_str(&format!("freeze:{n}")),
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_day(s: &str) -> Option<u8> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let l = s.trim().to_ascii_lowercase();
    (0..7u8).find(|&i| l == DAYS[i as usize] || l == FULL[i as usize])
}

fn parse_days(s: &str) -> Option<u8> {
    let mut mask = 0u8;
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                let mut d = a;
                loop {
                    mask |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => mask |= 1 << parse_day(part)?,
        }
    }
    Some(mask)
}

fn parse_clock(s: &str, end: bool) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Byte range of the first `H:MM`/`HH:MM` in `s`.
fn find_clock(s: &str) -> Option<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let colon = (0..b.len()).find(|&i| {
        b[i] == b':'
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2).is_some_and(u8::is_ascii_digit)
    })?;
    let start = if colon >= 2 && b[colon - 2].is_ascii_digit() {
        colon - 2
    } else {
        colon - 1
    };
    Some(start..colon + 3)
}

impl TimeSpec {
    /// Parse `freeze`, `freeze:NAME`, `[DAYS ]HH:MM-HH:MM` (daily, on DAYS: `Mon-Fri`,
    /// `Sat,Sun`, `Wed`) or `DAY HH:MM-DAY HH:MM` (weekly). A window whose end is not after its
    /// start crosses midnight (or the week).
    pub fn parse(s: &str) -> Result<TimeSpec, String> {
        let t = s.trim();
        if t == "freeze" {
            return Ok(TimeSpec::Freeze(None));
        }
        if let Some(name) = t.strip_prefix("freeze:") {
            let name = name.trim();
            if name.is_empty() {
                return Err("`freeze:` needs a freeze name".into());
            }
            return Ok(TimeSpec::Freeze(Some(name.to_string())));
        }
        let bad = || {
            format!(
                "`{s}` is not a time window: write `Fri 16:00 - Mon 08:00`, `Mon-Fri 22:00-06:00`, `12:00-13:00`, `freeze` or `freeze:NAME`"
            )
        };
        let r1 = find_clock(t).ok_or_else(bad)?;
        let day_part = t[..r1.start].trim();
        let start = parse_clock(&t[r1.clone()], false).ok_or_else(bad)?;
        let rest = t[r1.end..].trim_start().strip_prefix('-').ok_or_else(bad)?;
        let r2 = find_clock(rest).ok_or_else(bad)?;
        if !rest[r2.end..].trim().is_empty() {
            return Err(bad());
        }
        let end = parse_clock(&rest[r2.clone()], true).ok_or_else(bad)?;
        let end_day = rest[..r2.start].trim();
        if end_day.is_empty() {
            let days = if day_part.is_empty() {
                0x7f
            } else {
                parse_days(day_part).ok_or_else(bad)?
            };
            if start == end % 1440 && end != 1440 {
                return Err(format!("`{s}` is empty: it ends when it starts"));
            }
            let span_days = u8::from(end <= start);
            return Ok(TimeSpec::Window {
                source: t.to_string(),
                days,
                start,
                span_days,
                end,
            });
        }
        let d1 = parse_day(day_part).ok_or_else(bad)?;
        let d2 = parse_day(end_day).ok_or_else(bad)?;
        let mut span = (d2 + 7 - d1) % 7;
        if span == 0 && end <= start {
            span = 7;
        }
        Ok(TimeSpec::Window {
            source: t.to_string(),
            days: 1 << d1,
            start,
            span_days: span,
            end,
        })
    }

    /// Whether `now` is inside, in `tz`.
    pub fn contains(&self, now: Timestamp, tz: &TimeZone, freezes: &[Freeze]) -> bool {
        match self {
            TimeSpec::Freeze(None) => freezes.iter().any(|f| f.contains(now, tz)),
            TimeSpec::Freeze(Some(n)) => {
                freezes.iter().any(|f| &f.name == n && f.contains(now, tz))
            }
            TimeSpec::Window {
                days,
                start,
                span_days,
                end,
                ..
            } => {
                let today = now.to_zoned(tz.clone()).date();
                let at = |d: Date, minutes: u16| -> Option<Timestamp> {
                    let dt = d
                        .to_datetime(jiff::civil::Time::midnight())
                        .checked_add(Span::new().minutes(i64::from(minutes)))
                        .ok()?;
                    instant(dt, tz)
                };
                (0..=7i64).any(|back| {
                    let Ok(d) = today.checked_sub(Span::new().days(back)) else {
                        return false;
                    };
                    if days & (1 << weekday_index(d.weekday())) == 0 {
                        return false;
                    }
                    let Ok(last) = d.checked_add(Span::new().days(i64::from(*span_days))) else {
                        return false;
                    };
                    match (at(d, *start), at(last, *end)) {
                        (Some(s), Some(e)) => s <= now && now < e,
                        _ => false,
                    }
                })
            }
        }
    }
}

fn weekday_index(w: Weekday) -> u8 {
    w.to_monday_zero_offset() as u8
}

/// The subject and time conditions of a `when`, an `escalate` or an `exempt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conditions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<IdPattern>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<IdPattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<NetPattern>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time: Vec<TimeSpec>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
            && self.group.is_empty()
            && self.tty.is_none()
            && self.ssh.is_empty()
            && self.time.is_empty()
    }

    /// True, false, or unknown for this host, subject and instant.
    pub fn eval(&self, host: &HostContext, freezes: &[Freeze]) -> Option<bool> {
        let s = &host.subject;
        let tty = match (self.tty, s.interactive) {
            (None, _) => Some(true),
            (Some(want), Some(is)) => Some(want == is),
            (Some(_), None) => None,
        };
        let time = if self.time.is_empty() {
            Some(true)
        } else {
            match (host.now, host.tz.get()) {
                (Some(now), Some(tz)) => {
                    Some(self.time.iter().any(|t| t.contains(now, tz, freezes)))
                }
                _ => None,
            }
        };
        [
            user_holds(&self.user, s),
            group_holds(&self.group, s),
            tty,
            ssh_holds(&self.ssh, s),
            time,
        ]
        .into_iter()
        .fold(Some(true), and)
    }

    /// The names of the freezes these conditions name.
    pub fn freeze_names(&self) -> impl Iterator<Item = &str> {
        self.time.iter().filter_map(|t| match t {
            TimeSpec::Freeze(Some(n)) => Some(n.as_str()),
            _ => None,
        })
    }

    /// Short description for messages: `time Fri 16:00 - Mon 08:00`, `user deploy-bot`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let join = |v: Vec<String>| v.join(", ");
        if !self.user.is_empty() {
            parts.push(format!(
                "user {}",
                join(self.user.iter().map(json_str).collect())
            ));
        }
        if !self.group.is_empty() {
            parts.push(format!(
                "group {}",
                join(self.group.iter().map(json_str).collect())
            ));
        }
        if let Some(t) = self.tty {
            parts.push(
                if t {
                    "at a terminal"
                } else {
                    "without a terminal"
                }
                .to_string(),
            );
        }
        if !self.ssh.is_empty() {
            parts.push(format!(
                "ssh from {}",
                join(self.ssh.iter().map(json_str).collect())
            ));
        }
        if !self.time.is_empty() {
            parts.push(join(self.time.iter().map(json_str).collect()));
        }
        parts.join("; ")
    }
}

fn json_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn berlin() -> TimeZone {
        jiff::tz::db()
            .get("Europe/Berlin")
            .unwrap_or_else(|_| TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("posix"))
    }

    fn within(spec: &str, at: &str, tz: &TimeZone) -> bool {
        TimeSpec::parse(spec)
            .expect("spec")
            .contains(ts(at), tz, &[])
    }

    #[test]
    fn weekend_window_crosses_the_week_boundary_with_minute_edges() {
        let utc = TimeZone::UTC;
        let w = "Fri 16:00 - Mon 08:00";
        // 2026-11-20 is a Friday.
        assert!(!within(w, "2026-11-20T15:59:00Z", &utc));
        assert!(within(w, "2026-11-20T16:00:00Z", &utc));
        assert!(within(w, "2026-11-22T23:59:00Z", &utc)); // Sunday night
        assert!(within(w, "2026-11-23T00:00:00Z", &utc)); // Monday, new week
        assert!(within(w, "2026-11-23T07:59:00Z", &utc));
        assert!(!within(w, "2026-11-23T08:00:00Z", &utc));
        assert!(!within(w, "2026-11-25T12:00:00Z", &utc));
    }

    #[test]
    fn daily_window_crosses_midnight() {
        let utc = TimeZone::UTC;
        let w = "22:00-06:00";
        assert!(!within(w, "2026-11-24T21:59:00Z", &utc));
        assert!(within(w, "2026-11-24T22:00:00Z", &utc));
        assert!(within(w, "2026-11-25T05:59:00Z", &utc));
        assert!(!within(w, "2026-11-25T06:00:00Z", &utc));
        // Weekdays only: Friday night runs into Saturday, Saturday night does not start.
        let w = "Mon-Fri 22:00-06:00";
        assert!(within(w, "2026-11-21T05:00:00Z", &utc)); // Saturday 05:00, from Friday
        assert!(!within(w, "2026-11-21T23:00:00Z", &utc)); // Saturday 23:00
        assert!(!within(w, "2026-11-23T05:00:00Z", &utc)); // Monday 05:00, Sunday started none
        assert!(within(w, "2026-11-23T22:30:00Z", &utc));
        assert!(within("Sat,Sun 00:00-24:00", "2026-11-22T23:59:00Z", &utc));
        assert!(!within("Sat,Sun 00:00-24:00", "2026-11-23T00:00:00Z", &utc));
    }

    #[test]
    fn windows_follow_the_named_zone_across_dst() {
        let tz = berlin();
        let w = "Mon-Fri 08:00-18:00";
        // Winter: 08:00 in Berlin is 07:00 UTC.
        assert!(!within(w, "2026-03-27T06:59:00Z", &tz));
        assert!(within(w, "2026-03-27T07:00:00Z", &tz));
        // Summer (after 2026-03-29): 08:00 in Berlin is 06:00 UTC.
        assert!(!within(w, "2026-03-30T05:59:00Z", &tz));
        assert!(within(w, "2026-03-30T06:00:00Z", &tz));
        assert!(within(w, "2026-03-30T15:59:00Z", &tz));
        assert!(!within(w, "2026-03-30T16:00:00Z", &tz));
        // The night of the change (02:00 CET becomes 03:00 CEST at 01:00 UTC): a window to
        // 02:30 ends when the clocks jump, and one from 02:30 starts then.
        assert!(within("00:00-02:30", "2026-03-29T00:59:00Z", &tz));
        assert!(!within("00:00-02:30", "2026-03-29T01:00:00Z", &tz));
        assert!(within("02:30-04:00", "2026-03-29T01:00:00Z", &tz));
        assert!(!within("02:30-04:00", "2026-03-29T00:59:00Z", &tz));
        // Autumn (2026-10-25, 03:00 CEST becomes 02:00 CET at 01:00 UTC): the repeated hour
        // does not reopen a window that closed at 02:30 the first time.
        assert!(within("00:00-02:30", "2026-10-25T00:29:00Z", &tz));
        assert!(!within("00:00-02:30", "2026-10-25T00:30:00Z", &tz));
        assert!(!within("00:00-02:30", "2026-10-25T01:15:00Z", &tz)); // 02:15 CET
    }

    #[test]
    fn freezes_are_dated_and_inclusive_of_their_last_day() {
        let tz = berlin();
        let f = Freeze::new("holidays", "2026-12-20", "2027-01-04", None).expect("freeze");
        // Starts at midnight Berlin time (23:00 UTC the day before).
        assert!(!f.contains(ts("2026-12-19T22:59:00Z"), &tz));
        assert!(f.contains(ts("2026-12-19T23:00:00Z"), &tz));
        assert!(f.contains(ts("2027-01-04T22:59:00Z"), &tz));
        assert!(!f.contains(ts("2027-01-04T23:00:00Z"), &tz));
        let freezes = [f];
        let any = TimeSpec::parse("freeze").expect("spec");
        let named = TimeSpec::parse("freeze:holidays").expect("spec");
        let other = TimeSpec::parse("freeze:audit").expect("spec");
        let t = ts("2026-12-24T12:00:00Z");
        assert!(any.contains(t, &tz, &freezes));
        assert!(named.contains(t, &tz, &freezes));
        assert!(!other.contains(t, &tz, &freezes));
        assert!(Freeze::new("x", "2027-01-04", "2026-12-20", None).is_err());
        assert!(Freeze::new("x", "2026-12-20T18:00", "2026-12-20 20:30", None).is_ok());
    }

    #[test]
    fn bad_windows_are_refused() {
        for bad in [
            "Fri 16:00",
            "Fri 16:00 - Mon",
            "25:00-06:00",
            "Fryday 16:00 - Mon 08:00",
            "10:00-10:00",
            "freeze:",
            "whenever",
        ] {
            assert!(TimeSpec::parse(bad).is_err(), "{bad}");
        }
        assert!(TimeSpec::parse("Friday 16:00-Monday 08:00").is_ok());
        assert!(TimeSpec::parse("00:00-24:00").is_ok());
    }

    fn subject(user: &str, groups: &[(&str, u32)], origin: Origin, tty: bool) -> Subject {
        Subject {
            user: Some(user.into()),
            uid: Some(1500),
            groups: Some(groups.iter().map(|(n, g)| (n.to_string(), *g)).collect()),
            interactive: Some(tty),
            origin,
        }
    }

    fn host_with(s: Subject) -> HostContext {
        let mut h = HostContext::unknown();
        h.subject = s;
        h.now = Some(ts("2026-11-24T12:00:00Z"));
        h.tz = crate::host::LazyZone::fixed(Some(TimeZone::UTC));
        h
    }

    #[test]
    fn user_group_tty_and_ssh_conditions() {
        let ssh = Origin::Ssh("10.1.2.3".parse().expect("ip"));
        let h = host_with(subject("deploy-bot", &[("automation", 990)], ssh, false));
        let c = |user: &[&str], group: &[&str], tty: Option<bool>, net: &[&str]| Conditions {
            user: user
                .iter()
                .map(|u| IdPattern::parse(u).expect("id"))
                .collect(),
            group: group
                .iter()
                .map(|g| IdPattern::parse(g).expect("id"))
                .collect(),
            tty,
            ssh: net
                .iter()
                .map(|n| NetPattern::parse(n).expect("net"))
                .collect(),
            time: Vec::new(),
        };
        assert_eq!(c(&["deploy-bot"], &[], None, &[]).eval(&h, &[]), Some(true));
        assert_eq!(c(&["1500"], &[], None, &[]).eval(&h, &[]), Some(true));
        assert_eq!(c(&["alice"], &[], None, &[]).eval(&h, &[]), Some(false));
        assert_eq!(c(&["!deploy-*"], &[], None, &[]).eval(&h, &[]), Some(false));
        assert_eq!(c(&[], &["automation"], None, &[]).eval(&h, &[]), Some(true));
        assert_eq!(c(&[], &["990"], None, &[]).eval(&h, &[]), Some(true));
        assert_eq!(c(&[], &["newcomers"], None, &[]).eval(&h, &[]), Some(false));
        assert_eq!(c(&[], &[], Some(false), &[]).eval(&h, &[]), Some(true));
        assert_eq!(c(&[], &[], Some(true), &[]).eval(&h, &[]), Some(false));
        assert_eq!(c(&[], &[], None, &["10.0.0.0/8"]).eval(&h, &[]), Some(true));
        assert_eq!(c(&[], &[], None, &["10.1.2.3"]).eval(&h, &[]), Some(true));
        assert_eq!(
            c(&[], &[], None, &["192.168.0.0/16", "local"]).eval(&h, &[]),
            Some(false)
        );
        assert_eq!(
            c(&[], &[], None, &["!10.1.0.0/16"]).eval(&h, &[]),
            Some(false)
        );
        let local = host_with(subject("alice", &[], Origin::Local, true));
        assert_eq!(c(&[], &[], None, &["local"]).eval(&local, &[]), Some(true));
        assert_eq!(
            c(&[], &[], None, &["!local"]).eval(&local, &[]),
            Some(false)
        );
        // Unknown facts are unknown, and false still wins.
        let unknown = host_with(Subject::unknown());
        assert_eq!(c(&["deploy-bot"], &[], None, &[]).eval(&unknown, &[]), None);
        assert_eq!(
            c(&[], &["newcomers"], Some(true), &["local"]).eval(&unknown, &[]),
            None
        );
        assert_eq!(
            c(&["deploy-bot"], &[], Some(true), &[]).eval(&h, &[]),
            Some(false)
        );
    }

    #[test]
    fn networks_must_be_written_as_networks() {
        assert!(NetPattern::parse("10.0.0.0/8").is_ok());
        assert!(NetPattern::parse("2001:db8::/32").is_ok());
        assert!(NetPattern::parse("10.0.0.1/8").is_err());
        assert!(NetPattern::parse("10.0.0.0/33").is_err());
        assert!(NetPattern::parse("bastion").is_err());
        let v6 = NetPattern::parse("2001:db8::/32").expect("net");
        assert!(v6.matches(&Origin::Ssh("2001:db8::5".parse().expect("ip"))));
        assert!(!v6.matches(&Origin::Ssh("10.0.0.1".parse().expect("ip"))));
    }

    #[test]
    fn unknown_clock_or_zone_is_unknown() {
        let mut h = HostContext::unknown();
        let c = Conditions {
            time: vec![TimeSpec::parse("Fri 16:00 - Mon 08:00").expect("spec")],
            ..Conditions::default()
        };
        assert_eq!(c.eval(&h, &[]), None);
        h.now = Some(ts("2026-11-21T12:00:00Z"));
        h.tz = crate::host::LazyZone::fixed(None);
        assert_eq!(c.eval(&h, &[]), None);
        h.tz = crate::host::LazyZone::fixed(Some(TimeZone::UTC));
        assert_eq!(c.eval(&h, &[]), Some(true));
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use crate::policy::load::parse_pack;
    use crate::policy::Action;
    use crate::shell::{analyze, Context};

    const PACK: &str = r#"
[[freeze]]
name = "holidays"
from = "2026-12-20"
to = "2027-01-04"

[[rule]]
id = "site.kubectl-delete"
action = "confirm"
match = { program = ["kubectl"], subcommand = ["delete"] }
message = "kubectl delete on {host}"
tests.match = ["kubectl delete pod x"]
exempt = [{ user = ["deploy-bot"], ssh = ["10.20.0.0/16"], reason = "CI deploys prune old pods" }]

[[rule.escalate]]
when = { time = ["Fri 16:00 - Mon 08:00"] }

[[rule.escalate]]
when = { time = ["freeze:holidays"] }
to = "deny"
reason = "change freeze"

[[rule]]
id = "site.newcomers-restart"
action = "confirm"
when = { group = ["newcomers"], tty = true }
match = { program = ["systemctl"], subcommand = ["restart"] }
message = "restart"
tests.match = ["systemctl restart nginx"]
"#;

    fn host_at(now: &str, subject: Subject) -> HostContext {
        let mut h = HostContext::unknown();
        h.now = Some(now.parse().expect("ts"));
        h.tz = crate::host::LazyZone::fixed(Some(TimeZone::UTC));
        h.subject = subject;
        h
    }

    fn action(cmd: &str, host: &HostContext) -> Option<Action> {
        let (pack, diags) = parse_pack("t.toml", "t", PACK);
        assert!(diags.is_empty(), "{diags:?}");
        let ctx = Context {
            cwd: "/root".into(),
            home: Some("/root".into()),
            ..Context::default()
        };
        let a = analyze(cmd, &ctx);
        let inv = a.invocations.first()?;
        pack.rules
            .iter()
            .filter(|r| r.applies(host, &pack.freezes))
            .filter_map(|r| r.matches_in(inv, 0, host, &pack.freezes))
            .map(|m| m.action)
            .max()
    }

    fn person(user: &str, groups: &[&str], origin: Origin, tty: bool) -> Subject {
        Subject {
            user: Some(user.into()),
            uid: Some(1000),
            groups: Some(groups.iter().map(|g| (g.to_string(), 2000)).collect()),
            interactive: Some(tty),
            origin,
        }
    }

    #[test]
    fn escalation_raises_one_step_in_the_window_and_to_deny_in_a_freeze() {
        let alice = || person("alice", &["ops"], Origin::Local, true);
        let tue = host_at("2026-11-24T12:00:00Z", alice());
        let fri_before = host_at("2026-11-20T15:59:00Z", alice());
        let fri_after = host_at("2026-11-20T16:00:00Z", alice());
        let xmas = host_at("2026-12-24T12:00:00Z", alice()); // a Thursday
        let cmd = "kubectl delete pod web-1";
        assert_eq!(action(cmd, &tue), Some(Action::Confirm));
        assert_eq!(action(cmd, &fri_before), Some(Action::Confirm));
        assert_eq!(action(cmd, &fri_after), Some(Action::Approve));
        assert_eq!(action(cmd, &xmas), Some(Action::Deny));
        // No clock: the escalations are taken to hold.
        let mut unknown = tue.clone();
        unknown.now = None;
        assert_eq!(action(cmd, &unknown), Some(Action::Deny));
    }

    #[test]
    fn exemption_needs_every_fact_known_and_true() {
        let cmd = "kubectl delete pod web-1";
        let ci = Origin::Ssh("10.20.3.4".parse().expect("ip"));
        let bot = host_at("2026-11-24T12:00:00Z", person("deploy-bot", &[], ci, false));
        assert_eq!(action(cmd, &bot), Some(Action::Allow));
        // From elsewhere, or with the origin unknown, the bot is asked like anyone.
        let elsewhere = Origin::Ssh("192.0.2.1".parse().expect("ip"));
        let stray = host_at(
            "2026-11-24T12:00:00Z",
            person("deploy-bot", &[], elsewhere, false),
        );
        assert_eq!(action(cmd, &stray), Some(Action::Confirm));
        let unknown = host_at(
            "2026-11-24T12:00:00Z",
            person("deploy-bot", &[], Origin::Unknown, false),
        );
        assert_eq!(action(cmd, &unknown), Some(Action::Confirm));
        // A freeze that says deny still stops the exempt bot; a weekend step only warns it.
        let xmas = host_at("2026-12-24T12:00:00Z", person("deploy-bot", &[], ci, false));
        assert_eq!(action(cmd, &xmas), Some(Action::Deny));
        let sat = host_at("2026-11-21T12:00:00Z", person("deploy-bot", &[], ci, false));
        assert_eq!(action(cmd, &sat), Some(Action::Warn));
    }

    #[test]
    fn group_and_tty_scope_a_rule() {
        let cmd = "systemctl restart nginx";
        let t = "2026-11-24T12:00:00Z";
        let newcomer = host_at(t, person("bob", &["newcomers"], Origin::Local, true));
        let veteran = host_at(t, person("carol", &["ops"], Origin::Local, true));
        let newcomer_cron = host_at(t, person("bob", &["newcomers"], Origin::Local, false));
        assert_eq!(action(cmd, &newcomer), Some(Action::Confirm));
        assert_eq!(action(cmd, &veteran), None);
        assert_eq!(action(cmd, &newcomer_cron), None);
        // Unknown groups: the rule applies (fail safe).
        let unknown = host_at(t, Subject::unknown());
        assert_eq!(action(cmd, &unknown), Some(Action::Confirm));
    }

    #[test]
    fn exemptions_must_name_who_and_why_and_freezes_must_exist() {
        let bad = r#"
[[rule]]
id = "x"
action = "deny"
match = { program = ["rm"] }
message = "m"
exempt = [{ user = ["!alice"], reason = "" }]
escalate = [{ when = { time = ["freeze:nope", "Fry 10:00-11:00"] } }]
"#;
        let (_, diags) = parse_pack("b.toml", "b", bad);
        let text: Vec<String> = diags.iter().map(|d| d.headline()).collect();
        assert!(
            text.iter()
                .any(|d| d.contains("must name the users or groups")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|d| d.contains("needs a `reason`")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|d| d.contains("b.toml:8:") && d.contains("`time`")),
            "{text:?}"
        );
        let good = bad
            .replace(", \"Fry 10:00-11:00\"", "")
            .replace("exempt = [{ user = [\"!alice\"], reason = \"\" }]", "");
        let (pack, diags) = parse_pack("b.toml", "b", &good);
        assert!(diags.is_empty(), "{diags:?}");
        let missing = crate::policy::load::unknown_freezes(
            pack.rules.iter().map(|r| (r, "b.toml")),
            &pack.freezes,
        );
        assert_eq!(missing.len(), 1);
        assert!(
            missing[0].message.contains("names freeze `nope`"),
            "{missing:?}"
        );
    }
}
