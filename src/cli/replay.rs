//! Replaying history through policies: `policy replay`, `policy diff` and `policy coverage`.
//!
//! A history is a stream of commands, each with what is known of when, where and by whom it
//! ran: audit records carry all of it (time, cwd, user, SSH client, tty), a plain list of
//! commands carries none (the instant is `--now` or the real time, the subject unknown unless
//! `--user` names one). Everything streams: memory grows with the number of changed commands,
//! not with the history. Each command is analysed once and decided by each policy; a
//! `PolicySet` keeps its parsed rules, so one set per side is reused for the whole history.

use crate::decide::Verdict;
use crate::guard::rules_verdict;
use crate::host::HostContext;
use crate::policy::{Action, PolicySet};
use crate::shell::{analyze, Context};
use crate::subject::{Origin, Subject};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// One command of a history.
#[derive(Debug, Clone)]
pub struct Entry {
    pub command: String,
    pub cwd: Option<String>,
    pub now: Option<jiff::Timestamp>,
    pub subject: Subject,
}

/// Where a history comes from.
pub enum Source {
    /// One command per line; blank lines and `#` comments are skipped.
    Commands,
    /// Audit log lines; only `command` records with a command are replayed.
    Audit,
}

#[derive(Deserialize)]
struct AuditLine<'a> {
    #[serde(borrow, default)]
    event: Cow<'a, str>,
    #[serde(borrow, default)]
    time: Cow<'a, str>,
    #[serde(borrow, default)]
    user: Cow<'a, str>,
    #[serde(default)]
    uid: Option<u32>,
    #[serde(borrow, default)]
    ssh_client: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tty: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    command: Option<Cow<'a, str>>,
}

/// Reads a history line by line.
pub struct Reader<R> {
    lines: std::io::Lines<R>,
    source: Source,
    /// Subjects by user name, looked up once.
    subjects: HashMap<String, Subject>,
    /// Lines that were not records (audit) and were skipped.
    pub skipped: usize,
    /// The instant for plain command lists.
    pub now: Option<jiff::Timestamp>,
    /// The subject for plain command lists.
    pub subject: Subject,
}

impl<R: BufRead> Reader<R> {
    pub fn new(r: R, source: Source) -> Self {
        Reader {
            lines: r.lines(),
            source,
            subjects: HashMap::new(),
            skipped: 0,
            now: None,
            subject: Subject::unknown(),
        }
    }

    fn subject_for(&mut self, user: &str, uid: Option<u32>) -> Subject {
        let mut s = self
            .subjects
            .entry(user.to_string())
            .or_insert_with(|| Subject::for_user(user))
            .clone();
        if s.uid.is_none() {
            s.uid = uid;
        }
        s
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            let line = match self.lines.next()? {
                Ok(l) => l,
                Err(_) => {
                    self.skipped += 1;
                    continue;
                }
            };
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            match self.source {
                Source::Commands => {
                    if t.starts_with('#') {
                        continue;
                    }
                    return Some(Entry {
                        command: t.to_string(),
                        cwd: None,
                        now: self.now,
                        subject: self.subject.clone(),
                    });
                }
                Source::Audit => {
                    let Ok(rec) = serde_json::from_str::<AuditLine<'_>>(t) else {
                        self.skipped += 1;
                        continue;
                    };
                    let Some(command) = rec.command.filter(|c| !c.trim().is_empty()) else {
                        continue;
                    };
                    if rec.event != "command" {
                        continue;
                    }
                    let mut subject = if rec.user.is_empty() {
                        Subject::unknown()
                    } else {
                        self.subject_for(&rec.user, rec.uid)
                    };
                    subject.interactive = Some(rec.tty.is_some());
                    subject.origin = match rec.ssh_client.as_deref() {
                        None => Origin::Local,
                        Some(a) => {
                            crate::subject::parse_addr(a).map_or(Origin::Unknown, Origin::Ssh)
                        }
                    };
                    return Some(Entry {
                        command: command.into_owned(),
                        cwd: rec.cwd.map(Cow::into_owned),
                        now: rec.time.parse().ok(),
                        subject,
                    });
                }
            }
        }
    }
}

/// How a verdict changed between two policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Denied now, not before.
    NewlyDenied,
    /// Asks now (confirm, approve), and did not before (ran, or was denied).
    NewlyPrompted,
    /// Runs without asking now (allow, warn), and did not before.
    NewlyAllowed,
    /// Same class, another action (allow ↔ warn, confirm ↔ approve).
    Changed,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::NewlyDenied => "newly denied",
            Change::NewlyPrompted => "newly prompted",
            Change::NewlyAllowed => "newly allowed",
            Change::Changed => "changed within its class",
        }
    }

    /// The change from `old` to `new`, if any.
    pub fn between(old: Action, new: Action) -> Option<Change> {
        fn class(a: Action) -> u8 {
            match a {
                Action::Allow | Action::Warn => 0,
                Action::Confirm | Action::Approve => 1,
                Action::Deny => 2,
            }
        }
        if old == new {
            return None;
        }
        Some(match (class(old) == class(new), class(new)) {
            (true, _) => Change::Changed,
            (false, 2) => Change::NewlyDenied,
            (false, 1) => Change::NewlyPrompted,
            (false, _) => Change::NewlyAllowed,
        })
    }
}

/// A command whose verdict changed, with how often it occurs in the history.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Changed {
    pub command: String,
    pub count: usize,
    pub from: Action,
    pub to: Action,
}

/// The changes attributed to one rule.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleChanges {
    pub count: usize,
    pub commands: Vec<Changed>,
}

/// What `policy diff` / `policy replay` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffReport {
    /// Commands replayed.
    pub commands: usize,
    /// Commands whose verdict changed.
    pub changed: usize,
    /// Lines that were not records and were skipped.
    pub skipped: usize,
    /// Per kind of change, per rule (the rule that decides the stricter side).
    pub changes: BTreeMap<Change, BTreeMap<String, RuleChanges>>,
}

fn shell_ctx(cwd: Option<&str>, home: Option<&str>) -> Context {
    Context {
        cwd: cwd
            .filter(|c| c.starts_with('/'))
            .unwrap_or("/")
            .to_string(),
        home: home.map(str::to_string),
        ..Context::default()
    }
}

/// The host as it was for `entry`: its instant and subject.
fn host_for(base: &HostContext, e: &Entry) -> HostContext {
    let mut h = base.clone();
    h.now = e.now.or(base.now);
    h.subject = e.subject.clone();
    h
}

fn decisive_rule(v: &Verdict) -> String {
    v.decisive()
        .map_or_else(|| "(no rule)".to_string(), |m| m.rule.clone())
}

/// Replay `history` through `old` and `new`.
pub fn diff(
    history: impl Iterator<Item = Entry>,
    old: &PolicySet,
    new: &PolicySet,
    base: &HostContext,
) -> DiffReport {
    let mut report = DiffReport::default();
    // (change, rule, command) → index in that rule's list, so repeats are counted once.
    let mut seen: HashMap<(Change, String, String), usize> = HashMap::new();
    let mut host = base.clone();
    for e in history {
        report.commands += 1;
        host.now = e.now.or(base.now);
        host.subject = e.subject;
        let analysis = analyze(&e.command, &shell_ctx(e.cwd.as_deref(), None));
        let a = rules_verdict(&analysis, old, &host);
        let b = rules_verdict(&analysis, new, &host);
        let Some(change) = Change::between(a.action, b.action) else {
            continue;
        };
        report.changed += 1;
        let rule = if b.action > a.action {
            decisive_rule(&b)
        } else {
            decisive_rule(&a)
        };
        let per_rule = report
            .changes
            .entry(change)
            .or_default()
            .entry(rule.clone())
            .or_default();
        per_rule.count += 1;
        let key = (change, rule, e.command.clone());
        match seen.get(&key) {
            Some(&i) => per_rule.commands[i].count += 1,
            None => {
                seen.insert(key, per_rule.commands.len());
                per_rule.commands.push(Changed {
                    command: e.command,
                    count: 1,
                    from: a.action,
                    to: b.action,
                });
            }
        }
    }
    report
}

impl DiffReport {
    /// The report for people.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} commands replayed, {} changed verdict\n",
            self.commands, self.changed
        );
        for (change, rules) in &self.changes {
            let n: usize = rules.values().map(|r| r.count).sum();
            out.push_str(&format!("\n{} ({n})\n", change.label()));
            for (rule, rc) in rules {
                out.push_str(&format!("  {rule} ({})\n", rc.count));
                for c in &rc.commands {
                    out.push_str(&format!(
                        "    {:>5}x  {:<7} -> {:<7}  {}\n",
                        c.count,
                        c.from.as_str(),
                        c.to.as_str(),
                        c.command
                    ));
                }
            }
        }
        if self.skipped > 0 {
            out.push_str(&format!(
                "\n{} lines were not audit records and were skipped\n",
                self.skipped
            ));
        }
        out
    }
}

/// What `policy coverage` found: matches per rule in force.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    pub commands: usize,
    /// Rule id → number of commands it matched (0: never).
    pub rules: BTreeMap<String, usize>,
    /// Rules without embedded examples.
    pub untested: Vec<String>,
    pub skipped: usize,
}

/// Replay `history` through `policy`, counting the commands each rule matched.
pub fn coverage(
    history: impl Iterator<Item = Entry>,
    policy: &PolicySet,
    base: &HostContext,
) -> Coverage {
    let (rules, _) = policy.all_rules();
    let mut cov = Coverage {
        rules: rules.iter().map(|r| (r.id.clone(), 0)).collect(),
        untested: rules
            .iter()
            .filter(|r| r.tests.is_empty())
            .map(|r| r.id.clone())
            .collect(),
        ..Coverage::default()
    };
    for e in history {
        cov.commands += 1;
        let host = host_for(base, &e);
        let analysis = analyze(&e.command, &shell_ctx(e.cwd.as_deref(), None));
        let v = rules_verdict(&analysis, policy, &host);
        let mut ids: Vec<&str> = v.matches.iter().map(|m| m.rule.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            if let Some(n) = cov.rules.get_mut(id) {
                *n += 1;
            }
        }
    }
    cov
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_classified_by_what_the_human_sees() {
        use Action::*;
        assert_eq!(Change::between(Allow, Deny), Some(Change::NewlyDenied));
        assert_eq!(Change::between(Confirm, Deny), Some(Change::NewlyDenied));
        assert_eq!(Change::between(Warn, Confirm), Some(Change::NewlyPrompted));
        assert_eq!(Change::between(Deny, Approve), Some(Change::NewlyPrompted));
        assert_eq!(Change::between(Confirm, Warn), Some(Change::NewlyAllowed));
        assert_eq!(Change::between(Confirm, Approve), Some(Change::Changed));
        assert_eq!(Change::between(Deny, Deny), None);
    }

    #[test]
    fn audit_lines_carry_time_place_and_person() {
        let log = concat!(
            r#"{"v":1,"time":"2026-11-20T16:30:00.000Z","event":"command","host":"h","user":"nobody-here-xyz","uid":4242,"ssh_client":"10.1.2.3:5555","tty":"/dev/pts/1","cwd":"/srv","command":"rm -rf data"}"#,
            "\n",
            r#"{"v":1,"time":"2026-11-20T16:31:00.000Z","event":"session","host":"h","user":"u","uid":1}"#,
            "\nnot json\n",
            r#"{"v":1,"time":"2026-11-20T16:32:00.000Z","event":"command","host":"h","user":"u","uid":1,"command":"ls"}"#,
            "\n"
        );
        let mut r = Reader::new(log.as_bytes(), Source::Audit);
        let a = r.next().expect("first");
        assert_eq!(a.command, "rm -rf data");
        assert_eq!(a.cwd.as_deref(), Some("/srv"));
        assert_eq!(a.now, "2026-11-20T16:30:00Z".parse().ok());
        assert_eq!(a.subject.uid, Some(4242));
        assert_eq!(a.subject.interactive, Some(true));
        assert_eq!(
            a.subject.origin,
            Origin::Ssh("10.1.2.3".parse().expect("ip"))
        );
        let b = r.next().expect("second");
        assert_eq!(b.command, "ls");
        assert_eq!(b.subject.origin, Origin::Local);
        assert_eq!(b.subject.interactive, Some(false));
        assert!(r.next().is_none());
        assert_eq!(r.skipped, 1);
    }
}
