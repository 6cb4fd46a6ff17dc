//! `prodguard intent HOST`: declare which host you mean to work on in this session. Any command
//! that needs a confirmation and acts on another host is then refused outright. The declaration
//! is kept and read by [`crate::guard::declared`].

use super::error::{Error, Status};
use super::{Global, EXIT_OK};
use crate::guard::declared;
use clap::Args;

#[derive(Debug, Args)]
pub struct IntentArgs {
    /// The host you mean to work on (short or full name). Without it, show the declaration.
    pub host: Option<String>,
    /// Why (recorded in the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Forget the declaration.
    #[arg(long, conflicts_with = "host")]
    pub clear: bool,
}

pub fn run(global: &Global, args: &IntentArgs) -> Status {
    let Some(declared_host) = args.host.as_deref().filter(|_| !args.clear) else {
        if !args.clear {
            match declared::intent() {
                Some(h) => println!("declared intent: {h}"),
                None => println!("no intent declared in this session"),
            }
            return Ok(EXIT_OK);
        }
        declared::clear_intent().map_err(|e| Error::Usage(format!("intent: {e}")))?;
        println!("intent cleared");
        declared::record_declaration(
            &super::guard(global),
            "intent cleared".to_string(),
            args.reason.clone(),
        );
        return Ok(EXIT_OK);
    };
    declared::declare_intent(declared_host, args.reason.as_deref())
        .map_err(|e| Error::Usage(format!("intent: {e}")))?;
    let guard = super::guard(global);
    if guard.host().is_this_host(declared_host) {
        println!("declared intent: {declared_host} (this host)");
    } else {
        println!(
            "declared intent: {declared_host} — note: this is {}; risky commands here will be refused",
            guard.host().short_name()
        );
    }
    declared::record_declaration(
        &guard,
        format!("intent {declared_host}"),
        args.reason.clone(),
    );
    Ok(EXIT_OK)
}
