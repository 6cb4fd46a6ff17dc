//! The approval request and its canonical bytes.
//!
//! The canonical form is one line of JSON with the members in the order of [`Request`]'s
//! fields, no insignificant whitespace, strings escaped by serde_json, and a final newline. A
//! request read from anywhere must re-encode to exactly the bytes it was read from, so one
//! request has one encoding and one id. The id is the sha256 of those bytes; an approval and a
//! signature are over them, never over a summary.
#![forbid(unsafe_code)]

use super::{codec, random_bytes, ApprovalError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The `kind` member of every request.
pub const KIND: &str = "prodguard-approval-request";
/// The request format version.
pub const VERSION: u32 = 1;
/// Largest request accepted, in bytes.
pub const MAX_BYTES: usize = 128 * 1024;
/// Most approvers a rule may ask for.
pub const MAX_APPROVERS: u32 = 9;
/// Length of the short id shown to people (60 bits of the hash).
pub const SHORT_ID_LEN: usize = 12;

/// A request for a second person's approval of one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Always [`KIND`].
    pub kind: String,
    /// Always [`VERSION`].
    pub v: u32,
    /// Full hostname the command will run on.
    pub host: String,
    /// Its environment (`production`), shown to the approver.
    pub environment: String,
    /// Its role, empty when unknown, shown to the approver.
    pub role: String,
    /// The requesting user's name.
    pub user: String,
    /// The requesting user's uid.
    pub uid: u32,
    /// The command line, exactly as it will be checked and run; or, when it holds a secret,
    /// the command line with the secrets replaced by `***` (then `secret_digest` is set).
    pub command: String,
    /// Set when `command` had secrets removed: lowercase hex sha256 binding the request to the
    /// exact command line, keyed with 256 random bits that only the requester can read (see
    /// [`Exact`]). Absent from the canonical bytes otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_digest: String,
    /// The working directory it runs in (relative paths resolve against it).
    pub cwd: String,
    /// Ids of the rules that asked for approval.
    pub rules: Vec<String>,
    /// How many distinct approvers are needed.
    pub approvers: u32,
    /// 128 random bits in hex: two requests for the same command are different requests.
    pub nonce: String,
    /// When it was made, seconds since the epoch.
    pub created: i64,
    /// When it stops being valid, seconds since the epoch.
    pub expires: i64,
}

/// What a new request is about.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub host: &'a crate::host::HostContext,
    pub user: &'a str,
    pub uid: u32,
    pub command: &'a str,
    /// The exact command line, when `command` is its redacted text.
    pub exact: Option<&'a Exact>,
    pub cwd: &'a str,
    pub rules: Vec<String>,
    pub approvers: u32,
}

/// The exact command line of a request whose `command` is redacted, and the key of its digest.
/// The spool keeps it in `<id>.exact`, mode 0600, owned by the requester: nobody else can read
/// the secret, and without the key nobody can test guesses of it against the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exact {
    /// 256 random bits in hex.
    pub key: String,
    /// The command line as typed.
    pub command: String,
}

impl Exact {
    /// The exact `command` with a fresh key.
    pub fn new(command: &str) -> Result<Exact, ApprovalError> {
        Ok(Exact {
            key: hex::encode(random_bytes(32)?),
            command: command.to_string(),
        })
    }

    /// sha256 over a label, the key and the command, in hex.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"prodguard-approval-exact\0");
        h.update(self.key.as_bytes());
        h.update(b"\0");
        h.update(self.command.as_bytes());
        hex::encode(h.finalize())
    }
}

impl Request {
    /// A new request with a fresh nonce, valid from `now` (seconds since the epoch) for `ttl`.
    pub fn new(s: Subject<'_>, now: i64, ttl: Duration) -> Result<Request, ApprovalError> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let mut rules = s.rules;
        rules.sort();
        rules.dedup();
        let r = Request {
            kind: KIND.to_string(),
            v: VERSION,
            host: s.host.hostname.clone(),
            environment: s.host.environment.clone(),
            role: s.host.role.clone().unwrap_or_default(),
            user: s.user.to_string(),
            uid: s.uid,
            command: s.command.to_string(),
            secret_digest: s.exact.map(Exact::digest).unwrap_or_default(),
            cwd: s.cwd.to_string(),
            rules,
            approvers: s.approvers.clamp(1, MAX_APPROVERS),
            nonce: hex::encode(random_bytes(16)?),
            created: now,
            expires: now.saturating_add(ttl),
        };
        r.validate()?;
        Ok(r)
    }

    /// The canonical bytes: what the id hashes and what approvers sign.
    pub fn canonical(&self) -> Vec<u8> {
        // Serialising a struct of strings, integers and a list of strings cannot fail.
        let mut v = serde_json::to_vec(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Read a request from its canonical bytes; anything else is refused.
    pub fn parse(bytes: &[u8]) -> Result<Request, ApprovalError> {
        if bytes.len() > MAX_BYTES {
            return Err(ApprovalError::BadRequest(format!(
                "{} bytes, more than the {MAX_BYTES} a request may have",
                bytes.len()
            )));
        }
        let r: Request = serde_json::from_slice(bytes)
            .map_err(|e| ApprovalError::BadRequest(format!("not a request ({e})")))?;
        r.validate()?;
        if r.canonical() != bytes {
            return Err(ApprovalError::BadRequest(
                "not in canonical form (one line of compact JSON, members in order, one newline)"
                    .into(),
            ));
        }
        Ok(r)
    }

    fn validate(&self) -> Result<(), ApprovalError> {
        let bad = |why: String| Err(ApprovalError::BadRequest(why));
        if self.kind != KIND || self.v != VERSION {
            return bad(format!(
                "kind {:?} version {} (expected {KIND} version {VERSION})",
                self.kind, self.v
            ));
        }
        if self.nonce.len() != 32 || !self.nonce.bytes().all(|c| c.is_ascii_hexdigit()) {
            return bad("the nonce is not 32 hex digits".into());
        }
        if !(1..=MAX_APPROVERS).contains(&self.approvers) {
            return bad(format!("asks for {} approvers", self.approvers));
        }
        if self.created > self.expires || self.created < 0 {
            return bad("created and expires are not times in order".into());
        }
        if !self.secret_digest.is_empty()
            && (self.secret_digest.len() != 64
                || !self
                    .secret_digest
                    .bytes()
                    .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
        {
            return bad("the secret digest is not 64 lowercase hex digits".into());
        }
        if self.host.is_empty() || self.user.is_empty() || self.command.is_empty() {
            return bad("host, user and command must not be empty".into());
        }
        Ok(())
    }

    /// The id: lowercase hex sha256 of the canonical bytes.
    pub fn id(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// The short id people type: the first 60 bits of the hash in base32.
    pub fn short_id(&self) -> String {
        short_id(&self.id())
    }

    /// The armored blob an offline approver decodes and signs.
    pub fn blob(&self) -> String {
        codec::armor(&self.canonical())
    }

    /// A request from an armored blob (or bare base64).
    pub fn from_blob(text: &str) -> Result<Request, ApprovalError> {
        let bytes = codec::unarmor(text)
            .ok_or_else(|| ApprovalError::BadRequest("the blob is not valid base64".into()))?;
        Request::parse(&bytes)
    }

    /// Whether running `command` is what this request asked for: the same text, or, for a
    /// request with secrets removed, the exact command its digest was made over (`exact`, read
    /// from the spool by the requester).
    pub fn binds_command(&self, command: &str, exact: Option<&Exact>) -> bool {
        if self.secret_digest.is_empty() {
            return self.command == command;
        }
        exact.is_some_and(|e| e.command == command && e.digest() == self.secret_digest)
    }

    /// Whether it has expired at `now` (seconds since the epoch).
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires
    }

    /// The request as lines of `label: value` for people, every value shown in full.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            ("request", format!("{} ({})", self.short_id(), self.id())),
            ("host", self.host.clone()),
            (
                "environment",
                if self.role.is_empty() {
                    self.environment.clone()
                } else {
                    format!("{} ({})", self.environment, self.role)
                },
            ),
            ("requested by", format!("{} (uid {})", self.user, self.uid)),
            ("command", self.command.clone()),
        ]
        .into_iter()
        .chain((!self.secret_digest.is_empty()).then(|| {
            (
                "secrets",
                "hidden (***); the approval binds to the exact command by its keyed digest"
                    .to_string(),
            )
        }))
        .chain([
            ("in directory", self.cwd.clone()),
            ("rules", self.rules.join(", ")),
            ("approvers needed", self.approvers.to_string()),
            ("created", utc(self.created)),
            ("expires", utc(self.expires)),
            ("nonce", self.nonce.clone()),
        ])
        .collect()
    }
}

/// The short id of a full hex id: base32 of its first 8 bytes, cut to [`SHORT_ID_LEN`].
pub fn short_id(full_hex: &str) -> String {
    let bytes: Vec<u8> = (0..8)
        .filter_map(|i| {
            full_hex
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let mut s = codec::base32(&bytes);
    s.truncate(SHORT_ID_LEN);
    s
}

/// Seconds since the epoch as `2026-11-23 18:04:05 UTC` (H. Hinnant's civil-from-days).
pub fn utc(secs: i64) -> String {
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Whether `text` could be a full id (64 lowercase hex digits).
pub fn is_full_id(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostContext;

    fn sample() -> Request {
        let host = HostContext::from_toml(
            "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n",
            None,
        );
        Request::new(
            Subject {
                host: &host,
                user: "alice",
                uid: 1001,
                command: "rm -rf /var/lib/pg\n# \"quoted\" \u{1b}[2J",
                exact: None,
                cwd: "/home/alice",
                rules: vec!["b.rule".into(), "a.rule".into(), "a.rule".into()],
                approvers: 1,
            },
            1_795_457_045,
            Duration::from_secs(900),
        )
        .expect("request")
    }

    #[test]
    fn canonical_round_trips_and_ids_are_stable() {
        let r = sample();
        let bytes = r.canonical();
        assert!(bytes.ends_with(b"}\n"));
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(Request::parse(&bytes).ok(), Some(r.clone()));
        assert_eq!(r.rules, vec!["a.rule", "b.rule"]);
        assert_eq!(utc(r.expires), "2026-11-23 18:19:05 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert!(is_full_id(&r.id()));
        assert_eq!(r.short_id().len(), SHORT_ID_LEN);
        assert!(
            r.id() != sample().id(),
            "the nonce makes every request distinct"
        );
        assert_eq!(Request::from_blob(&r.blob()).ok(), Some(r));
    }

    #[test]
    fn non_canonical_and_tampered_bytes_are_refused() {
        let r = sample();
        let text = String::from_utf8(r.canonical()).expect("utf-8");
        let spaced = text.replacen("\"v\":1", "\"v\": 1", 1);
        assert!(Request::parse(spaced.as_bytes()).is_err());
        assert!(Request::parse(text.trim_end().as_bytes()).is_err());
        let extra = text.replacen("{", "{\"x\":1,", 1);
        assert!(Request::parse(extra.as_bytes()).is_err());
        let mut other = r.clone();
        other.command.push(' ');
        assert_ne!(other.id(), r.id());
        let mut bad = r;
        bad.nonce = "zz".into();
        assert!(Request::parse(&bad.canonical()).is_err());
    }

    #[test]
    fn a_redacted_request_binds_to_the_exact_command_by_digest() {
        let host = HostContext::unknown();
        let exact = Exact::new("mysql -pTulip-77 -e 'drop database shop'").expect("exact");
        let req = Request::new(
            Subject {
                host: &host,
                user: "alice",
                uid: 1001,
                command: "mysql -p*** -e 'drop database shop'",
                exact: Some(&exact),
                cwd: "/home/alice",
                rules: vec!["db.drop".into()],
                approvers: 1,
            },
            1_795_457_045,
            Duration::from_secs(900),
        )
        .expect("request");
        let bytes = req.canonical();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Tulip"), "{text}");
        assert!(text.contains("\"secret_digest\":\""), "{text}");
        assert_eq!(Request::parse(&bytes).expect("parse"), req);
        assert!(req.binds_command(&exact.command, Some(&exact)));
        // The redacted text alone, another secret, or a forged exact file do not bind.
        assert!(!req.binds_command(&req.command, None));
        assert!(!req.binds_command("mysql -pOther -e 'drop database shop'", Some(&exact)));
        let forged = Exact {
            key: exact.key.clone(),
            command: "mysql -pOther -e 'drop database shop'".into(),
        };
        assert!(!req.binds_command(&forged.command, Some(&forged)));
        assert!(req.describe().iter().any(|(l, _)| *l == "secrets"));
        // A request without secrets has no digest member: its bytes are as before.
        assert!(!String::from_utf8_lossy(&sample().canonical()).contains("secret_digest"));
    }

    #[test]
    fn expiry() {
        let r = sample();
        let e = r.expires;
        assert!(!r.is_expired(e - 1));
        assert!(r.is_expired(e));
    }
}
