//! Reading the log for people: filters, search, statistics and tail. Everything streams line
//! by line; memory is bounded by the longest line (and, for stats, the number of distinct
//! users, hosts, rules and outcomes).

#![forbid(unsafe_code)]

use super::record::parse_time;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// The members a reader needs, borrowed from the line where possible. Unknown members and
/// unknown values are accepted (newer writers, older readers).
#[derive(Debug, Deserialize)]
pub struct View<'a> {
    #[serde(borrow, default)]
    pub time: Cow<'a, str>,
    #[serde(borrow, default)]
    pub event: Cow<'a, str>,
    #[serde(borrow, default)]
    pub host: Cow<'a, str>,
    #[serde(borrow, default)]
    pub user: Cow<'a, str>,
    #[serde(borrow, default)]
    pub session: Cow<'a, str>,
    #[serde(borrow, default)]
    pub command: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub rules: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub outcome: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub detail: Option<Cow<'a, str>>,
    #[serde(default)]
    pub exit_status: Option<i64>,
    #[serde(borrow, default)]
    pub integration: Option<Cow<'a, str>>,
    #[serde(default)]
    pub loaded: Option<bool>,
    #[serde(default)]
    pub commands: Option<u64>,
}

impl View<'_> {
    /// A login whose commands the shell integration did not see: its end record says the
    /// integration never loaded, or its start record says none was set up.
    pub fn unguarded(&self) -> bool {
        self.loaded == Some(false)
            || (self.event == "session" && self.integration.as_deref() == Some("none"))
    }
}

/// Search criteria; all given must hold.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub user: Option<String>,
    pub host: Option<String>,
    pub rule: Option<String>,
    pub outcome: Option<String>,
    pub event: Option<String>,
    pub session: Option<String>,
    /// Records at or after this time (RFC 3339 UTC with milliseconds, as written).
    pub since: Option<String>,
    /// Records before this time.
    pub until: Option<String>,
    /// Regex over the command text.
    pub grep: Option<regex::Regex>,
    /// Only logins the integration did not guard ([`View::unguarded`]).
    pub unguarded: bool,
}

/// Turn a `--since` value (`YYYY-MM-DD` or RFC 3339) into the written form, for string
/// comparison with `time`.
pub fn since_bound(s: &str) -> Option<String> {
    parse_time(s).map(super::record::format_millis)
}

/// Turn an `--until` value into an exclusive bound: a bare date means the end of that day.
pub fn until_bound(s: &str) -> Option<String> {
    let t = parse_time(s)?;
    let t = if s.trim().len() == 10 {
        t + 86_400_000
    } else {
        t
    };
    Some(super::record::format_millis(t))
}

impl Filter {
    /// Whether `v` passes.
    pub fn matches(&self, v: &View<'_>) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.user, &v.user)
            && eq(&self.host, &v.host)
            && eq(&self.event, &v.event)
            && eq(&self.session, &v.session)
            && eq(&self.outcome, v.outcome.as_deref().unwrap_or(""))
            && self
                .rule
                .as_deref()
                .is_none_or(|r| v.rules.iter().any(|x| x == r))
            && (!self.unguarded || v.unguarded())
            && self.since.as_deref().is_none_or(|s| &*v.time >= s)
            && self.until.as_deref().is_none_or(|u| &*v.time < u)
            && self
                .grep
                .as_ref()
                .is_none_or(|g| g.is_match(v.command.as_deref().unwrap_or("")))
    }
}

/// Counts of lines read.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Scanned {
    /// Lines read.
    pub lines: u64,
    /// Lines that are not records (reported, skipped).
    pub unparseable: u64,
    /// Records that matched.
    pub matched: u64,
}

/// Stream every line of `reader`; call `each(line, view)` for records that pass `filter`.
/// `each` returns false to stop.
pub fn scan<R: std::io::Read>(
    reader: R,
    filter: &Filter,
    scanned: &mut Scanned,
    mut each: impl FnMut(&[u8], &View<'_>) -> bool,
) -> std::io::Result<bool> {
    let mut r = BufReader::with_capacity(1 << 20, reader);
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(true);
        }
        scanned.lines += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        match serde_json::from_slice::<View<'_>>(line) {
            Ok(v) => {
                if filter.matches(&v) {
                    scanned.matched += 1;
                    if !each(line, &v) {
                        return Ok(false);
                    }
                }
            }
            Err(_) => scanned.unparseable += 1,
        }
    }
}

/// Counts by outcome, rule, user, host and event.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub records: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_rule: BTreeMap<String, u64>,
    pub by_user: BTreeMap<String, u64>,
    pub by_host: BTreeMap<String, u64>,
    pub by_event: BTreeMap<String, u64>,
}

impl Stats {
    /// Count one record.
    pub fn add(&mut self, v: &View<'_>) {
        self.records += 1;
        if self.first.as_deref().is_none_or(|f| *v.time < *f) {
            self.first = Some(v.time.to_string());
        }
        if self.last.as_deref().is_none_or(|l| *v.time > *l) {
            self.last = Some(v.time.to_string());
        }
        let bump = |m: &mut BTreeMap<String, u64>, k: &str| {
            if let Some(n) = m.get_mut(k) {
                *n += 1;
            } else {
                m.insert(k.to_string(), 1);
            }
        };
        bump(&mut self.by_outcome, v.outcome.as_deref().unwrap_or("-"));
        for r in &v.rules {
            bump(&mut self.by_rule, r);
        }
        bump(&mut self.by_user, &v.user);
        bump(&mut self.by_host, &v.host);
        bump(&mut self.by_event, &v.event);
    }
}

/// The last `n` lines of a file, read backwards from its end (memory: those lines only).
pub fn last_lines(f: &File, n: usize) -> std::io::Result<Vec<Vec<u8>>> {
    let size = f.metadata()?.len();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    if n == 0 || size == 0 {
        return Ok(lines);
    }
    let mut pos = size;
    let mut carry: Vec<u8> = Vec::new();
    let mut skip_final_newline = true;
    while pos > 0 && lines.len() < n {
        let step = pos.min(64 * 1024);
        pos -= step;
        let mut chunk = vec![0u8; usize::try_from(step).unwrap_or(0)];
        f.read_exact_at(&mut chunk, pos)?;
        chunk.extend_from_slice(&carry);
        let mut end = chunk.len();
        if skip_final_newline && chunk.last() == Some(&b'\n') {
            end -= 1;
        }
        skip_final_newline = false;
        let mut cut = end;
        while let Some(i) = chunk[..cut].iter().rposition(|&c| c == b'\n') {
            lines.push(chunk[i + 1..end].to_vec());
            end = i;
            cut = i;
            if lines.len() == n {
                break;
            }
        }
        carry = chunk[..end].to_vec();
        if pos == 0 && lines.len() < n && !carry.is_empty() {
            lines.push(std::mem::take(&mut carry));
        }
    }
    lines.reverse();
    Ok(lines)
}

/// Follow `path` like `tail -f`: call `each` with each new complete line, forever, reopening
/// the path when it is rotated. Returns when `each` returns false or on an error.
pub fn follow(path: &Path, mut each: impl FnMut(&[u8]) -> bool) -> std::io::Result<()> {
    let mut f = File::open(path)?;
    let mut ino = f.metadata()?.ino();
    f.seek(SeekFrom::End(0))?;
    let mut r = BufReader::new(f);
    let mut partial: Vec<u8> = Vec::new();
    loop {
        let mut buf = Vec::new();
        let n = r.read_until(b'\n', &mut buf)?;
        if n > 0 {
            partial.extend_from_slice(&buf);
            if partial.ends_with(b"\n") {
                partial.pop();
                if !each(&partial) {
                    return Ok(());
                }
                partial.clear();
            }
            continue;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        if let Ok(m) = std::fs::metadata(path) {
            if m.ino() != ino {
                // Rotated: finish nothing more from the old file, start the new one at 0.
                let f = File::open(path)?;
                ino = f.metadata()?.ino();
                r = BufReader::new(f);
                partial.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn bounds() {
        assert_eq!(
            since_bound("2026-11-23").as_deref(),
            Some("2026-11-23T00:00:00.000Z")
        );
        assert_eq!(
            until_bound("2026-11-23").as_deref(),
            Some("2026-11-24T00:00:00.000Z")
        );
        assert_eq!(
            until_bound("2026-11-23T20:00:00+02:00").as_deref(),
            Some("2026-11-23T18:00:00.000Z")
        );
        assert_eq!(since_bound("last week"), None);
    }

    #[test]
    fn filters_and_counts() {
        let data = br#"{"v":1,"time":"2026-11-23T10:00:00.000Z","event":"command","host":"db1","user":"alice","session":"s","command":"rm -rf /x","rules":["fs.rm"],"outcome":"denied"}
not json
{"v":1,"time":"2026-11-24T10:00:00.000Z","event":"command","host":"db2","user":"bob","session":"s","command":"ls","outcome":"allowed"}
"#;
        let f = Filter {
            user: Some("alice".into()),
            grep: regex::Regex::new("rm").ok(),
            until: until_bound("2026-11-23"),
            ..Filter::default()
        };
        let mut sc = Scanned::default();
        let mut hits = 0;
        scan(&data[..], &f, &mut sc, |_, _| {
            hits += 1;
            true
        })
        .unwrap_or_default();
        assert_eq!((hits, sc.lines, sc.unparseable), (1, 3, 1));
        let mut st = Stats::default();
        scan(
            &data[..],
            &Filter::default(),
            &mut Scanned::default(),
            |_, v| {
                st.add(v);
                true
            },
        )
        .unwrap_or_default();
        assert_eq!(st.records, 2);
        assert_eq!(st.by_outcome.get("denied"), Some(&1));
        assert_eq!(st.by_rule.get("fs.rm"), Some(&1));
        assert_eq!(st.first.as_deref(), Some("2026-11-23T10:00:00.000Z"));
    }

    #[test]
    fn unguarded_logins() {
        let data = br#"{"event":"session","session":"a","integration":"bash"}
{"event":"session","session":"a","detail":"integration loaded","integration":"bash","loaded":true}
{"event":"session","session":"a","outcome":"exit","integration":"bash","loaded":true,"commands":4}
{"event":"session","session":"b","integration":"bash"}
{"event":"session","session":"b","outcome":"exit","integration":"bash","loaded":false,"commands":0}
{"event":"session","session":"c","integration":"none"}
{"event":"command","session":"c","command":"ls"}
"#;
        let f = Filter {
            unguarded: true,
            ..Filter::default()
        };
        let mut found = Vec::new();
        scan(&data[..], &f, &mut Scanned::default(), |_, v| {
            found.push(v.session.to_string());
            true
        })
        .unwrap_or_default();
        assert_eq!(found, ["b", "c"]);
    }

    #[test]
    fn last_lines_reads_backwards() {
        let mut f = tempfile::tempfile().unwrap_or_else(|e| panic!("{e}"));
        for i in 0..20_000 {
            writeln!(f, "line {i}").unwrap_or_else(|e| panic!("{e}"));
        }
        let got = last_lines(&f, 3).unwrap_or_default();
        assert_eq!(
            got,
            [
                b"line 19997".to_vec(),
                b"line 19998".to_vec(),
                b"line 19999".to_vec()
            ]
        );
        let all = last_lines(&f, 50_000).unwrap_or_default();
        assert_eq!(all.len(), 20_000);
        assert_eq!(all[0], b"line 0");
    }
}
