//! Signed checkpoints: an anchor for the chain that a copy of the file cannot forge.
//!
//! The hash chain shows an edit only as long as nobody recomputes the hashes after it, and it
//! cannot show a cut tail at all. So the writer that holds the host key signs, at the start of
//! every file, every [`Settings::every`] records and every [`Settings::interval`], a
//! `checkpoint` record: "the chain had `records` records ending with `head`, at `time`". The
//! record goes into the chain like any other and to syslog, so the SIEM's copy holds the
//! heads. `prodguard audit verify` checks each signature against the published public key and,
//! given the SIEM's copy (`--checkpoints`), finds every checkpoint it vouches for in the log.
//!
//! # Signed bytes
//! The signature is ed25519 over the compact JSON array
//!
//! ```text
//! ["prodguard-audit-checkpoint-v1",host,time,records,head,every,key]
//! ```
//!
//! built from the record's own `host` and `time` members and its `checkpoint` object (see
//! [`signed_message`]); the record's `hash` then covers the signature like every other member.
//!
//! # Key files
//! The secret key (`/var/lib/prodguard/audit.key` by default, host.toml `[audit] key`) is one
//! line `prodguard-audit-key-v1 <base64 of the 32-byte seed>`, a regular file owned by the
//! writer with no permission bits for group or others: [`Signer::load`] refuses anything else,
//! naming the file. The public key is published next to the log ([`published_key_path`]:
//! `audit.jsonl` → `audit.pub`), world-readable, one line `prodguard-audit-ed25519 <base64> <key
//! id>`; the key id is the first 16 hex digits of sha256 of the 32 public key bytes.

#![forbid(unsafe_code)]

use super::record::{Checkpoint, Record};
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the host key lives when host.toml names none.
pub const DEFAULT_KEY_FILE: &str = "/var/lib/prodguard/audit.key";

/// Default: a checkpoint at least every this many records.
pub const DEFAULT_EVERY: u64 = 100;

/// Default: a checkpoint at least this often while records are written.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5 * 60);

const KEY_TAG: &str = "prodguard-audit-key-v1";
const PUB_TAG: &str = "prodguard-audit-ed25519";
const CONTEXT: &str = "prodguard-audit-checkpoint-v1";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Errors of the key files. Each `Display` is a whole sentence naming the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the audit key {}: {}", path.display(), super::reason(err))]
    Read { path: PathBuf, err: std::io::Error },
    #[error("cannot create the audit key {}: {}", path.display(), super::reason(err))]
    Create { path: PathBuf, err: std::io::Error },
    #[error("the audit key {} {why}; it must be a regular file owned by the writer with mode 0600 (chown and chmod 600 it, or remove it to have a new one made)", path.display())]
    Unsafe { path: PathBuf, why: String },
    #[error("{} is not a prodguard audit key: {why}", path.display())]
    Format { path: PathBuf, why: String },
    #[error("cannot publish the audit public key to {}: {}", path.display(), super::reason(err))]
    Publish { path: PathBuf, err: std::io::Error },
    #[error("cannot generate an audit key: the kernel gave no randomness ({0})")]
    Random(String),
}

impl KeyError {
    /// Whether the key file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KeyError::Read { err, .. } if err.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The published half of the host key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

impl PublicKey {
    fn from_verifying(key: VerifyingKey) -> PublicKey {
        let id = hex::encode(&Sha256::digest(key.as_bytes())[..8]);
        PublicKey { key, id }
    }

    /// The key id: 16 hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The 32 public key bytes, base64.
    pub fn base64(&self) -> String {
        B64.encode(self.key.as_bytes())
    }

    /// The line of a published key file (with its `\n`).
    pub fn to_line(&self) -> String {
        format!("{PUB_TAG} {} {}\n", self.base64(), self.id)
    }

    /// Parse a published key: the first line that is not blank or `#` must be
    /// `prodguard-audit-ed25519 <base64>` (anything after is a comment); a bare base64 key is
    /// accepted too.
    pub fn parse(text: &str) -> Result<PublicKey, String> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or("the file is empty")?;
        let mut words = line.split_ascii_whitespace();
        let first = words.next().unwrap_or_default();
        let b64 = if first == PUB_TAG {
            words.next().ok_or("no key after the tag")?
        } else {
            first
        };
        let bytes = B64
            .decode(b64)
            .map_err(|e| format!("the key is not base64 ({e})"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "an ed25519 public key is 32 bytes".to_string())?;
        let key = VerifyingKey::from_bytes(&arr)
            .map_err(|_| "not a valid ed25519 public key".to_string())?;
        Ok(PublicKey::from_verifying(key))
    }

    /// Read a published key file.
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|err| KeyError::Read {
            path: path.to_path_buf(),
            err,
        })?;
        PublicKey::parse(&text).map_err(|why| KeyError::Format {
            path: path.to_path_buf(),
            why,
        })
    }

    /// Whether `sig` (base64) is this key's signature over `msg`.
    pub fn verify(&self, msg: &[u8], sig: &str) -> bool {
        let Ok(bytes) = B64.decode(sig) else {
            return false;
        };
        let Ok(arr) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        self.key
            .verify_strict(msg, &Signature::from_bytes(&arr))
            .is_ok()
    }
}

/// The host key, held by the one writer that signs checkpoints. No `Debug` output of the
/// secret: only the key id is shown.
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.public.id)
    }
}

impl Signer {
    /// A signer from a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(seed);
        let public = PublicKey::from_verifying(key.verifying_key());
        Signer { key, public }
    }

    /// A new random key (from the kernel's `getrandom`).
    pub fn generate() -> Result<Signer, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let s = Signer::from_seed(&seed);
        seed.fill(0);
        Ok(s)
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Sign `msg`; base64.
    pub fn sign(&self, msg: &[u8]) -> String {
        B64.encode(self.key.sign(msg).to_bytes())
    }

    /// Read the key at `path`: a regular file (not a symlink) owned by this process's
    /// effective user, without any group or other permission bits.
    pub fn load(path: &Path) -> Result<Signer, KeyError> {
        let read_err = |err| KeyError::Read {
            path: path.to_path_buf(),
            err,
        };
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(read_err)?;
        let meta = f.metadata().map_err(read_err)?;
        let unsafe_key = |why: String| KeyError::Unsafe {
            path: path.to_path_buf(),
            why,
        };
        if !meta.is_file() {
            return Err(unsafe_key("is not a regular file".into()));
        }
        let euid = nix::unistd::geteuid().as_raw();
        if meta.uid() != euid {
            return Err(unsafe_key(format!(
                "is owned by uid {}, not by the writer (uid {euid})",
                meta.uid()
            )));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(unsafe_key(format!(
                "has mode {:04o}, open to group or others",
                meta.mode() & 0o7777
            )));
        }
        let mut text = String::new();
        Read::by_ref(&mut f)
            .take(4096)
            .read_to_string(&mut text)
            .map_err(read_err)?;
        let format = |why: &str| KeyError::Format {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        let mut words = text.split_ascii_whitespace();
        if words.next() != Some(KEY_TAG) {
            return Err(format("it does not start with prodguard-audit-key-v1"));
        }
        let mut seed = B64
            .decode(words.next().ok_or_else(|| format("no key after the tag"))?)
            .map_err(|_| format("the key is not base64"))?;
        let arr: Result<[u8; 32], _> = seed.as_slice().try_into();
        seed.fill(0);
        let mut arr = arr.map_err(|_| format("an ed25519 seed is 32 bytes"))?;
        let s = Signer::from_seed(&arr);
        arr.fill(0);
        Ok(s)
    }

    /// Read the key at `path`, or make a new one there when there is none (mode 0600, the
    /// directory made 0700 if missing). Two writers starting at once end up with the same key:
    /// the new key is written to a temporary file and hard-linked into place, and the loser of
    /// the race reads the winner's.
    pub fn load_or_create(path: &Path) -> Result<Signer, KeyError> {
        match Signer::load(path) {
            Err(e) if e.is_not_found() => {}
            other => return other,
        }
        let create_err = |err| KeyError::Create {
            path: path.to_path_buf(),
            err,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(create_err)?;
            }
        }
        let signer = Signer::generate()?;
        let mut seed = signer.key.to_bytes();
        let line = format!("{KEY_TAG} {}\n", B64.encode(seed));
        seed.fill(0);
        let tmp = path.with_file_name(format!(
            ".{}.new.{}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("audit.key"),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        let written = (|| -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)?;
            f.write_all(line.as_bytes())?;
            f.sync_all()?;
            match std::fs::hard_link(&tmp, path) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                other => other,
            }
        })();
        let _ = std::fs::remove_file(&tmp);
        written.map_err(create_err)?;
        Signer::load(path)
    }

    /// Write the public key to `path` (mode 0644), replacing the file atomically when its
    /// content differs; an up-to-date file is left alone.
    pub fn publish(&self, path: &Path) -> Result<(), KeyError> {
        let line = self.public.to_line();
        if std::fs::read_to_string(path).is_ok_and(|t| t == line) {
            return Ok(());
        }
        let err = |err| KeyError::Publish {
            path: path.to_path_buf(),
            err,
        };
        let tmp = path.with_file_name(format!(".audit.pub.new.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let done = (|| -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            f.write_all(line.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        done.map_err(err)
    }
}

/// Where the public key for the log `log` is published: its directory, its name with any
/// rotation suffix (`.1`, `-20261123`) and its extension replaced by `.pub`
/// (`/var/log/prodguard/audit.jsonl.1` → `/var/log/prodguard/audit.pub`).
pub fn published_key_path(log: &Path) -> PathBuf {
    let name = log
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("audit.jsonl");
    let mut base = name;
    loop {
        let stripped = base
            .rsplit_once(['.', '-'])
            .filter(|(_, tail)| !tail.is_empty() && tail.bytes().all(|c| c.is_ascii_digit()))
            .map(|(head, _)| head);
        match stripped {
            Some(h) if !h.is_empty() => base = h,
            _ => break,
        }
    }
    let stem = Path::new(base)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("audit");
    log.with_file_name(format!("{stem}.pub"))
}

/// When the writer signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// At least every this many records (host.toml `[audit] checkpoint_every`).
    pub every: u64,
    /// At least this often while records are written (`[audit] checkpoint_interval`).
    pub interval: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            every: DEFAULT_EVERY,
            interval: DEFAULT_INTERVAL,
        }
    }
}

/// What a signing writer holds: the key, when to sign, and the host the checkpoints are
/// about. Give it to [`crate::audit::FileSink::with_checkpoints`].
#[derive(Debug)]
pub struct Checkpoints {
    /// The host key.
    pub signer: Signer,
    /// When to sign.
    pub settings: Settings,
    /// The host named in checkpoint records.
    pub host: crate::host::HostContext,
}

impl Checkpoints {
    /// Checkpoints signed by `signer` for `host`.
    pub fn new(signer: Signer, settings: Settings, host: &crate::host::HostContext) -> Checkpoints {
        Checkpoints {
            signer,
            settings: Settings {
                every: settings.every.max(1),
                interval: settings.interval,
            },
            host: host.clone(),
        }
    }

    /// A signed, unsealed checkpoint record stating that the chain has `records` records
    /// ending with `head`; `why` goes into `detail`.
    pub fn record(&self, records: u64, head: &str, why: &str) -> Record {
        let mut r = Record::new_for_writer(super::Event::Checkpoint, &self.host);
        r.detail = Some(why.to_string());
        let mut cp = Checkpoint {
            records,
            head: head.to_string(),
            every: self.settings.every,
            key: self.signer.public().id().to_string(),
            sig: String::new(),
        };
        cp.sig = self.signer.sign(&signed_message(&r.host, &r.time, &cp));
        r.checkpoint = Some(cp);
        r
    }
}

/// The bytes a checkpoint's signature covers (see the module docs).
pub fn signed_message(host: &str, time: &str, cp: &Checkpoint) -> Vec<u8> {
    serde_json::to_vec(&(CONTEXT, host, time, cp.records, &cp.head, cp.every, &cp.key))
        .unwrap_or_default()
}

/// Why a checkpoint does not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The record has no `checkpoint` object, or it is malformed.
    Malformed(String),
    /// Signed by another key (its id).
    WrongKey(String),
    /// The signature does not match.
    BadSignature,
}

/// Check a checkpoint record's signature against `key`.
pub fn check(rec: &Record, key: &PublicKey) -> Result<(), Problem> {
    let cp = rec
        .checkpoint
        .as_ref()
        .ok_or_else(|| Problem::Malformed("it has no checkpoint member".into()))?;
    if !super::chain::is_hash(cp.head.as_bytes()) {
        return Err(Problem::Malformed("its head is not a hash".into()));
    }
    if cp.key != key.id() {
        return Err(Problem::WrongKey(cp.key.clone()));
    }
    if key.verify(&signed_message(&rec.host, &rec.time, cp), &cp.sig) {
        Ok(())
    } else {
        Err(Problem::BadSignature)
    }
}

/// Whether a sealed line is a `checkpoint` record, judged from its first bytes (`event` is the
/// third member, after `v` and the fixed-width `time`).
pub fn is_checkpoint_line(line: &[u8]) -> bool {
    const NEEDLE: &[u8] = b",\"event\":\"checkpoint\"";
    line.get(..80)
        .unwrap_or(line)
        .windows(NEEDLE.len())
        .any(|w| w == NEEDLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostContext;

    fn signer() -> Signer {
        Signer::from_seed(&[7u8; 32])
    }

    #[test]
    fn signs_and_checks() {
        let cps = Checkpoints::new(signer(), Settings::default(), &HostContext::unknown());
        let rec = cps.record(12, &"a".repeat(64), "test");
        assert_eq!(check(&rec, cps.signer.public()), Ok(()));
        let mut forged = rec.clone();
        if let Some(cp) = forged.checkpoint.as_mut() {
            cp.records = 11;
        }
        assert_eq!(
            check(&forged, cps.signer.public()),
            Err(Problem::BadSignature)
        );
        let mut moved = rec.clone();
        moved.time = "2020-01-01T00:00:00.000Z".into();
        assert_eq!(
            check(&moved, cps.signer.public()),
            Err(Problem::BadSignature)
        );
        let other = Signer::from_seed(&[8u8; 32]);
        assert!(matches!(
            check(&rec, other.public()),
            Err(Problem::WrongKey(_))
        ));
        let line = serde_json::to_vec(&rec).unwrap_or_default();
        assert!(is_checkpoint_line(&line));
    }

    #[test]
    fn public_key_round_trips() {
        let s = signer();
        let line = s.public().to_line();
        assert!(line.starts_with("prodguard-audit-ed25519 "));
        assert_eq!(PublicKey::parse(&line).ok().as_ref(), Some(s.public()));
        assert_eq!(
            PublicKey::parse(&format!("# comment\n{}", s.public().base64()))
                .ok()
                .as_ref(),
            Some(s.public())
        );
        assert!(PublicKey::parse("prodguard-audit-ed25519 AAAA").is_err());
        assert_eq!(s.public().id().len(), 16);
    }

    #[test]
    fn key_file_is_created_once_and_checked() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = d.path().join("keys/audit.key");
        let a = Signer::load_or_create(&p).unwrap_or_else(|e| panic!("{e}"));
        let b = Signer::load_or_create(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.public(), b.public());
        let mode = std::fs::metadata(&p).map(|m| m.mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600);
        let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640));
        let err = Signer::load(&p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("mode 0640"), "{err}");
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        assert!(!format!("{a:?}").contains(text.split(' ').nth(1).unwrap_or("x").trim()));
    }

    #[test]
    fn published_next_to_the_log() {
        for (log, want) in [
            (
                "/var/log/prodguard/audit.jsonl",
                "/var/log/prodguard/audit.pub",
            ),
            (
                "/var/log/prodguard/audit.jsonl.1",
                "/var/log/prodguard/audit.pub",
            ),
            ("/l/audit.jsonl-20261123", "/l/audit.pub"),
            ("/l/a.jsonl", "/l/a.pub"),
        ] {
            assert_eq!(published_key_path(Path::new(log)), Path::new(want), "{log}");
        }
    }
}
