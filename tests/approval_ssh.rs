//! Offline approval with SSH keys: real `ssh-keygen` keys and signatures, verified against an
//! `allowed_signers` file named in host.toml.
//!
//! The spool is held by an audit service the test starts, which must run as root to own it, so
//! these tests need root (CI runs as root); the requester is root here and the approver is the
//! principal of a key. Skipped with the reason otherwise;
//! under `CI=true` they fail instead.

mod approval_support;
mod support;

use approval_support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn keygen(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("ssh-keygen")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen")
}

fn new_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = keygen(&[
        "-q".as_ref(),
        "-t".as_ref(),
        "ed25519".as_ref(),
        "-N".as_ref(),
        "".as_ref(),
        "-C".as_ref(),
        name.as_ref(),
        "-f".as_ref(),
        key.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    key
}

/// `ssh-keygen -Y sign -n NAMESPACE -f KEY FILE` → the signature text.
fn sign_file(key: &Path, namespace: &str, file: &Path) -> String {
    let sig = PathBuf::from(format!("{}.sig", file.display()));
    let _ = std::fs::remove_file(&sig);
    let out = keygen(&[
        "-q".as_ref(),
        "-Y".as_ref(),
        "sign".as_ref(),
        "-n".as_ref(),
        namespace.as_ref(),
        "-f".as_ref(),
        key.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::read_to_string(&sig).expect("signature file")
}

struct Ssh {
    site: Site,
    bob: PathBuf,
    eve: PathBuf,
}

fn setup() -> Option<(Ssh, std::sync::MutexGuard<'static, ()>)> {
    if !nix::unistd::geteuid().is_root() {
        support::skip("the spool must be owned by root");
        return None;
    }
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        support::skip("ssh-keygen is not installed");
        return None;
    }
    let lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let site = Site::new("root", "");
    let keys = site.path("keys");
    std::fs::create_dir(&keys).expect("keys");
    let bob = new_key(&keys, "bob");
    let eve = new_key(&keys, "eve");
    let pubkey = std::fs::read_to_string(keys.join("bob.pub")).expect("bob.pub");
    let signers = site.path("allowed_signers");
    std::fs::write(
        &signers,
        format!("bob@example.com namespaces=\"prodguard-approval\" {pubkey}"),
    )
    .expect("allowed_signers");
    site.host_file(
        "host.toml",
        "db1.example.com",
        "root",
        &format!("allowed_signers = \"{}\"", signers.display()),
    );
    Some((Ssh { site, bob, eve }, lock))
}

impl Ssh {
    /// File a request for `bump ARG`; its short id, full id and blob.
    fn request(&self, arg: &str) -> (String, String, String) {
        let mut a = args(&["request", "--no-wait", "--blob", "--"]);
        a.extend(self.site.bump(arg));
        let out = self.site.run(None, "host.toml", &a);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let (short, full) = request_id(&out);
        let stdout = text(&out.stdout);
        let blob = stdout
            .split_once('\n')
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        assert!(
            blob.contains("BEGIN PRODGUARD APPROVAL REQUEST"),
            "{stdout}"
        );
        (short, full, blob)
    }

    /// The canonical request bytes decoded from `blob`, written to a file named `name`.
    fn decode(&self, blob: &str, name: &str) -> PathBuf {
        let file = self.site.path(&format!("{name}.blob"));
        std::fs::write(&file, blob).expect("blob");
        let out = self.site.run(
            None,
            "host.toml",
            &args(&["approve", "--blob", &file.display().to_string(), "--decode"]),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        // The approver sees the request decoded in full, not a hash.
        let err = text(&out.stderr);
        assert!(err.contains("command") && err.contains("bump"), "{err}");
        assert!(err.contains("db1.example.com"), "{err}");
        let req = self.site.path(&format!("{name}.request"));
        std::fs::write(&req, &out.stdout).expect("request bytes");
        req
    }

    fn attach(&self, sig: &str, id: Option<&str>) -> std::process::Output {
        let file = self.site.path("incoming.sig");
        std::fs::write(&file, sig).expect("sig");
        let mut a = args(&["request", "--signature", &file.display().to_string()]);
        if let Some(id) = id {
            a.extend(args(&["--id", id]));
        }
        self.site.run(None, "host.toml", &a)
    }

    fn run_bump(&self, arg: &str) -> std::process::Output {
        let mut a = args(&["--"]);
        a.extend(self.site.bump(arg));
        self.site.run(None, "host.toml", &a)
    }
}

#[test]
fn a_signature_by_an_allowed_key_approves_once() {
    let Some((s, _lock)) = setup() else { return };
    let (_, full, blob) = s.request("signed");
    let req = s.decode(&blob, "signed");
    // The decoded bytes are the request: their sha256 is its id.
    let sum = Command::new("sha256sum")
        .arg(&req)
        .output()
        .expect("sha256sum");
    assert!(
        text(&sum.stdout).starts_with(&full),
        "{}",
        text(&sum.stdout)
    );

    let sig = sign_file(&s.bob, "prodguard-approval", &req);
    let out = s.attach(&sig, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bob@example.com"));

    let ran = s.run_bump("signed");
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    let again = s.run_bump("signed");
    assert_eq!(again.status.code(), Some(126));
    assert_eq!(s.site.runs(), vec!["signed"]);

    let recs = s.site.records();
    let cmd = recs
        .iter()
        .find(|r| r["event"] == "command" && r["outcome"] == "approved")
        .expect("command record");
    assert_eq!(cmd["approver"], "bob@example.com");
    assert_eq!(cmd["user"], "root");
    assert!(recs
        .iter()
        .any(|r| r["outcome"] == "used" && r["approver"] == "bob@example.com"));
    let verify = s.site.run(
        None,
        "host.toml",
        &args(&["audit", "verify", &s.site.audit.display().to_string()]),
    );
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
}

#[test]
fn signatures_by_other_keys_namespaces_or_requests_are_refused() {
    let Some((s, _lock)) = setup() else { return };
    let (short, _, blob) = s.request("one");
    let req = s.decode(&blob, "one");

    let eve = sign_file(&s.eve, "prodguard-approval", &req);
    let out = s.attach(&eve, Some(&short));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not in"),
        "unknown key: {}",
        text(&out.stderr)
    );

    let git = sign_file(&s.bob, "git", &req);
    let out = s.attach(&git, Some(&short));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("namespace does not match"),
        "other namespace: {}",
        text(&out.stderr)
    );

    let (_, _, blob2) = s.request("two");
    let req2 = s.decode(&blob2, "two");
    let other = sign_file(&s.bob, "prodguard-approval", &req2);
    let out = s.attach(&other, Some(&short));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("does not verify"),
        "{}",
        text(&out.stderr)
    );

    // Bob's good signature, while allowed_signers is writable by others: refused.
    let good = sign_file(&s.bob, "prodguard-approval", &req);
    let signers = s.site.path("allowed_signers");
    std::fs::set_permissions(
        &signers,
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .expect("chmod");
    let out = s.attach(&good, Some(&short));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("writable by nobody else"),
        "{}",
        text(&out.stderr)
    );

    // None of them made `one` runnable.
    let ran = s.run_bump("one");
    assert_eq!(ran.status.code(), Some(126));
    assert!(s.site.runs().is_empty());
    let recs = s.site.records();
    assert!(
        recs.iter()
            .filter(|r| r["event"] == "approval" && r["outcome"] == "refused")
            .count()
            >= 3,
        "{recs:#?}"
    );
}

#[test]
fn approve_blob_sign_shows_the_request_and_asks_the_host_name() {
    let Some((s, _lock)) = setup() else { return };
    let (_, _, blob) = s.request("interactive");
    let file = s.site.path("i.blob");
    std::fs::write(&file, &blob).expect("blob");
    let mut c = PtyChild::spawn(s.site.as_user(
        None,
        "host.toml",
        &args(&[
            "approve",
            "--blob",
            &file.display().to_string(),
            "--sign",
            &s.bob.display().to_string(),
        ]),
    ));
    c.expect("host name: ");
    let screen = text(&c.screen);
    assert!(screen.contains("interactive"), "{screen}");
    assert!(screen.contains("requested by"), "{screen}");
    c.send(b"db1\r");
    let (status, sig, screen) = c.finish();
    assert!(status.success(), "{screen}");
    assert!(sig.contains("BEGIN SSH SIGNATURE"), "{sig}");
    let out = s.attach(&sig, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ran = s.run_bump("interactive");
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert_eq!(s.site.runs(), vec!["interactive"]);
}

/// The request file of the only pending request in the spool, once it appears.
fn pending_request(s: &Ssh) -> PathBuf {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir(&s.site.spool)
            .expect("spool")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "request"));
        if let Some(p) = found {
            return p;
        }
        assert!(std::time::Instant::now() < deadline, "no request filed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn waiting_command_runs_when_a_signature_is_pasted() {
    let Some((s, _lock)) = setup() else { return };
    let mut a = args(&["--"]);
    a.extend(s.site.bump("waited"));
    let mut c = PtyChild::spawn(s.site.as_user(None, "host.toml", &a));
    c.expect("waiting for approval");
    c.expect(" left");
    let req = pending_request(&s);
    let sig = sign_file(&s.bob, "prodguard-approval", &req);
    c.send(sig.replace('\n', "\r").as_bytes());
    let (status, _, screen) = c.finish();
    assert!(status.success(), "{screen}");
    assert!(screen.contains("approved by bob@example.com"), "{screen}");
    assert_eq!(s.site.runs(), vec!["waited"]);
}

#[test]
fn ctrl_c_gives_up_waiting() {
    let Some((s, _lock)) = setup() else { return };
    let mut a = args(&["--"]);
    a.extend(s.site.bump("impatient"));
    let mut c = PtyChild::spawn(s.site.as_user(None, "host.toml", &a));
    c.expect(" left");
    c.send(b"\x03");
    let (status, _, screen) = c.finish();
    assert_eq!(status.code(), Some(126), "{screen}");
    assert!(screen.contains("gave up waiting"), "{screen}");
    assert!(s.site.runs().is_empty());
    let recs = s.site.records();
    assert!(
        recs.iter()
            .any(|r| r["event"] == "command" && r["outcome"] == "aborted"),
        "{recs:#?}"
    );
}
