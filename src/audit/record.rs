//! The audit record: one JSON object per line, schema version 1.
//!
//! The member order of the serialised JSON is the field order of [`Record`] and is part of the
//! schema: `v` first, `prev` second to last and `hash` last. The hash chain relies on that order
//! (see [`crate::audit::chain`]), so never reorder, and only ever add new optional fields before
//! `redacted`.

use crate::host::HostContext;
use crate::subject::user_name;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Schema version written in every record's `v` member.
pub const SCHEMA_VERSION: u32 = 1;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// A decision about a command (the common case).
    Command,
    /// A second-person approval: requested, approved, used, expired, refused.
    Approval,
    /// A login or break-glass session starting.
    Session,
    /// The end of the log was not a whole record (a writer died mid-write, or foreign bytes were
    /// appended); `offset` names the first byte that is not part of a record.
    TornTail,
    /// One audit sink failed; `detail` says which and why. Written to the sink that still works.
    SinkFailure,
    /// Written by the hidden test subcommands of `prodguard audit`, never by a real decision.
    Test,
    /// A signed statement of the chain's length and head, written by the writer that holds the
    /// host key (see [`crate::audit::checkpoint`]); `checkpoint` holds the signed fields.
    Checkpoint,
}

/// The policy's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Allow,
    Warn,
    Confirm,
    Approve,
    Deny,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Allowed without asking.
    Allowed,
    /// Allowed after a warning was shown.
    Warned,
    /// The human passed the confirmation challenge.
    Confirmed,
    /// A second person approved.
    Approved,
    /// Refused by policy or by a failed challenge.
    Denied,
    /// The human cancelled (Ctrl-C, EOF).
    Aborted,
    /// Nobody answered in time.
    TimedOut,
    /// Run under break-glass: no checks, critical record.
    BreakGlass,
    /// The command finished; `exit_status` and `duration_ms` are set.
    Exit,
    /// Approval: a request was filed.
    Requested,
    /// Approval: the request expired unused.
    Expired,
    /// Approval: the approval was consumed by the command it was bound to.
    Used,
    /// Approval: the approver refused, or the evidence did not verify.
    Refused,
}

impl Action {
    /// The schema name (`confirm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Warn => "warn",
            Action::Confirm => "confirm",
            Action::Approve => "approve",
            Action::Deny => "deny",
        }
    }
}

impl Outcome {
    /// The schema name (`timed-out`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Warned => "warned",
            Outcome::Confirmed => "confirmed",
            Outcome::Approved => "approved",
            Outcome::Denied => "denied",
            Outcome::Aborted => "aborted",
            Outcome::TimedOut => "timed-out",
            Outcome::BreakGlass => "break-glass",
            Outcome::Exit => "exit",
            Outcome::Requested => "requested",
            Outcome::Expired => "expired",
            Outcome::Used => "used",
            Outcome::Refused => "refused",
        }
    }
}

/// Evidence of a confirmation challenge: which one and whether it was passed. What the human
/// typed is never recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// `hostname`, `target`, `phrase`, `ticket`.
    pub kind: String,
    /// Whether the answer was accepted.
    pub passed: bool,
}

/// One precondition checked before a decision: which rule required it, what kind it was, whether
/// it held, and what was found (or exactly what was missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreconditionRecord {
    /// Id of the rule that requires it.
    pub rule: String,
    /// `backup`, `command` or `file`.
    pub kind: String,
    /// Whether it held.
    pub met: bool,
    /// What was found, or what is missing (redacted).
    pub evidence: String,
}

/// One program of the command line, as the policy saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationRecord {
    /// Program basename (`rm`).
    pub program: String,
    /// Resolved file operands (`/var/lib/postgresql`); unknown ones keep their source text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Wrappers it was reached through (`sudo`, `ssh db2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// Kinds of the statements a database client sends, in order (`drop-function`,
    /// `read-only`); kind names only, never the statement text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql: Vec<String>,
    /// The Ansible module it runs (`python3 …/AnsiballZ_shell.py`): its name and arguments, those
    /// named as secrets (and all of a `no_log` task's) not kept, the rest redacted like the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ansible: Option<crate::shell::ansible::Module>,
}

impl InvocationRecord {
    /// The audit view of an analysed invocation.
    pub fn from_invocation(inv: &crate::shell::Invocation) -> InvocationRecord {
        InvocationRecord {
            program: inv.program.clone(),
            targets: inv
                .targets
                .iter()
                .map(|t| match t {
                    crate::shell::Target::Path(p) | crate::shell::Target::Unknown(p) => p.clone(),
                })
                .collect(),
            via: inv.via.clone(),
            sql: inv.statements.iter().map(|s| s.kind.clone()).collect(),
            ansible: inv.ansible.clone(),
        }
    }
}

/// The signed part of a `checkpoint` record: the chain had `records` records ending with
/// `head` at the record's `time`, signed by the host key `key` (see
/// [`crate::audit::checkpoint`] for the signed bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Records in the chain before this one, from the chain's first record (`prev` = zeros).
    pub records: u64,
    /// Hash of the record just before this one (the checkpoint's own `prev`); 64 zeros at the
    /// start of a chain.
    pub head: String,
    /// The writer writes a checkpoint at least every this many records.
    pub every: u64,
    /// Key id: the first 16 hex digits of sha256 of the ed25519 public key.
    pub key: String,
    /// ed25519 signature, base64 (standard, padded).
    pub sig: String,
}

/// One audit record. Build it with [`Record::new_for_current_process`] and the `with_*`
/// methods, then hand it to [`crate::audit::record`], which redacts, chains and writes it.
///
/// Field order is the JSON member order and is part of the schema (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Schema version, [`SCHEMA_VERSION`].
    pub v: u32,
    /// UTC, RFC 3339 with milliseconds: `2026-11-23T18:04:05.123Z`.
    pub time: String,
    /// What the record is about.
    pub event: Event,
    /// Hostname.
    pub host: String,
    /// Environment (`production`, `unknown`, …).
    pub environment: String,
    /// Host role, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Login session id: `PRODGUARD_SESSION`, or generated.
    pub session: String,
    /// Process id of the prodguard process that wrote the record.
    pub pid: u32,
    /// Name of the real user (falls back to the uid in decimal).
    pub user: String,
    /// Real uid.
    pub uid: u32,
    /// The user who logged in, when different from `user` (audit login uid, `SUDO_USER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_user: Option<String>,
    /// SSH client `address:port` (`[v6]:port`), from `SSH_CONNECTION` / `SSH_CLIENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_client: Option<String>,
    /// Controlling terminal of stdin (`/dev/pts/3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The command line, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The programs it runs, as the policy saw them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invocations: Vec<InvocationRecord>,
    /// Ids of the matching rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// The verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The confirmation challenge and whether it was passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// Who approved (user name), for approvals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Ticket id given by the human.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Reason given by the human (break-glass, ticket challenge), redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Exit status of the command, when known (negative: killed by that signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// Run time of the command in milliseconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// sha256 of the loaded policy packs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
    /// Byte offset in the log file, for `torn-tail` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Free text for `torn-tail` and `sink-failure` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The preconditions checked before the decision (`[[rule.require]]`) and what was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preconditions: Vec<PreconditionRecord>,
    /// The signed fields of a `checkpoint` record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// The kinds of secret redacted from this record (`option`, `stdin`, `url`, `sql` …, see
    /// [`crate::audit::redact::kind`]), sorted, each once. Never the secrets themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redactions: Vec<String>,
    /// Identity fields the audit service could not confirm from the kernel and kept as the
    /// client sent them (`session`, `login_user`, `ssh_client`, `tty`): context, not proof.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisory: Vec<String>,
    /// Login `session` records: the shell integration the login set up (`bash`, `zsh`), or
    /// `none` when the shell has none; on the `integration loaded` record, the shell it loaded in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    /// Whether the shell integration loaded: `true` on the record its first run writes; on a
    /// session's end record, whether that run was seen during the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
    /// A session's end record: how many commands were judged in the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<u64>,
    /// Set when something was redacted from `command`, `reason`, `invocations` or `preconditions`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// Hash of the previous record (64 zeros for the first record ever).
    #[serde(default)]
    pub prev: String,
    /// sha256 over `prev` and this record's canonical bytes. Always the last member.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl Record {
    /// A record with the given identity fields and everything else empty. `time` is now.
    pub fn new(event: Event, host: &HostContext, user: String, uid: u32) -> Record {
        Record {
            v: SCHEMA_VERSION,
            time: format_rfc3339_millis(SystemTime::now()),
            event,
            host: host.hostname.clone(),
            environment: host.environment.clone(),
            role: host.role.clone(),
            session: String::new(),
            pid: std::process::id(),
            user,
            uid,
            login_user: None,
            ssh_client: None,
            tty: None,
            cwd: None,
            command: None,
            invocations: Vec::new(),
            rules: Vec::new(),
            action: None,
            outcome: None,
            challenge: None,
            approver: None,
            ticket: None,
            reason: None,
            exit_status: None,
            duration_ms: None,
            policy_digest: None,
            offset: None,
            detail: None,
            preconditions: Vec::new(),
            checkpoint: None,
            redactions: Vec::new(),
            advisory: Vec::new(),
            integration: None,
            loaded: None,
            commands: None,
            redacted: false,
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// A record filled with what this process knows about itself: time, host, session, pid,
    /// user, uid, login user, SSH client, tty and cwd.
    pub fn new_for_current_process(event: Event, host: &HostContext) -> Record {
        let uid = nix::unistd::getuid();
        let user = user_name(uid.as_raw());
        let mut r = Record::new(event, host, user, uid.as_raw());
        r.session = session_id();
        r.login_user = login_user().filter(|l| *l != r.user);
        r.ssh_client = ssh_client(
            std::env::var("SSH_CONNECTION").ok().as_deref(),
            std::env::var("SSH_CLIENT").ok().as_deref(),
        );
        r.tty = tty_name();
        r.cwd = std::env::current_dir()
            .ok()
            .map(|p| p.to_string_lossy().into_owned());
        r
    }

    /// A record about the writing process itself (a `checkpoint`): the effective user, this
    /// pid, no session, terminal or client, for the host `host`.
    pub fn new_for_writer(event: Event, host: &HostContext) -> Record {
        let uid = nix::unistd::geteuid().as_raw();
        Record::new(event, host, user_name(uid), uid)
    }

    /// A note about `self`'s process (`torn-tail`, `sink-failure`): same identity, time now,
    /// no decision fields.
    pub fn note(&self, event: Event, detail: String) -> Record {
        Record {
            v: SCHEMA_VERSION,
            time: format_rfc3339_millis(SystemTime::now()),
            event,
            host: self.host.clone(),
            environment: self.environment.clone(),
            role: self.role.clone(),
            session: self.session.clone(),
            pid: self.pid,
            user: self.user.clone(),
            uid: self.uid,
            login_user: self.login_user.clone(),
            ssh_client: self.ssh_client.clone(),
            tty: self.tty.clone(),
            cwd: None,
            command: None,
            invocations: Vec::new(),
            rules: Vec::new(),
            action: None,
            outcome: None,
            challenge: None,
            approver: None,
            ticket: None,
            reason: None,
            exit_status: None,
            duration_ms: None,
            policy_digest: None,
            offset: None,
            detail: Some(detail),
            preconditions: Vec::new(),
            checkpoint: None,
            redactions: Vec::new(),
            advisory: Vec::new(),
            integration: None,
            loaded: None,
            commands: None,
            redacted: false,
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// Set the command line (redacted when written).
    pub fn with_command(mut self, command: impl Into<String>) -> Record {
        self.command = Some(command.into());
        self
    }

    /// Set the verdict, matching rule ids and outcome.
    pub fn with_decision(mut self, action: Action, rules: Vec<String>, outcome: Outcome) -> Record {
        self.action = Some(action);
        self.rules = rules;
        self.outcome = Some(outcome);
        self
    }

    /// Set the outcome.
    pub fn with_outcome(mut self, outcome: Outcome) -> Record {
        self.outcome = Some(outcome);
        self
    }

    /// Set the analysed invocations.
    pub fn with_invocations(mut self, invocations: Vec<InvocationRecord>) -> Record {
        self.invocations = invocations;
        self
    }

    /// Set the challenge evidence.
    pub fn with_challenge(mut self, kind: impl Into<String>, passed: bool) -> Record {
        self.challenge = Some(Challenge {
            kind: kind.into(),
            passed,
        });
        self
    }

    /// Set the exit status and run time of the finished command.
    pub fn with_exit(mut self, status: i32, duration: Duration) -> Record {
        self.exit_status = Some(status);
        self.duration_ms = Some(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Set the policy digest.
    pub fn with_policy_digest(mut self, digest: impl Into<String>) -> Record {
        self.policy_digest = Some(digest.into());
        self
    }
}

/// UTC time as RFC 3339 with milliseconds: `2026-11-23T18:04:05.123Z`. Times before 1970 are
/// written as the epoch.
pub fn format_rfc3339_millis(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let millis = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    format_millis(millis)
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds.
pub fn format_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01, proleptic Gregorian.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse `YYYY-MM-DD` (midnight UTC) or RFC 3339 (`2026-11-23T18:04:05Z`,
/// `2026-11-23T18:04:05.123+02:00`) into milliseconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (mo, d) = (u32::try_from(mo).ok()?, u32::try_from(d).ok()?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return Some(days * 86_400_000);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &b[start..i.min(start + 3)];
        let mut v = 0i64;
        for (k, c) in frac.iter().enumerate() {
            v += i64::from(c - b'0') * [100, 10, 1][k];
        }
        ms = v;
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 60 + om;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000 + ms)
}

/// The login session id: `PRODGUARD_SESSION` when it is set and sane (1–64 characters of
/// `[A-Za-z0-9._-]`), else a new one.
pub fn session_id() -> String {
    match std::env::var("PRODGUARD_SESSION") {
        Ok(s) if is_sane_session(&s) => s,
        _ => new_session_id(),
    }
}

fn is_sane_session(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// A new random session id: 32 hex digits from `/dev/urandom` (time and pid if unreadable).
/// The login code exports it as `PRODGUARD_SESSION` so every record of the login shares it.
pub fn new_session_id() -> String {
    use std::io::Read;
    let mut buf = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        use sha2::Digest;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let d = sha2::Sha256::new()
            .chain_update(now.to_le_bytes())
            .chain_update(std::process::id().to_le_bytes())
            .finalize();
        buf.copy_from_slice(&d[..16]);
    }
    hex::encode(buf)
}

/// Who logged in: the kernel's audit login uid (`/proc/self/loginuid`, set by pam_loginuid and
/// not changeable by the user), else `SUDO_USER`.
fn login_user() -> Option<String> {
    let from_kernel = std::fs::read_to_string("/proc/self/loginuid")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&u| u != u32::MAX)
        .map(user_name);
    from_kernel.or_else(|| {
        std::env::var("SUDO_USER")
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 256)
    })
}

/// The SSH client address from `SSH_CONNECTION` (`client port server port`) or `SSH_CLIENT`
/// (`client port serverport`), as `address:port` (`[v6]:port`).
pub fn ssh_client(connection: Option<&str>, client: Option<&str>) -> Option<String> {
    let text = connection.or(client)?;
    let mut it = text.split_ascii_whitespace();
    let addr = it.next()?;
    let port = it.next().filter(|p| p.parse::<u16>().is_ok());
    if addr.parse::<std::net::IpAddr>().is_err() {
        return None;
    }
    Some(match (port, addr.contains(':')) {
        (Some(p), true) => format!("[{addr}]:{p}"),
        (Some(p), false) => format!("{addr}:{p}"),
        (None, _) => addr.to_string(),
    })
}

/// The terminal's own name (`/dev/pts/3`). The shell hooks give the guard `/dev/tty` as stdin,
/// which names no terminal in particular: then stderr's name is taken.
fn tty_name() -> Option<String> {
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    let stderr = std::io::stderr();
    let named = |p: std::path::PathBuf| Some(p).filter(|p| p.as_os_str() != "/dev/tty");
    nix::unistd::ttyname(stdin.as_fd())
        .ok()
        .and_then(named)
        .or_else(|| nix::unistd::ttyname(stderr.as_fd()).ok().and_then(named))
        .map(|p| p.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_millis() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_795_457_045_123), "2026-11-23T18:04:05.123Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_457_045_123);
        assert_eq!(format_rfc3339_millis(t), "2026-11-23T18:04:05.123Z");
    }

    #[test]
    fn civil_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses_dates_and_rfc3339() {
        assert_eq!(parse_time("2026-11-23"), Some(1_795_392_000_000));
        assert_eq!(
            parse_time("2026-11-23T18:04:05.123Z"),
            Some(1_795_457_045_123)
        );
        assert_eq!(parse_time("2026-11-23T18:04:05Z"), Some(1_795_457_045_000));
        assert_eq!(
            parse_time("2026-11-23T20:04:05.123456+02:00"),
            Some(1_795_457_045_123)
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-11-23T25:00:00Z",
            "yesterday",
            "2026-11-23T18:04:05",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn ssh_client_forms() {
        assert_eq!(
            ssh_client(Some("10.0.0.5 52144 10.0.0.1 22"), None).as_deref(),
            Some("10.0.0.5:52144")
        );
        assert_eq!(
            ssh_client(None, Some("2001:db8::1 52144 22")).as_deref(),
            Some("[2001:db8::1]:52144")
        );
        assert_eq!(ssh_client(Some("garbage"), None), None);
        assert_eq!(ssh_client(None, None), None);
    }

    #[test]
    fn session_ids_are_sane() {
        assert!(is_sane_session(&new_session_id()));
        assert_eq!(new_session_id().len(), 32);
        assert!(!is_sane_session("a b"));
        assert!(!is_sane_session(&"x".repeat(65)));
    }

    #[test]
    fn hash_and_prev_are_the_last_members() {
        let host = HostContext::unknown();
        let mut r = Record::new_for_current_process(Event::Command, &host)
            .with_command("ls")
            .with_decision(Action::Allow, vec!["a".into()], Outcome::Allowed);
        r.redacted = true;
        r.detail = Some("d".into());
        r.prev = "0".repeat(64);
        r.hash = "1".repeat(64);
        let json = serde_json::to_string(&r).unwrap_or_default();
        let tail = format!(",\"prev\":\"{}\",\"hash\":\"{}\"}}", r.prev, r.hash);
        assert!(json.ends_with(&tail), "{json}");
        assert!(json.starts_with("{\"v\":1,\"time\":\""), "{json}");
    }
}
