//! The syslog sink: each record's JSON line as the message of one RFC 3164 syslog message,
//! facility authpriv, tag `prodguard[pid]`.
//!
//! The `syslog` crate formats the header; the transport is ours so that every send has a
//! timeout (a stalled syslog daemon must not hang a login) and so that TCP messages are framed
//! with a trailing newline (RFC 6587 non-transparent framing). Local sockets get no hostname in
//! the header (the daemon adds its own, as with glibc's `syslog(3)`); network targets do.

use super::record::{Event, Outcome, Record};
use super::AuditError;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use syslog::{Facility, Formatter3164, LogFormat, Severity};

/// How long a send (and a TCP connect) may take.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Where syslog messages go, from host.toml `[audit] syslog`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local socket (`/dev/log`, or `unix:/path`).
    Unix(PathBuf),
    /// `udp:host:port`.
    Udp(String),
    /// `tcp:host:port`.
    Tcp(String),
}

impl SyslogTarget {
    /// Parse the setting. `None` (not set) means `/dev/log`; `none` or `off` disables syslog
    /// (`Ok(None)`).
    pub fn parse(value: Option<&str>) -> Result<Option<SyslogTarget>, AuditError> {
        let Some(v) = value.map(str::trim) else {
            return Ok(Some(SyslogTarget::Unix(PathBuf::from("/dev/log"))));
        };
        let bad = |reason: &str| AuditError::SyslogSetting {
            value: v.to_string(),
            reason: reason.to_string(),
        };
        if matches!(v, "none" | "off" | "") {
            return Ok(None);
        }
        if v.starts_with('/') {
            return Ok(Some(SyslogTarget::Unix(PathBuf::from(v))));
        }
        let (scheme, rest) = v.split_once(':').ok_or_else(|| bad("no scheme"))?;
        let needs_port = |rest: &str| -> Result<String, AuditError> {
            let (_, port) = rest.rsplit_once(':').ok_or_else(|| bad("no port"))?;
            port.parse::<u16>()
                .map_err(|_| bad("the port is not a number"))?;
            Ok(rest.to_string())
        };
        match scheme {
            "unix" if rest.starts_with('/') => Ok(Some(SyslogTarget::Unix(PathBuf::from(rest)))),
            "unix" => Err(bad("the socket path must be absolute")),
            "udp" => Ok(Some(SyslogTarget::Udp(needs_port(rest)?))),
            "tcp" => Ok(Some(SyslogTarget::Tcp(needs_port(rest)?))),
            _ => Err(bad("unknown scheme")),
        }
    }
}

impl std::fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyslogTarget::Unix(p) => write!(f, "unix:{}", p.display()),
            SyslogTarget::Udp(a) => write!(f, "udp:{a}"),
            SyslogTarget::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

#[derive(Debug)]
enum Transport {
    Datagram(UnixDatagram),
    Stream(UnixStream),
    Udp(UdpSocket),
    Tcp(TcpStream),
}

/// A connected syslog sink.
#[derive(Debug)]
pub struct SyslogSink {
    target: SyslogTarget,
    formatter: Formatter3164,
    transport: Mutex<Transport>,
}

impl SyslogSink {
    /// Connect to `target`. `hostname` goes into the header for network targets. Sockets are
    /// close-on-exec.
    pub fn connect(target: &SyslogTarget, hostname: &str) -> Result<SyslogSink, AuditError> {
        let err = |e: std::io::Error| AuditError::Syslog {
            target: target.to_string(),
            reason: super::reason(&e),
        };
        let (transport, host) = match target {
            SyslogTarget::Unix(path) => {
                let d = UnixDatagram::unbound().map_err(err)?;
                match d.connect(path) {
                    Ok(()) => {
                        d.set_write_timeout(Some(TIMEOUT)).map_err(err)?;
                        (Transport::Datagram(d), None)
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
                        let s = UnixStream::connect(path).map_err(err)?;
                        s.set_write_timeout(Some(TIMEOUT)).map_err(err)?;
                        (Transport::Stream(s), None)
                    }
                    Err(e) => return Err(err(e)),
                }
            }
            SyslogTarget::Udp(addr) => {
                let to = resolve(addr).map_err(err)?;
                let local = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let u = UdpSocket::bind(local).map_err(err)?;
                u.connect(to).map_err(err)?;
                u.set_write_timeout(Some(TIMEOUT)).map_err(err)?;
                (Transport::Udp(u), Some(hostname.to_string()))
            }
            SyslogTarget::Tcp(addr) => {
                let to = resolve(addr).map_err(err)?;
                let t = TcpStream::connect_timeout(&to, TIMEOUT).map_err(err)?;
                t.set_write_timeout(Some(TIMEOUT)).map_err(err)?;
                (Transport::Tcp(t), Some(hostname.to_string()))
            }
        };
        Ok(SyslogSink {
            target: target.clone(),
            formatter: Formatter3164 {
                facility: Facility::LOG_AUTHPRIV,
                hostname: host,
                process: "prodguard".to_string(),
                pid: std::process::id(),
            },
            transport: Mutex::new(transport),
        })
    }

    /// The target this sink sends to.
    pub fn target(&self) -> &SyslogTarget {
        &self.target
    }

    /// Send one record's JSON line (without its newline) with a severity fitting `rec`.
    pub fn send(&self, rec: &Record, line: &str) -> Result<(), AuditError> {
        let err = |reason: String| AuditError::Syslog {
            target: self.target.to_string(),
            reason,
        };
        let mut msg = Vec::with_capacity(line.len() + 64);
        self.formatter
            .format(&mut msg, severity(rec), line)
            .map_err(|e| err(e.to_string()))?;
        let mut t = self
            .transport
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let io = match &mut *t {
            Transport::Datagram(d) => d.send(&msg).map(drop),
            Transport::Udp(u) => u.send(&msg).map(drop),
            Transport::Stream(s) => {
                // rsyslog and journald delimit stream messages with NUL or newline.
                msg.push(0);
                s.write_all(&msg)
            }
            Transport::Tcp(s) => {
                msg.push(b'\n');
                s.write_all(&msg)
            }
        };
        io.map_err(|e| err(super::reason(&e)))
    }
}

fn resolve(addr: &str) -> std::io::Result<std::net::SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the name resolves to no address"))
}

/// Severity of a record: failures and refusals are warnings, break-glass is critical,
/// checkpoints are notices (so a SIEM filter can keep them apart).
pub fn severity(rec: &Record) -> Severity {
    match (rec.event, rec.outcome) {
        (_, Some(Outcome::BreakGlass)) => Severity::LOG_CRIT,
        (Event::TornTail | Event::SinkFailure, _) => Severity::LOG_WARNING,
        (Event::Checkpoint, _) => Severity::LOG_NOTICE,
        (_, Some(Outcome::Denied | Outcome::Refused)) => Severity::LOG_WARNING,
        (_, Some(Outcome::Allowed | Outcome::Exit)) | (_, None) => Severity::LOG_INFO,
        _ => Severity::LOG_NOTICE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_settings() {
        assert_eq!(
            SyslogTarget::parse(None).ok().flatten(),
            Some(SyslogTarget::Unix("/dev/log".into()))
        );
        assert_eq!(SyslogTarget::parse(Some("none")).ok(), Some(None));
        assert_eq!(
            SyslogTarget::parse(Some("unix:/run/x.sock")).ok().flatten(),
            Some(SyslogTarget::Unix("/run/x.sock".into()))
        );
        assert_eq!(
            SyslogTarget::parse(Some("udp:10.0.0.1:514")).ok().flatten(),
            Some(SyslogTarget::Udp("10.0.0.1:514".into()))
        );
        assert_eq!(
            SyslogTarget::parse(Some("tcp:[::1]:601")).ok().flatten(),
            Some(SyslogTarget::Tcp("[::1]:601".into()))
        );
        for bad in [
            "udp:host",
            "tcp:host:http",
            "ftp:x:1",
            "unix:relative",
            "host",
        ] {
            assert!(SyslogTarget::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn datagram_carries_the_line_with_authpriv() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let sock = d.path().join("log");
        let rx = UnixDatagram::bind(&sock).unwrap_or_else(|e| panic!("{e}"));
        let s =
            SyslogSink::connect(&SyslogTarget::Unix(sock), "db1").unwrap_or_else(|e| panic!("{e}"));
        let rec = Record::new(
            Event::Command,
            &crate::host::HostContext::unknown(),
            "u".into(),
            1,
        );
        s.send(&rec, "{\"v\":1}").unwrap_or_else(|e| panic!("{e}"));
        let mut buf = [0u8; 4096];
        let n = rx.recv(&mut buf).unwrap_or(0);
        let msg = String::from_utf8_lossy(&buf[..n]);
        // authpriv (10) * 8 + info (6) = 86
        assert!(msg.starts_with("<86>"), "{msg}");
        assert!(msg.ends_with(": {\"v\":1}"), "{msg}");
        assert!(msg.contains(" prodguard["), "{msg}");
    }
}
