//! `prodguard --break-glass`: an emergency session in which the guard's checks are reduced to
//! warnings. It asks for a reason, has the guard record it ([`crate::guard::declared`]), and
//! starts a login shell whose banner says so.

use super::error::{Error as CliError, Status};
use super::Global;
use crate::guard::{declared, Error};
use std::io::{BufRead, Write};

fn ask_reason() -> Option<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = &tty;
    let _ = write!(
        out,
        "Break-glass: the guard's checks will be reduced to warnings for this session.\nReason (recorded, at least {} characters): ",
        declared::MIN_REASON
    );
    let _ = out.flush();
    let mut line = String::new();
    std::io::BufReader::new(&tty).read_line(&mut line).ok()?;
    Some(line.trim().to_string())
}

/// Start a break-glass session. Returns only on failure.
pub fn run(global: &Global, reason: Option<String>) -> Status {
    let reason = reason.or_else(ask_reason).ok_or_else(|| {
        CliError::Usage("break-glass needs a reason: --reason TEXT, or run it at a terminal".into())
    })?;
    crate::login::ensure_session();
    match declared::start_break_glass(&super::guard(global), &reason) {
        Ok(_) => Ok(crate::login::run(
            crate::login::Entry::Interactive,
            &global.paths(),
        )),
        Err(Error::Usage(why)) => Err(CliError::Usage(why)),
        Err(e) => Err(CliError::Refused(format!(
            "break-glass refused: it cannot be recorded: {e}"
        ))),
    }
}
