//! The rsyslog forwarding of docs/siem.md, for real: prodguard writes a record to a local syslog
//! socket; one rsyslogd (the host's, with the documented forwarding rule) forwards it over TCP to
//! a second rsyslogd (the collector, with the documented receiver config) on 127.0.0.1; the
//! collector's per-host file must hold the record byte for byte as in the audit file, and pass
//! `prodguard audit verify`.
//!
//! The configs are `packaging/rsyslog/*.conf` (which docs/siem.md quotes verbatim) with only the
//! site-specific values replaced: the SIEM's address and port, the output directory. Both daemons
//! run in the foreground as children of the test, with private sockets, pid files, work
//! directories and configs in a temp dir, and are killed on every path.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running rsyslogd, killed and reaped when dropped.
struct Daemon {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Daemon {
    fn start(name: &'static str, dir: &Path, config: &str) -> Daemon {
        let conf = dir.join(format!("{name}.conf"));
        std::fs::write(&conf, config).expect("write config");
        let log = dir.join(format!("{name}.out"));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join(format!("{name}.pid")))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("start rsyslogd");
        Daemon { child, name, log }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} rsyslogd exited ({status}):\n{}",
                self.name,
                self.output()
            );
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn documented_rsyslog_config_forwards_intact_records() {
    if !Path::new(RSYSLOGD).exists() {
        support::skip(&format!(
            "{RSYSLOGD} is not installed (apt-get install rsyslog)"
        ));
        return;
    }
    let forward =
        std::fs::read_to_string(root().join("packaging/rsyslog/60-prodguard-forward.conf"))
            .expect("forward config");
    let receiver =
        std::fs::read_to_string(root().join("packaging/rsyslog/prodguard-receiver.conf"))
            .expect("receiver config");
    let doc = std::fs::read_to_string(root().join("docs/siem.md")).expect("docs/siem.md");
    assert!(
        doc.contains(&forward),
        "docs/siem.md must quote packaging/rsyslog/60-prodguard-forward.conf verbatim"
    );
    assert!(
        doc.contains(&receiver),
        "docs/siem.md must quote packaging/rsyslog/prodguard-receiver.conf verbatim"
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    for d in ["collector-work", "host-work", "fleet"] {
        std::fs::create_dir(dir.join(d)).expect("mkdir");
    }
    let d = |rel: &str| dir.join(rel).display().to_string();

    // The collector: the documented config, listening on an ephemeral port it reports.
    let port_file = dir.join("collector.port");
    let receiver = receiver
        .replace("/var/log/prodguard-fleet", &d("fleet"))
        .replace(
            "port=\"6514\"",
            &format!("port=\"0\" listenPortFileName=\"{}\"", port_file.display()),
        );
    assert!(
        receiver.contains("listenPortFileName"),
        "the receiver config changed shape"
    );
    let mut collector = Daemon::start(
        "collector",
        dir,
        &format!(
            "global(workDirectory=\"{}\" maxMessageSize=\"128k\")\n{receiver}",
            d("collector-work")
        ),
    );
    let port: u16 = wait_for("the collector's port", Duration::from_secs(20), || {
        collector.assert_running();
        std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .filter(|p| *p != 0)
    });

    // The host: a private syslog socket, and the documented forwarding rule.
    let socket = dir.join("log.sock");
    let forward = forward
        .replace("siem.example.com", "127.0.0.1")
        .replace("port=\"6514\"", &format!("port=\"{port}\""));
    assert!(
        forward.contains("127.0.0.1"),
        "the forward config changed shape"
    );
    let mut host = Daemon::start(
        "host",
        dir,
        &format!(
            "global(workDirectory=\"{}\" maxMessageSize=\"128k\")\n\
             module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
             input(type=\"imuxsock\" Socket=\"{}\")\n{forward}",
            d("host-work"),
            socket.display()
        ),
    );
    wait_for("the host's syslog socket", Duration::from_secs(20), || {
        host.assert_running();
        socket.exists().then_some(())
    });

    // prodguard records two decisions, to its file and to the socket.
    let host_toml = dir.join("host.toml");
    std::fs::write(
        &host_toml,
        format!(
            "hostname = \"db1.example.com\"\nenvironment = \"staging\"\nrole = \"db-primary\"\n[audit]\nsyslog = \"unix:{}\"\n",
            socket.display()
        ),
    )
    .expect("host.toml");
    let audit = dir.join("audit.jsonl");
    for cmd in ["ls", "echo 'a \"quoted\" word' \\ and-a-backslash"] {
        let o = Command::new(BIN)
            .arg("--host-file")
            .arg(&host_toml)
            .arg("--policy-dir")
            .arg(dir.join("no-site-packs"))
            .arg("--audit-file")
            .arg(&audit)
            .args(["check", cmd])
            .stdin(Stdio::null())
            .env_remove("SSH_ORIGINAL_COMMAND")
            .output()
            .expect("run prodguard");
        assert!(
            o.status.success(),
            "check {cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let written = std::fs::read_to_string(&audit).expect("audit file");
    assert_eq!(written.lines().count(), 2, "{written}");

    // The collector's per-host file (named after the sending host) gets them, byte for byte.
    let received = wait_for("the forwarded records", Duration::from_secs(30), || {
        collector.assert_running();
        host.assert_running();
        let entries: Vec<PathBuf> = std::fs::read_dir(dir.join("fleet"))
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        let file = entries.first()?.clone();
        let text = std::fs::read_to_string(&file).ok()?;
        (text.lines().count() >= 2).then_some((file, text))
    });
    let (file, text) = received;
    assert_eq!(
        text,
        written,
        "collector output differs from the audit file\nhost rsyslogd:\n{}\ncollector rsyslogd:\n{}",
        host.output(),
        collector.output()
    );
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("intact JSON");
        assert_eq!(v["host"], "db1.example.com");
    }
    let verify = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&file)
        .output()
        .expect("verify");
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    drop(host);
    drop(collector);
}
