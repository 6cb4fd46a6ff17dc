//! Offline approval with SSH keys, through the system's `ssh-keygen -Y`.
//!
//! Verification runs `ssh-keygen -Y find-principals` to learn which principals of the
//! `allowed_signers` file the signing key belongs to, then `ssh-keygen -Y verify -I PRINCIPAL
//! -n prodguard-approval` over the canonical request bytes for each until one verifies. That is
//! OpenSSH's own reading of `allowed_signers` (certificate authorities, `namespaces=`,
//! `valid-before`/`valid-after`), with no cryptography of ours. `ssh-keygen` is taken from fixed
//! system paths with a cleared environment: the requester's `PATH` must not choose the verifier.
//! Every run is bounded ([`VERIFY_LIMIT`], [`SIGN_LIMIT`]): one that hangs is killed and the
//! signature is refused, naming the limit.
#![forbid(unsafe_code)]

use super::{bounded, random_bytes, ApprovalError, NAMESPACE};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where `ssh-keygen` is looked for, in order.
const SSH_KEYGEN: [&str; 3] = [
    "/usr/bin/ssh-keygen",
    "/bin/ssh-keygen",
    "/usr/local/bin/ssh-keygen",
];

/// Largest signature accepted, in bytes.
pub const MAX_SIGNATURE: usize = 16 * 1024;

/// The first line of an armored SSH signature.
pub const SIG_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
/// The last line of an armored SSH signature.
pub const SIG_END: &str = "-----END SSH SIGNATURE-----";

/// How long one `ssh-keygen -Y find-principals` or `-Y verify` may take before it is killed.
/// Verification takes milliseconds; the service verifies while it answers approval operations.
pub const VERIFY_LIMIT: Duration = Duration::from_secs(10);

/// How long `ssh-keygen -Y sign` may take: it may ask for a passphrase or a security key touch.
pub const SIGN_LIMIT: Duration = Duration::from_secs(300);

fn ssh_keygen() -> Result<PathBuf, ApprovalError> {
    SSH_KEYGEN
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ApprovalError::Ssh(format!(
                "not found in {}; install openssh-client",
                SSH_KEYGEN.join(", ")
            ))
        })
}

/// The `ssh-keygen` that verifies, and how long each of its runs may take.
#[derive(Debug, Clone)]
pub struct Verifier {
    pub program: PathBuf,
    pub limit: Duration,
}

impl Verifier {
    /// The system's `ssh-keygen` (fixed paths, never `PATH`) with [`VERIFY_LIMIT`].
    pub fn system() -> Result<Verifier, ApprovalError> {
        Ok(Verifier {
            program: ssh_keygen()?,
            limit: VERIFY_LIMIT,
        })
    }
}

/// The armored signature in `text` (surrounding text is ignored), normalised to its lines.
pub fn extract_signature(text: &str) -> Option<String> {
    let b = text.find(SIG_BEGIN)?;
    let e = text.get(b..)?.find(SIG_END)? + b;
    let body: String = text
        .get(b + SIG_BEGIN.len()..e)?
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join("\n");
    if body.is_empty()
        || !body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'\n'))
    {
        return None;
    }
    Some(format!("{SIG_BEGIN}\n{body}\n{SIG_END}\n"))
}

/// Sign `message` with the private key `key` (or the agent's key for the public key `key`):
/// `ssh-keygen -Y sign -n prodguard-approval -f KEY`. Runs with the caller's environment, so the
/// agent and passphrase prompt work. Returns the armored signature.
pub fn sign(key: &Path, message: &[u8]) -> Result<String, ApprovalError> {
    let mut cmd = Command::new(ssh_keygen()?);
    cmd.args(["-q", "-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(key);
    let out = bounded::run(cmd, "ssh-keygen -Y sign", message, SIGN_LIMIT)?;
    if !out.status.success() {
        return Err(ApprovalError::Ssh(format!(
            "signing with {} failed: {}",
            key.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    extract_signature(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| ApprovalError::Ssh("ssh-keygen printed no signature".into()))
}

/// A private temporary directory holding one signature file, removed on drop.
struct SigFile {
    dir: PathBuf,
    file: PathBuf,
}

impl SigFile {
    fn new(signature: &str) -> Result<SigFile, ApprovalError> {
        let tag = hex::encode(random_bytes(8)?);
        let dir = std::env::temp_dir().join(format!("prodguard-sig-{tag}"));
        let io = |e: std::io::Error| ApprovalError::Ssh(format!("temporary file: {e}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(io)?;
        let this = SigFile {
            file: dir.join("request.sig"),
            dir,
        };
        std::fs::write(&this.file, signature).map_err(io)?;
        Ok(this)
    }
}

use std::os::unix::fs::DirBuilderExt;

impl Drop for SigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn keygen(
    v: &Verifier,
    what: &str,
    args: &[&std::ffi::OsStr],
    stdin: &[u8],
) -> Result<(bool, String), ApprovalError> {
    let mut cmd = Command::new(&v.program);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C");
    let out = bounded::run(cmd, what, stdin, v.limit)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

/// Verify `signature` over `message` against `allowed_signers` in the approval namespace with
/// the system's `ssh-keygen`, each run bounded by [`VERIFY_LIMIT`]. Returns the principal it
/// verifies for, or why it does not.
pub fn verify(
    allowed_signers: &Path,
    signature: &str,
    message: &[u8],
) -> Result<String, ApprovalError> {
    verify_with(&Verifier::system()?, allowed_signers, signature, message)
}

/// [`verify`] with the verifier `v`.
pub fn verify_with(
    v: &Verifier,
    allowed_signers: &Path,
    signature: &str,
    message: &[u8],
) -> Result<String, ApprovalError> {
    let sig = extract_signature(signature)
        .filter(|s| s.len() <= MAX_SIGNATURE)
        .ok_or_else(|| ApprovalError::Ssh("not an armored SSH signature".into()))?;
    let file = SigFile::new(&sig)?;
    let signers = allowed_signers.as_os_str();
    let (ok, out) = keygen(
        v,
        "ssh-keygen -Y find-principals",
        &[
            "-Y".as_ref(),
            "find-principals".as_ref(),
            "-s".as_ref(),
            file.file.as_os_str(),
            "-f".as_ref(),
            signers,
        ],
        b"",
    )?;
    if !ok {
        return Err(ApprovalError::Ssh(format!(
            "the signing key is not in {} ({})",
            allowed_signers.display(),
            out.trim()
        )));
    }
    let principals: Vec<String> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(char::is_whitespace))
        .map(str::to_string)
        .collect();
    let mut last = String::new();
    for p in &principals {
        let (ok, out) = keygen(
            v,
            "ssh-keygen -Y verify",
            &[
                "-Y".as_ref(),
                "verify".as_ref(),
                "-f".as_ref(),
                signers,
                "-I".as_ref(),
                p.as_ref(),
                "-n".as_ref(),
                NAMESPACE.as_ref(),
                "-s".as_ref(),
                file.file.as_os_str(),
            ],
            message,
        )?;
        if ok {
            return Ok(p.clone());
        }
        last = out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
    }
    Err(ApprovalError::Ssh(format!(
        "the signature does not verify for this request in namespace {NAMESPACE} ({last})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_verifier_is_killed_at_its_limit_and_the_signature_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let hung = dir.path().join("ssh-keygen");
        std::fs::write(&hung, "#!/bin/sh\nexec sleep 30\n").expect("write");
        std::fs::set_permissions(&hung, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let signers = dir.path().join("allowed_signers");
        std::fs::write(&signers, "").expect("write");
        let v = Verifier {
            program: hung,
            limit: Duration::from_millis(400),
        };
        let sig = format!("{SIG_BEGIN}\nU1NIU0lH\n{SIG_END}\n");
        let start = std::time::Instant::now();
        let e = verify_with(&v, &signers, &sig, b"request\n").expect_err("refused");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(
            matches!(e, ApprovalError::Helper(bounded::RunError::TimedOut { .. })),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "ssh-keygen -Y find-principals did not finish within 400ms and was killed; the signature is not counted"
        );
    }

    #[test]
    fn signatures_are_extracted_and_normalised() {
        let s = extract_signature(&format!(
            "here you go:\r\n{SIG_BEGIN}\r\nU1NIU0lH\r\n  AAAA==\r\n{SIG_END}\r\nbye"
        ));
        assert_eq!(
            s.as_deref(),
            Some(format!("{SIG_BEGIN}\nU1NIU0lH\nAAAA==\n{SIG_END}\n").as_str())
        );
        assert_eq!(extract_signature("nothing"), None);
        assert_eq!(
            extract_signature(&format!("{SIG_BEGIN}\n$(rm)\n{SIG_END}")),
            None
        );
        assert_eq!(extract_signature(&format!("{SIG_END}\n{SIG_BEGIN}")), None);
    }
}
