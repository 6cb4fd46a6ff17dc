//! Policy `ssh` conditions are decided on where the session really comes from, as the audit
//! service finds it from the kernel, never on `SSH_CONNECTION`/`SSH_CLIENT`, which the user
//! sets: the real service on a temporary socket, real `prodguard check` processes, a forged
//! `SSH_CONNECTION` that names the exempt network, and the same with the service stopped.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "support/daemon.rs"]
mod daemon;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

const PACK: &str = r#"
[[rule]]
id = "site.tcpdump-off-bastion"
action = "deny"
when = { ssh = ["!10.0.0.0/8"] }
match = { program = ["tcpdump"] }
message = "tcpdump runs only from the bastion network"
tests.match = ["tcpdump -i any"]

[[rule]]
id = "site.socat-bastion-exempt"
action = "deny"
match = { program = ["socat"] }
message = "socat is refused on {host}"
tests.match = ["socat - TCP:db2:5432"]
exempt = [{ user = ["*"], ssh = ["10.0.0.0/8"], reason = "the bastion network may relay" }]
"#;

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let s = Setup { dir };
        std::fs::create_dir_all(s.policies()).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(s.policies().join("site.toml"), PACK).unwrap_or_else(|e| panic!("{e}"));
        let host = format!(
            "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[audit]\nsyslog = \"none\"\nsocket = \"{}\"\nfile = \"{}\"\n",
            s.socket().display(),
            s.dir.path().join("log/audit.jsonl").display()
        );
        std::fs::write(s.host_file(), host).unwrap_or_else(|e| panic!("{e}"));
        s
    }
    fn host_file(&self) -> PathBuf {
        self.dir.path().join("host.toml")
    }
    fn socket(&self) -> PathBuf {
        self.dir.path().join("run/audit.sock")
    }
    fn policies(&self) -> PathBuf {
        self.dir.path().join("policies.d")
    }
    fn start(&self) -> daemon::Daemon {
        daemon::Daemon::start(
            Path::new(BIN),
            &self.host_file(),
            &self.socket(),
            &self.dir.path().join("state"),
        )
    }

    /// `prodguard check --no-ask CMD`, with `SSH_CONNECTION`/`SSH_CLIENT` set to `forged`
    /// (or removed).
    fn check(&self, cmd: &[&str], forged: Option<&str>) -> Output {
        let mut c = Command::new(BIN);
        c.arg("--host-file")
            .arg(self.host_file())
            .arg("check")
            .arg("--policy-dir")
            .arg(self.policies())
            .arg("--no-ask")
            .arg("--")
            .args(cmd)
            .stdin(Stdio::null())
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT");
        if let Some(f) = forged {
            c.env("SSH_CONNECTION", f).env("SSH_CLIENT", f);
        }
        c.output().unwrap_or_else(|e| panic!("{e}"))
    }

    /// `prodguard explain --ssh-from ADDR CMD`: what the rules say of a session from `addr`.
    fn explain_from(&self, addr: &str, cmd: &str) -> String {
        let out = Command::new(BIN)
            .arg("--host-file")
            .arg(self.host_file())
            .arg("explain")
            .arg("--policy-dir")
            .arg(self.policies())
            .args(["--ssh-from", addr, cmd])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The service's answer to `{"op":"origin"}` for this test process.
fn ask_origin(socket: &Path) -> serde_json::Value {
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap_or_else(|e| panic!("{e}"));
    s.write_all(b"{\"op\":\"origin\"}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut line = String::new();
    BufReader::new(s)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn refused(out: &Output, rule: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused: {err}");
    assert!(err.contains(rule), "names {rule}: {err}");
}

const FORGED: &str = "10.0.0.1 51234 10.0.0.2 22";

#[test]
fn a_forged_ssh_connection_does_not_change_the_verdict_of_an_ssh_rule() {
    let s = Setup::new();
    let svc = s.start();
    // The rules are scoped by network: from 10.0.0.1 both commands would be allowed.
    for cmd in ["tcpdump -i any", "socat - TCP:db2:5432"] {
        let text = s.explain_from("10.0.0.1", cmd);
        assert!(!text.contains("deny"), "{cmd} from 10.0.0.1: {text}");
        let text = s.explain_from("192.0.2.7", cmd);
        assert!(text.contains("deny"), "{cmd} from 192.0.2.7: {text}");
    }

    // This process does not come from 10.0.0.0/8, whatever its environment says: the service
    // answers from the kernel.
    let answer = ask_origin(svc.socket());
    assert_eq!(answer["ok"], true, "{answer}");
    let kind = answer["origin"]["kind"].as_str().unwrap_or_default();
    assert!(
        ["local", "unknown", "ssh"].contains(&kind),
        "an origin: {answer}"
    );
    let address = answer["origin"]["address"].as_str().unwrap_or_default();
    assert!(!address.starts_with("10."), "{answer}");

    let tcpdump = ["tcpdump", "-i", "any"];
    let socat = ["socat", "-", "TCP:db2:5432"];
    refused(&s.check(&tcpdump, None), "site.tcpdump-off-bastion");
    refused(&s.check(&tcpdump, Some(FORGED)), "site.tcpdump-off-bastion");
    refused(&s.check(&socat, None), "site.socat-bastion-exempt");
    refused(&s.check(&socat, Some(FORGED)), "site.socat-bastion-exempt");
    // A command no rule names is untouched.
    let ok = s.check(&["true"], Some(FORGED));
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // With the service stopped the origin is unknown, and unknown relaxes nothing.
    drop(svc);
    refused(&s.check(&tcpdump, Some(FORGED)), "site.tcpdump-off-bastion");
    refused(&s.check(&socat, Some(FORGED)), "site.socat-bastion-exempt");
}
