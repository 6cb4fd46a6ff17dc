//! Latency `prodguard sql` adds to an allowed statement, against the bare client over the same
//! kind of pseudo-terminal, in one run.
//!
//! `cargo bench --bench sqlsession` starts a throw-away `redis-server` (free port, persistence
//! off) and, when the PostgreSQL server package is installed, a throw-away cluster; then, for
//! each client, types an allowed statement N times and times each round trip from the Enter key
//! to the client's next prompt: the bare client (with the same options prodguard gives it: psql
//! `-n`, redis-cli under `TERM=dumb`) and the same client under `prodguard sql --`. Prints
//! p50/p99/max of both and the p50/p99 difference. Target: ≤ 2 ms p99 added.
//!
//! In-process: the cost of judging one statement (classify + evaluate + decide), µs.

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 400;
const WARMUP: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A program on a pty of its own, as session leader.
struct Term {
    master: File,
    child: Child,
    buf: Vec<u8>,
}

impl Term {
    fn spawn(argv: &[String], env: &[(&str, &str)]) -> Term {
        let ws = Winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&ws), None).expect("openpty");
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("cloexec");
        }
        let slave = pty.slave;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .envs(env.iter().copied())
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe and touch no parent memory.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Term {
            master: File::from(pty.master),
            child: cmd.spawn().expect("spawn"),
            buf: Vec::new(),
        }
    }

    /// Read until `needle` has arrived; everything up to it is consumed.
    fn wait_for(&mut self, needle: &[u8]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(p) = self.buf.windows(needle.len()).position(|w| w == needle) {
                self.buf.drain(..p + needle.len());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {:?}: {}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&self.buf)
            );
            let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
            if matches!(poll(&mut fds, PollTimeout::from(100u16)), Ok(n) if n > 0) {
                if let Ok(n) = self.master.read(&mut chunk) {
                    self.buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }

    /// Time `rounds` round trips of `line` from Enter to `reply` followed by `prompt`.
    fn rounds(&mut self, line: &str, reply: &[u8], prompt: &[u8], n: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            self.master.write_all(line.as_bytes()).expect("write");
            self.wait_for(reply);
            self.wait_for(prompt);
            out.push(t.elapsed());
        }
        out
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn compare(
    name: &str,
    bare: &mut Term,
    guarded: &mut Term,
    line: &str,
    reply: &[u8],
    prompt: &[u8],
) {
    bare.rounds(line, reply, prompt, WARMUP);
    guarded.rounds(line, reply, prompt, WARMUP);
    // Interleaved in blocks, so that load from elsewhere falls on both alike.
    let mut b = Vec::new();
    let mut g = Vec::new();
    for _ in 0..(ROUNDS / 50) {
        b.extend(bare.rounds(line, reply, prompt, 50));
        g.extend(guarded.rounds(line, reply, prompt, 50));
    }
    b.sort();
    g.sort();
    let row = |label: &str, v: &[Duration]| {
        println!(
            "{name:<6} {label:<8} p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  (n={})",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.99)),
            ms(*v.last().unwrap_or(&Duration::ZERO)),
            v.len()
        );
    };
    row("bare", &b);
    row("guarded", &g);
    println!(
        "{name:<6} added    p50 {:>7.3} ms  p99 {:>7.3} ms  (target: p99 ≤ 2 ms)",
        ms(percentile(&g, 0.5)) - ms(percentile(&b, 0.5)),
        ms(percentile(&g, 0.99)) - ms(percentile(&b, 0.99)),
    );
}

fn guard_args(dir: &Path) -> Vec<String> {
    std::fs::write(
        dir.join("host.toml"),
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n[audit]\nsyslog = \"none\"\n",
    )
    .expect("host.toml");
    std::fs::create_dir_all(dir.join("policies")).expect("policies");
    vec![
        env!("CARGO_BIN_EXE_prodguard").to_owned(),
        "--host-file".into(),
        dir.join("host.toml").display().to_string(),
        "--policy-dir".into(),
        dir.join("policies").display().to_string(),
        "--audit-file".into(),
        dir.join("audit.jsonl").display().to_string(),
        "sql".into(),
        "--".into(),
    ]
}

fn redis(dir: &Path) {
    let port = free_port();
    let Ok(mut server) = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        println!("redis  skipped: no redis-server");
        return;
    };
    let ping = || {
        Command::new("redis-cli")
            .args(["-p", &port.to_string(), "SET", "k", "v"])
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"OK"))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ping() {
        if Instant::now() > deadline {
            println!("redis  skipped: the server did not start");
            let _ = server.kill();
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let client: Vec<String> = ["redis-cli", "-p", &port.to_string()]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let prompt = format!("127.0.0.1:{port}> ");
    let mut bare = Term::spawn(&client, &[("TERM", "dumb")]);
    bare.wait_for(prompt.as_bytes());
    let mut argv = guard_args(dir);
    argv.extend(client.iter().cloned());
    let mut guarded = Term::spawn(&argv, &[("NO_COLOR", "1")]);
    guarded.wait_for(prompt.as_bytes());
    compare(
        "redis",
        &mut bare,
        &mut guarded,
        "GET k\r",
        b"\"v\"",
        prompt.as_bytes(),
    );
    let _ = server.kill();
    let _ = server.wait();
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn postgres(dir: &Path) {
    let Some(bin) = pg_bin() else {
        println!("psql   skipped: no PostgreSQL server installed");
        return;
    };
    let as_postgres = nix::unistd::geteuid().is_root();
    let tool = |name: &str| {
        let mut c;
        if as_postgres {
            c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(name));
        } else {
            c = Command::new(bin.join(name));
        }
        c
    };
    let cluster = dir.join("pg");
    std::fs::create_dir_all(&cluster).expect("cluster dir");
    if as_postgres {
        let Some(u) = nix::unistd::User::from_name("postgres").ok().flatten() else {
            println!("psql   skipped: root and no postgres user");
            return;
        };
        std::os::unix::fs::chown(&cluster, Some(u.uid.as_raw()), Some(u.gid.as_raw()))
            .expect("chown");
        std::os::unix::fs::chown(dir, Some(u.uid.as_raw()), Some(u.gid.as_raw())).expect("chown");
    }
    let data = cluster.join("data");
    let ok = tool("initdb")
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("psql   skipped: initdb failed");
        return;
    }
    let port = free_port();
    let opts = format!("-k {} -p {port} -c listen_addresses=''", cluster.display());
    let ok = tool("pg_ctl")
        .arg("-D")
        .arg(&data)
        .args(["-w", "-o", &opts, "-l"])
        .arg(cluster.join("log"))
        .arg("start")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("psql   skipped: the server did not start");
        return;
    }
    let client: Vec<String> = [
        "psql",
        "-h",
        &cluster.display().to_string(),
        "-p",
        &port.to_string(),
        "-U",
        "postgres",
        "postgres",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let env = [
        ("PSQLRC", "/dev/null"),
        ("NO_COLOR", "1"),
        ("TERM", "xterm"),
    ];
    let mut bare_argv = vec![
        "psql".to_owned(),
        "-n".into(),
        "-v".into(),
        "PROMPT2=".into(),
    ];
    bare_argv.extend(client[1..].iter().cloned());
    let mut bare = Term::spawn(&bare_argv, &env);
    bare.wait_for(b"postgres=# ");
    let mut argv = guard_args(dir);
    argv.extend(client.iter().cloned());
    let mut guarded = Term::spawn(&argv, &env);
    guarded.wait_for(b"postgres=# ");
    compare(
        "psql",
        &mut bare,
        &mut guarded,
        "SELECT 1;\r",
        b"(1 row)",
        b"postgres=# ",
    );
    drop(bare);
    drop(guarded);
    let _ = tool("pg_ctl")
        .arg("-D")
        .arg(&data)
        .args(["-m", "immediate", "stop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn in_process() {
    use prodguard::decide::decide;
    use prodguard::host::HostContext;
    use prodguard::policy::PolicySet;
    use prodguard::shell::{analyze, Analysis, Context};
    let host = HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n",
        None,
    );
    let policy = PolicySet::embedded_only(true);
    let ctx = Context {
        cwd: "/".into(),
        home: None,
        env: Vec::new(),
        stdin_unknown: false,
    };
    let template = analyze("psql -h db1 app", &ctx).invocations.remove(0);
    let mut v = Vec::new();
    for k in 0..2000 {
        let text = format!("SELECT id, name FROM users WHERE id = {k};");
        let t = Instant::now();
        let mut inv = template.clone();
        inv.statements = prodguard::sql::classify(&prodguard::sql::ClientCall {
            program: "psql",
            args: &inv.args,
            stdin: Some(&text),
            stdin_file: None,
            stdin_unknown: false,
            cwd: "/",
        });
        let a = Analysis {
            invocations: vec![inv],
            problems: Vec::new(),
        };
        let verdict = decide(&a, &policy, &host);
        std::hint::black_box(&verdict);
        v.push(t.elapsed());
    }
    v.sort();
    println!(
        "judge  in-process p50 {:>7.1} µs  p99 {:>7.1} µs  (classify + evaluate + decide of one SELECT)",
        percentile(&v, 0.5).as_secs_f64() * 1e6,
        percentile(&v, 0.99).as_secs_f64() * 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    in_process();
    redis(dir.path());
    postgres(dir.path());
}
