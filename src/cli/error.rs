//! The one error type of the command line. Every subcommand returns a [`Status`]: `Ok`
//! carries the exit status of a run that went as asked (a refusal of the command is such a run:
//! it was decided, said and recorded), `Err` what stopped it. [`report`] is the only place that
//! prints an error and maps it to an exit status.

use super::{EXIT_EXEC_FAILED, EXIT_EXEC_REFUSED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE};

/// What stopped a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for what cannot be done (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The guard decided nothing and ran nothing: the request was refused before it could be
    /// judged, or cannot be recorded (exit 1).
    #[error("{0}")]
    Refused(String),
    /// The command was allowed, but could not be started as asked (exit 126: not run).
    #[error("{0}")]
    NotRun(String),
    /// The command was allowed, but the program could not be executed (exit 127).
    #[error("cannot run {program}: {source}")]
    Exec {
        program: String,
        source: std::io::Error,
    },
    /// The subcommand could not do what it was asked, said in a whole sentence (exit 2).
    #[error("{0}")]
    Failed(String),
    /// Reading or writing something the subcommand needs failed (exit 2).
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Standard output was closed under us (`| head`): stop quietly, exit 0.
    #[error("standard output closed")]
    Pipe,
    #[error(transparent)]
    Guard(#[from] crate::guard::Error),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Approval(#[from] crate::approval::ApprovalError),
    #[error(transparent)]
    Daemon(#[from] crate::daemon::DaemonError),
    #[error(transparent)]
    Key(#[from] crate::audit::checkpoint::KeyError),
}

impl Error {
    /// An I/O failure on `what` ("cannot write the script"); a closed standard output is
    /// [`Error::Pipe`].
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| {
            if source.kind() == std::io::ErrorKind::BrokenPipe {
                Error::Pipe
            } else {
                Error::Io { what, source }
            }
        }
    }

    /// The exit status this error ends the process with.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Pipe => EXIT_OK,
            Error::Refused(_) => EXIT_REFUSED,
            Error::NotRun(_) => EXIT_EXEC_REFUSED,
            Error::Exec { .. } => EXIT_EXEC_FAILED,
            Error::Guard(crate::guard::Error::Audit(_)) => EXIT_REFUSED,
            Error::Usage(_)
            | Error::Failed(_)
            | Error::Io { .. }
            | Error::Guard(_)
            | Error::Audit(_)
            | Error::Approval(_)
            | Error::Daemon(_)
            | Error::Key(_) => EXIT_USAGE,
        }
    }
}

/// The result of a subcommand.
pub type Status = Result<u8, Error>;

/// Print what stopped `command` (when anything did) and give the exit status: the only place
/// a subcommand's error is printed.
pub fn report(command: &str, status: Status) -> u8 {
    match status {
        Ok(code) => code,
        Err(Error::Pipe) => EXIT_OK,
        Err(e) => {
            eprintln!("{command}: {e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_exit_status() {
        let io = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(Error::Usage("x".into()).exit_code(), EXIT_USAGE);
        assert_eq!(Error::Failed("x".into()).exit_code(), EXIT_USAGE);
        assert_eq!(Error::Refused("x".into()).exit_code(), EXIT_REFUSED);
        assert_eq!(Error::NotRun("x".into()).exit_code(), EXIT_EXEC_REFUSED);
        let exec = Error::Exec {
            program: "psql".into(),
            source: io(),
        };
        assert_eq!(exec.exit_code(), EXIT_EXEC_FAILED);
        assert!(exec.to_string().starts_with("cannot run psql: "), "{exec}");
        assert_eq!(Error::io("cannot write")(io()).exit_code(), EXIT_USAGE);
        let pipe = Error::io("cannot write")(std::io::ErrorKind::BrokenPipe.into());
        assert!(matches!(pipe, Error::Pipe));
        assert_eq!(report("prodguard", Err(pipe)), EXIT_OK);
        assert_eq!(report("prodguard", Ok(EXIT_REFUSED)), EXIT_REFUSED);
        assert_eq!(
            report("prodguard", Err(Error::Usage("bad".into()))),
            EXIT_USAGE
        );
    }
}
