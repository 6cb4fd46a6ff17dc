//! The client side of the audit service (`prodguard daemon`): the one process that writes the
//! chained log, reached over a Unix stream socket.
//!
//! # Wire format
//! One request per line, one reply per line, both compact JSON (a record's newlines are escaped
//! by JSON, so a line is a whole message):
//!
//! ```text
//! → {"op":"append","sync":true,"record":{…}}
//! ← {"ok":true,"hash":"<64 hex>"}
//! ← {"ok":false,"error":"a sentence"}
//! → {"op":"ping"}
//! ← {"ok":true,"log":"/var/log/prodguard/audit.jsonl","pid":1234}
//! ← {"ok":true,"log":…,"pid":1234,"write_failure":"the audit service's last write … fails now: …"}
//! ```
//!
//! The ping is also the pre-check made before a command that needs a record is asked about:
//! `write_failure` is there when the service's last write to the log failed (a full disk, an I/O
//! error, a read-only file system) and a test write still fails, and the command is refused
//! before the question. A service that predates the field sends none, and is taken at its
//! connection; a client that predates it ignores it.
//!
//! The service takes the caller's uid, gid and pid from the kernel (`SO_PEERCRED`) and
//! overwrites every identity field of the record; what the client sends is only the body of the
//! decision. A reply `ok` means the record is in the file (and on the disk when `sync`).
//!
//! # Timeouts
//! The client never holds a lock. Connecting waits at most [`CONNECT_TIMEOUT`] (retrying while
//! the socket refuses connections, as it does for a moment while the service restarts), and a
//! request waits at most [`REPLY_TIMEOUT`] for its reply: a stopped or wedged service makes
//! commands that need a record fail with [`AuditError::Service`], it never hangs them.

use super::record::Record;
use super::AuditError;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the service listens when host.toml's `[audit] socket` does not say.
pub const DEFAULT_SOCKET: &str = "/run/prodguard/audit.sock";

/// Longest request line the service reads, in bytes (a record's command is capped at 64 KiB
/// before it is sent; the rest is the decision's structure).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// How long a client keeps trying to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a client waits for the reply to one request (a group commit waits for the disk).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// How the service is started by hand, for messages.
pub const START_HINT: &str = "systemctl start prodguard.socket";

/// A request to the service.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Chain and write `record`; `sync` waits for the disk.
    Append { sync: bool, record: Box<Record> },
    /// Is the service there, and which log does it write?
    Ping,
}

/// The service's reply.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the request was carried out.
    pub ok: bool,
    /// The record's hash in the chain (append).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Why not, as a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The log the service writes (ping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The service's process id (ping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The protocol version (ping): 2 and later also carry the approval operations
    /// ([`crate::approval::wire`]); absent from a service of version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Why the log cannot be written now (ping), when its last write failed and a test write
    /// fails too; absent while it can be, and from services that predate the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_failure: Option<String>,
}

/// A connection to the audit service, opened lazily and reopened once when the service closed
/// it (idle connections are closed by the service).
#[derive(Debug)]
pub struct ServiceSink {
    socket: PathBuf,
    conn: Mutex<Option<BufReader<UnixStream>>>,
}

impl ServiceSink {
    /// A sink for the service at `socket`. Nothing is connected until the first request.
    pub fn new(socket: &Path) -> ServiceSink {
        ServiceSink {
            socket: socket.to_path_buf(),
            conn: Mutex::new(None),
        }
    }

    /// Connect now, so that a service that is not there is known before anything is asked.
    pub fn connected(socket: &Path) -> Result<ServiceSink, AuditError> {
        let s = ServiceSink::new(socket);
        s.ensure_connected(true)?;
        Ok(s)
    }

    /// Connect unless connected. `patient` retries for up to [`CONNECT_TIMEOUT`] while the
    /// socket refuses connections; otherwise one attempt is made.
    pub fn ensure_connected(&self, patient: bool) -> Result<(), AuditError> {
        let mut conn = self.lock();
        if conn.is_none() {
            let stream = connect(&self.socket, patient).map_err(|e| self.error(&e))?;
            *conn = Some(BufReader::new(stream));
        }
        Ok(())
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<BufReader<UnixStream>>> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, e: &std::io::Error) -> AuditError {
        AuditError::Service {
            socket: self.socket.clone(),
            reason: service_reason(e),
        }
    }

    /// Send `rec` to be chained and written. Returns the record's hash. A durable (`sync`)
    /// record waits for a restarting service; any other is given up at once when nobody is
    /// listening, so that commands allowed without a question never wait for a stopped service.
    pub fn append(&self, rec: &Record, sync: bool) -> Result<String, AuditError> {
        let req = Request::Append {
            sync,
            record: Box::new(rec.clone()),
        };
        let reply = self.call_with(&req, sync)?;
        match (reply.ok, reply.hash) {
            (true, Some(h)) => Ok(h),
            (true, None) => Err(AuditError::Service {
                socket: self.socket.clone(),
                reason: "answered without the record's hash".to_string(),
            }),
            (false, _) => {
                Err(AuditError::Refused(reply.error.unwrap_or_else(|| {
                    "the audit service refused the record".to_string()
                })))
            }
        }
    }

    /// Ask the service whether it is there; the reply names its log and pid.
    pub fn ping(&self) -> Result<Reply, AuditError> {
        self.call_with(&Request::Ping, true)
    }

    /// Whether the service can write the log now: connected at once (no wait for a restarting
    /// service), then pinged. `Ok(Some(why))` when the service says its log cannot be written.
    pub fn write_failure(&self) -> Result<Option<String>, AuditError> {
        self.ensure_connected(false)?;
        let reply = self.call_with(&Request::Ping, false)?;
        if !reply.ok {
            return Err(AuditError::Service {
                socket: self.socket.clone(),
                reason: reply
                    .error
                    .unwrap_or_else(|| "refused the ping".to_string()),
            });
        }
        Ok(reply.write_failure)
    }

    /// One request and its reply. A connection the service closed while idle is reopened once;
    /// a request whose reply was lost may then be written twice (never lost).
    pub fn call_with(&self, req: &Request, patient: bool) -> Result<Reply, AuditError> {
        let reply = self.call_json(req, patient)?;
        serde_json::from_slice(&reply).map_err(|e| AuditError::Service {
            socket: self.socket.clone(),
            reason: format!("answered something that is not a reply ({e})"),
        })
    }

    /// Send `req` as one line of JSON and return the reply line, as [`ServiceSink::call_with`]
    /// does; for requests of other modules (the approval operations).
    pub fn call_json(&self, req: &impl Serialize, patient: bool) -> Result<Vec<u8>, AuditError> {
        let mut line = serde_json::to_vec(req).map_err(|e| AuditError::Encode(e.to_string()))?;
        line.push(b'\n');
        if line.len() > MAX_REQUEST_BYTES {
            return Err(AuditError::Encode(format!(
                "the record is {} bytes, more than the audit service takes ({MAX_REQUEST_BYTES})",
                line.len()
            )));
        }
        let mut conn = self.lock();
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let mut pause = Duration::from_millis(5);
        let mut attempt = 0;
        loop {
            attempt += 1;
            if conn.is_none() {
                *conn = Some(BufReader::new(
                    connect(&self.socket, patient).map_err(|e| self.error(&e))?,
                ));
            }
            let Some(c) = conn.as_mut() else { continue };
            match exchange(c, &line) {
                Ok(reply) => return Ok(reply),
                Err(e) => {
                    *conn = None;
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) {
                        return Err(AuditError::Service {
                            socket: self.socket.clone(),
                            reason: format!("did not answer within {} s", REPLY_TIMEOUT.as_secs()),
                        });
                    }
                    // Closed while idle, or a service that stopped with our request queued:
                    // once at once, and for a durable record until the connect budget is spent.
                    let again = attempt < 2 || (patient && Instant::now() + pause < deadline);
                    if !again {
                        return Err(self.error(&e));
                    }
                    if attempt >= 2 {
                        std::thread::sleep(pause);
                        pause = (pause * 2).min(Duration::from_millis(200));
                    }
                }
            }
        }
    }
}

fn exchange(c: &mut BufReader<UnixStream>, line: &[u8]) -> std::io::Result<Vec<u8>> {
    c.get_mut().write_all(line)?;
    let mut buf = Vec::with_capacity(128);
    let n = c.read_until(b'\n', &mut buf)?;
    if n == 0 || buf.last() != Some(&b'\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the service closed the connection",
        ));
    }
    Ok(buf)
}

/// Connect to `socket` with timeouts set: when `patient`, retry for up to [`CONNECT_TIMEOUT`]
/// while nobody accepts (a restarting service); never block longer than that on a full backlog.
pub fn connect(socket: &Path, patient: bool) -> std::io::Result<UnixStream> {
    use nix::sys::socket::{self as s, sockopt, AddressFamily, SockFlag, SockType, UnixAddr};
    use nix::sys::time::TimeVal;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let addr = UnixAddr::new(socket).map_err(std::io::Error::from)?;
    let tv = |d: Duration| {
        TimeVal::new(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            i64::from(d.subsec_micros()),
        )
    };
    let mut pause = Duration::from_millis(5);
    loop {
        let fd = s::socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        // Linux honours SO_SNDTIMEO for a Unix connect waiting on a full backlog.
        s::setsockopt(&fd, sockopt::SendTimeout, &tv(CONNECT_TIMEOUT))?;
        match s::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr) {
            Ok(()) => {
                let stream = UnixStream::from(fd);
                stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
                stream.set_write_timeout(Some(CONNECT_TIMEOUT))?;
                return Ok(stream);
            }
            Err(
                e @ (nix::errno::Errno::ECONNREFUSED
                | nix::errno::Errno::ENOENT
                | nix::errno::Errno::EAGAIN),
            ) if patient && Instant::now() + pause < deadline => {
                let _ = e;
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Why the service could not be reached, worded for a refusal.
fn service_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) => "does not exist (the service is not running)".to_string(),
        Some(libc::ECONNREFUSED) => "refuses connections (the service is not running)".to_string(),
        Some(libc::EAGAIN) | Some(libc::ETIMEDOUT) => format!(
            "did not accept the connection within {} s",
            CONNECT_TIMEOUT.as_secs()
        ),
        Some(libc::EACCES) => "is not accessible to this user".to_string(),
        _ => format!("cannot be used: {}", super::reason(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_line_of_tagged_json() {
        let rec = Record::new(
            super::super::Event::Command,
            &crate::host::HostContext::unknown(),
            "u".into(),
            1,
        )
        .with_command("a\nb");
        let line = serde_json::to_string(&Request::Append {
            sync: true,
            record: Box::new(rec),
        })
        .unwrap_or_default();
        assert!(
            line.starts_with("{\"op\":\"append\",\"sync\":true,\"record\":{"),
            "{line}"
        );
        assert!(!line.contains('\n'));
        assert_eq!(
            serde_json::to_string(&Request::Ping).unwrap_or_default(),
            "{\"op\":\"ping\"}"
        );
    }

    #[test]
    fn a_write_failure_is_an_optional_field_of_the_ping_reply() {
        // A service that predates the field: no failure known.
        let old: Reply = serde_json::from_str(r#"{"ok":true,"log":"/l","pid":7,"version":2}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(old.ok && old.write_failure.is_none());
        let healthy = serde_json::to_string(&Reply {
            ok: true,
            ..Reply::default()
        })
        .unwrap_or_default();
        assert!(!healthy.contains("write_failure"), "{healthy}");
        let failing = Reply {
            ok: true,
            write_failure: Some("disk full".into()),
            ..Reply::default()
        };
        let line = serde_json::to_string(&failing).unwrap_or_default();
        assert!(line.contains(r#""write_failure":"disk full""#), "{line}");
        // An older client's reading of it (no such field in its reply type) still parses.
        #[derive(serde::Deserialize)]
        struct OldReply {
            ok: bool,
        }
        let read: OldReply = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}"));
        assert!(read.ok);
    }

    #[test]
    fn a_missing_socket_is_named_with_the_way_to_start_it() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let start = Instant::now();
        let err = ServiceSink::connected(&d.path().join("none.sock"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("none.sock"), "{err}");
        assert!(err.contains("not running"), "{err}");
        assert!(err.contains(START_HINT), "{err}");
        assert!(start.elapsed() < CONNECT_TIMEOUT + Duration::from_secs(1));
    }
}
