//! Accepting connections, one thread each, and the single writer thread (group commit).

#![forbid(unsafe_code)]

use super::approvals::Approvals;
use super::grants::Grants;
use super::health::Health;
use super::peer::{self, Peer, Proc};
use super::sessions::{Sessions, Standing};
use crate::audit::grant_wire::{GrantAnswer, GrantOp};
use crate::audit::service::{Reply, Request, MAX_REQUEST_BYTES};
use crate::audit::{self, Event, FileSink, Record, SyslogSink};
use crate::host::HostContext;
use crate::subject::user_name;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a connection may stay silent (between or within requests) before it is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long writing a reply may take (a client that stopped reading loses its connection).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once, in all and per uid; beyond that a caller is told so at once.
pub const MAX_CONNECTIONS: usize = 512;
/// See [`MAX_CONNECTIONS`].
pub const MAX_PER_UID: usize = 64;

/// Most records written by one group commit.
const MAX_BATCH: usize = 1024;

/// How often a syslog target that could not be reached is tried again.
const SYSLOG_RETRY: Duration = Duration::from_secs(60);

/// What the service needs to run.
pub struct Service {
    /// The log it writes.
    pub log: PathBuf,
    /// The open log.
    pub sink: FileSink,
    /// The syslog target, `None` when disabled.
    pub syslog: Option<audit::SyslogTarget>,
    /// This host, for the records' host fields.
    pub host: HostContext,
    /// The host description `host` was read from; read again when it changes.
    pub host_file: PathBuf,
    /// Where `/proc` is (tests point it elsewhere).
    pub proc: Proc,
    /// The approval spool it holds.
    pub approvals: Approvals,
}

/// The records' host fields, from host.toml. The file is read again when it has changed since
/// (size, modification time, inode), so that an edit (the environment, the role) shows in the
/// next record, as it does in the decisions, rather than after the service is restarted.
struct HostFields {
    file: PathBuf,
    seen: Option<(i64, i64, u64, u64)>,
    hostname: String,
    environment: String,
    role: Option<String>,
}

/// Size, modification time and inode of `path`, to tell when it changed.
pub fn file_stamp(path: &std::path::Path) -> Option<(i64, i64, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.mtime(), m.mtime_nsec(), m.size(), m.ino()))
}

impl HostFields {
    fn new(host: &HostContext, file: PathBuf) -> HostFields {
        HostFields {
            seen: file_stamp(&file),
            file,
            hostname: host.hostname.clone(),
            environment: host.environment.clone(),
            role: host.role.clone(),
        }
    }

    fn refresh(&mut self) {
        let now = file_stamp(&self.file);
        if now == self.seen {
            return;
        }
        let host = HostContext::load(Some(&self.file));
        self.hostname = host.hostname;
        self.environment = host.environment;
        self.role = host.role;
        self.seen = now;
    }
}

/// One record waiting for the writer, and where to send the answer.
struct Job {
    rec: Record,
    sync: bool,
    reply: mpsc::SyncSender<Result<String, String>>,
}

struct Shared {
    jobs: mpsc::SyncSender<Job>,
    host: Mutex<HostFields>,
    proc: Proc,
    log: String,
    counts: Mutex<(usize, HashMap<u32, usize>)>,
    approvals: Approvals,
    grants: Grants,
    sessions: Sessions,
    health: Arc<Health>,
}

/// How often grants are looked at for expiry and for a holder that is gone.
const GRANT_SWEEP: Duration = Duration::from_secs(5);

/// Serve `listener` until the process is stopped. Returns only when accepting fails for good.
pub fn run(listener: UnixListener, service: Service) -> std::io::Result<()> {
    let (tx, rx) = mpsc::sync_channel::<Job>(MAX_BATCH * 4);
    let Service {
        log,
        sink,
        syslog,
        host,
        host_file,
        proc,
        approvals,
    } = service;
    let hostname = host.hostname.clone();
    let host = HostFields::new(&host, host_file);
    let health = Arc::new(Health::new(&log));
    {
        let health = Arc::clone(&health);
        std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || writer(&rx, &sink, syslog.as_ref(), &hostname, &health))?;
    }
    let shared = Arc::new(Shared {
        jobs: tx,
        host: Mutex::new(host),
        proc,
        log: log.display().to_string(),
        counts: Mutex::new((0, HashMap::new())),
        approvals,
        grants: Grants::default(),
        sessions: Sessions::default(),
        health,
    });
    {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("grants".into())
            .spawn(move || loop {
                std::thread::sleep(GRANT_SWEEP);
                let host = shared.approvals.host_now();
                for rec in shared.grants.sweep(&shared.proc, std::time::SystemTime::now(), &host)
                {
                    if let Err(e) = enqueue(&shared, rec, true) {
                        eprintln!("prodguard daemon: warning: the end of a break-glass grant cannot be recorded: {e}");
                    }
                }
            })?;
    }
    let mut failures = 0u32;
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                failures = 0;
                let shared = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("conn".into())
                    .spawn(move || serve(stream, &shared));
                if let Err(e) = spawned {
                    eprintln!("prodguard daemon: cannot start a connection thread: {e}");
                }
            }
            // EMFILE and friends: back off instead of spinning, give up only when it persists.
            Err(e) => {
                failures += 1;
                if failures > 1000 {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    Ok(())
}

/// Counts a connection against the caps while it lives.
struct Slot<'a> {
    shared: &'a Shared,
    uid: u32,
}

impl<'a> Slot<'a> {
    fn take(shared: &'a Shared, uid: u32) -> Option<Slot<'a>> {
        let mut c = shared
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = c.1.get(&uid).copied().unwrap_or(0);
        if c.0 >= MAX_CONNECTIONS || mine >= MAX_PER_UID {
            return None;
        }
        c.0 += 1;
        c.1.insert(uid, mine + 1);
        Some(Slot { shared, uid })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut c = self
            .shared
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        c.0 = c.0.saturating_sub(1);
        if let Some(n) = c.1.get_mut(&self.uid) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.1.remove(&self.uid);
            }
        }
    }
}

fn reply_err(text: impl Into<String>) -> Reply {
    Reply {
        ok: false,
        error: Some(text.into()),
        ..Reply::default()
    }
}

fn send(stream: &mut UnixStream, reply: &impl serde::Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// One connection: requests in, replies out, until the client closes, goes silent for
/// [`IDLE_TIMEOUT`], or sends something that is not a request.
fn serve(stream: UnixStream, shared: &Shared) {
    let Ok(peer) = peer::credentials(&stream) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let Some(_slot) = Slot::take(shared, peer.uid) else {
        let _ = send(
            &mut out,
            &reply_err(format!(
                "too many connections (at most {MAX_CONNECTIONS}, {MAX_PER_UID} per user); try again"
            )),
        );
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut conn = Conn::default();
    loop {
        let mut line = Vec::with_capacity(1024);
        let limit = u64::try_from(MAX_REQUEST_BYTES).unwrap_or(u64::MAX) + 1;
        match reader.by_ref().take(limit).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_REQUEST_BYTES {
                let _ = send(
                    &mut out,
                    &reply_err(format!(
                        "the request is longer than {MAX_REQUEST_BYTES} bytes"
                    )),
                );
            }
            return;
        }
        let reply = match serde_json::from_slice::<Request>(&line) {
            Ok(Request::Ping) => Reply {
                ok: true,
                log: Some(shared.log.clone()),
                pid: Some(std::process::id()),
                version: Some(crate::approval::wire::VERSION),
                write_failure: shared.health.write_failure(),
                ..Reply::default()
            },
            Ok(Request::Append { sync, record }) => append(shared, &peer, &mut conn, *record, sync),
            Err(e) => match serde_json::from_slice::<crate::approval::wire::Op>(&line) {
                Err(_) if line.starts_with(b"{\"op\":\"break-glass-") => {
                    let answer = match serde_json::from_slice::<GrantOp>(&line) {
                        Ok(op) => grant(shared, &peer, &mut conn, op),
                        Err(e) => GrantAnswer::refused(format!("not a request: {e}")),
                    };
                    if send(&mut out, &answer).is_err() {
                        return;
                    }
                    continue;
                }
                Ok(op) => {
                    let answer = match op {
                        crate::approval::wire::Op::Origin {} => {
                            crate::approval::wire::Answer::origin(shared.proc.origin(peer.pid))
                        }
                        op => shared.approvals.handle(op, &peer),
                    };
                    if send(&mut out, &answer).is_err() {
                        return;
                    }
                    continue;
                }
                Err(_) => {
                    let _ = send(&mut out, &reply_err(format!("not a request: {e}")));
                    return;
                }
            },
        };
        if send(&mut out, &reply).is_err() {
            return;
        }
    }
}

/// A break-glass operation for `peer`. A grant is answered only once its start record is
/// written and on the disk; one that cannot be recorded is withdrawn.
fn grant(shared: &Shared, peer: &Peer, conn: &mut Conn, op: GrantOp) -> GrantAnswer {
    let done = match op {
        GrantOp::BreakGlassStart { reason, record } => {
            let host = shared.approvals.host_now();
            let record = record.map_or_else(
                || Record::new(Event::Session, &host, user_name(peer.uid), peer.uid),
                |r| *r,
            );
            shared
                .grants
                .start(peer, &shared.proc, &reason, record, host.break_glass)
                .and_then(|started| {
                    let written = append(shared, peer, conn, started.record, true);
                    if written.ok {
                        Ok(started.info)
                    } else {
                        shared.grants.withdraw(&started.info.id);
                        Err(format!(
                            "the break-glass session cannot be recorded: {}",
                            written.error.unwrap_or_default()
                        ))
                    }
                })
        }
        GrantOp::BreakGlassCheck { id } => shared.grants.check(peer, &shared.proc, &id),
        GrantOp::BreakGlassEnd { id } => shared.grants.end(peer, &shared.proc, &id),
    };
    match done {
        Ok(info) => GrantAnswer::granted(info),
        Err(why) => GrantAnswer::refused(why),
    }
}

/// What one connection has already looked up about its caller.
#[derive(Default)]
struct Conn {
    /// The SSH client of the caller's session.
    ssh: Option<Option<String>>,
    /// The last session id named, and whether the caller belongs to it.
    session: Option<(String, Standing)>,
}

/// Event kinds only the service itself writes.
fn service_only(event: Event) -> bool {
    matches!(event, Event::TornTail | Event::SinkFailure)
}

fn append(shared: &Shared, peer: &Peer, conn: &mut Conn, mut rec: Record, sync: bool) -> Reply {
    if service_only(rec.event) {
        return reply_err(format!(
            "{} records are written by the audit service only",
            serde_json::to_string(&rec.event).unwrap_or_default()
        ));
    }
    let mut facts = shared.proc.facts(peer.pid);
    // The session's sshd does not change under a connection: look it up once.
    match &conn.ssh {
        Some(known) => facts.ssh_client = known.clone(),
        None => conn.ssh = Some(facts.ssh_client.clone()),
    }
    // Nor does the caller's place in a session's process tree.
    let standing = match &conn.session {
        Some((id, standing)) if *id == rec.session => *standing,
        _ => {
            let standing = shared.sessions.judge(&rec.session, peer, &shared.proc);
            conn.session = Some((rec.session.clone(), standing));
            standing
        }
    };
    facts.session_confirmed = standing == Standing::Confirmed;
    peer::stamp(&mut rec, peer, &facts);
    match enqueue(shared, rec, sync) {
        Ok(hash) => Reply {
            ok: true,
            hash: Some(hash),
            ..Reply::default()
        },
        Err(e) => reply_err(e),
    }
}

/// Write `rec` (its identity already settled) through the writer, with this host's fields and
/// the time now; returns its hash once written.
fn enqueue(shared: &Shared, mut rec: Record, sync: bool) -> Result<String, String> {
    rec.time = audit::record::format_rfc3339_millis(std::time::SystemTime::now());
    {
        let mut host = shared.host.lock().unwrap_or_else(|e| e.into_inner());
        host.refresh();
        rec.host = host.hostname.clone();
        rec.environment = host.environment.clone();
        rec.role = host.role.clone();
    }
    audit::redact_record(&mut rec, &[]);
    let (tx, rx) = mpsc::sync_channel(1);
    if shared
        .jobs
        .send(Job {
            rec,
            sync,
            reply: tx,
        })
        .is_err()
    {
        return Err("the audit writer has stopped".to_string());
    }
    rx.recv()
        .unwrap_or_else(|_| Err("the audit writer has stopped".to_string()))
}

/// The writer thread: take everything that is waiting, write it, one `fdatasync` for the lot
/// when any of it asked to be durable, answer, then forward to syslog.
/// How often the writer looks whether a checkpoint is due while nothing is written.
const CHECKPOINT_POLL: Duration = Duration::from_secs(30);

fn writer(
    rx: &mpsc::Receiver<Job>,
    sink: &FileSink,
    target: Option<&audit::SyslogTarget>,
    hostname: &str,
    health: &Health,
) {
    let mut syslog = Syslog::new(target, hostname);
    // A signed checkpoint when the service starts, and whenever the interval has passed with
    // nothing written; the sink adds the ones every N records itself.
    let checkpoint = |made: Result<Option<(Record, Vec<u8>)>, audit::AuditError>,
                      syslog: &mut Syslog<'_>| match made {
        Ok(Some((rec, line))) => syslog.forward(&rec, &line, sink),
        Ok(None) => {}
        Err(e) => eprintln!("prodguard daemon: warning: checkpoint: {e}"),
    };
    checkpoint(sink.checkpoint("service start"), &mut syslog);
    loop {
        let first = match rx.recv_timeout(CHECKPOINT_POLL) {
            Ok(j) => j,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                checkpoint(sink.checkpoint_if_due(), &mut syslog);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut lines: Vec<Result<Vec<u8>, String>> = Vec::with_capacity(batch.len());
        let mut signed = Vec::new();
        let mut need_sync = false;
        for job in &mut batch {
            match sink.append_records(std::slice::from_mut(&mut job.rec), false) {
                Ok(mut appended) => {
                    need_sync |= job.sync;
                    lines.push(Ok(appended.lines.pop().unwrap_or_default()));
                    signed.append(&mut appended.checkpoints);
                }
                Err(e) => lines.push(Err(e.to_string())),
            }
        }
        let synced = if need_sync {
            sink.sync().map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        note_health(health, &batch, &lines, &synced);
        for (job, line) in batch.iter().zip(&lines) {
            let answer = match (line, &synced) {
                (Err(e), _) => Err(e.clone()),
                (Ok(_), Err(e)) if job.sync => Err(e.clone()),
                (Ok(_), _) => Ok(job.rec.hash.clone()),
            };
            let _ = job.reply.send(answer);
        }
        for (job, line) in batch.iter().zip(&lines) {
            if let Ok(line) = line {
                syslog.forward(&job.rec, line, sink);
            }
        }
        for (rec, line) in &signed {
            syslog.forward(rec, line, sink);
        }
    }
}

/// Tell `health` how the batch went: the first failure (a record not written, or the batch's
/// `fdatasync`), or that the log took it.
fn note_health(
    health: &Health,
    batch: &[Job],
    lines: &[Result<Vec<u8>, String>],
    synced: &Result<(), String>,
) {
    let failed = batch.iter().zip(lines).find_map(|(job, line)| {
        line.as_ref().err().map(|e| {
            let bytes = serde_json::to_vec(&job.rec).map_or(0, |l| l.len() + 1);
            (e.clone(), bytes)
        })
    });
    match (failed, synced) {
        (Some((why, bytes)), _) => health.failed(&why, bytes),
        (None, Err(why)) => health.failed(why, lines.iter().flatten().map(Vec::len).sum()),
        (None, Ok(())) => health.succeeded(),
    }
}

/// The syslog copy: reconnected now and then when it fails; a failure is noted in the log once,
/// not once per record.
struct Syslog<'a> {
    target: Option<&'a audit::SyslogTarget>,
    hostname: &'a str,
    sink: Option<SyslogSink>,
    failing: bool,
    last_try: Option<Instant>,
}

impl<'a> Syslog<'a> {
    fn new(target: Option<&'a audit::SyslogTarget>, hostname: &'a str) -> Syslog<'a> {
        Syslog {
            target,
            hostname,
            sink: None,
            failing: false,
            last_try: None,
        }
    }

    fn forward(&mut self, rec: &Record, line: &[u8], file: &FileSink) {
        let Some(target) = self.target else { return };
        if self.sink.is_none() {
            if self.last_try.is_some_and(|t| t.elapsed() < SYSLOG_RETRY) {
                return;
            }
            self.last_try = Some(Instant::now());
            match SyslogSink::connect(target, self.hostname) {
                Ok(s) => self.sink = Some(s),
                Err(e) => return self.failed(rec, &e, file),
            }
        }
        let text =
            std::str::from_utf8(line.strip_suffix(b"\n").unwrap_or(line)).unwrap_or_default();
        let sent = match &self.sink {
            Some(s) => s.send(rec, text),
            None => return,
        };
        match sent {
            Ok(()) => self.failing = false,
            Err(e) => {
                self.sink = None;
                self.last_try = Some(Instant::now());
                self.failed(rec, &e, file);
            }
        }
    }

    fn failed(&mut self, rec: &Record, e: &audit::AuditError, file: &FileSink) {
        if !self.failing {
            self.failing = true;
            let mut note = rec.note(Event::SinkFailure, e.to_string());
            let _ = file.append(&mut note);
        }
    }
}
