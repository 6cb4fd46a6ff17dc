//! Second-person approval on the command line: `prodguard request`, `requests`, `approve`,
//! `deny`. The commands are judged by the guard, as `prodguard -- …` would judge them, and the
//! steps (file, wait, approve, record) are the guard's ([`crate::guard::approval`]).

use super::error::{Error, Status};
use super::{load, Global, EXIT_OK, EXIT_REFUSED};
use crate::approval::spool;
use crate::approval::wait;
use crate::approval::{self, ssh, Request, Status as ReqStatus};
use crate::audit::{self, Outcome, Sinks};
use crate::guard::approval::{
    approve_rules, approver_field, await_decision, binding_problem, file_request, how_to_approve,
    my_uid, names, record_or_warn, record_step, rules, Decided,
};
use crate::guard::spool_client::{Shown, SpoolClient};
use crate::guard::{Context, Guard};
use crate::host::HostContext;
use crate::policy::Action;
use crate::prompt::{self, display_safe, Challenge, Question};
use crate::subject::user_name;
use clap::Args;
use std::io::Read;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// File the request and return at once instead of waiting for the decision.
    #[arg(long)]
    pub no_wait: bool,
    /// Also print the request as an armored blob, for an approver elsewhere to sign.
    #[arg(long)]
    pub blob: bool,
    /// Attach an approver's SSH signature (a file, or - for stdin) to your pending request.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["command", "blob", "no_wait"])]
    pub signature: Option<String>,
    /// With --signature: the request it is for [default: whichever of yours it verifies for].
    #[arg(long, value_name = "ID", requires = "signature")]
    pub id: Option<String>,
    /// The command: one word is a whole command line; several (after `--`) are
    /// the program and its arguments, as `prodguard -- PROGRAM ARGS` runs them.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        required_unless_present = "signature"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Also list used, expired and denied requests.
    #[arg(long)]
    pub all: bool,
    /// One JSON object per request, on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The request id (the short id shown by `prodguard requests`, a unique prefix of at least
    /// six characters, or the full hash).
    #[arg(value_name = "ID", required_unless_present = "blob")]
    pub id: Option<String>,
    /// Approve offline: the armored request blob (or - for stdin), decoded and shown in full.
    #[arg(long, value_name = "BLOB|-", conflicts_with = "id")]
    pub blob: Option<String>,
    /// With --blob: sign with this SSH key (`ssh-keygen -Y sign -n prodguard-approval -f KEY`)
    /// after the hostname is typed; the signature goes to stdout.
    #[arg(long, value_name = "KEY", requires = "blob")]
    pub sign: Option<std::path::PathBuf>,
    /// With --blob: print the canonical request bytes (to sign with plain `ssh-keygen -Y sign`)
    /// and a description on stderr, without signing.
    #[arg(long, requires = "blob", conflicts_with = "sign")]
    pub decode: bool,
}

#[derive(Debug, Args)]
pub struct DenyArgs {
    /// The request id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why, for the requester and the audit log.
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
}

/// The command line of `prodguard request`: one word as is, several quoted as `--` runs them.
fn command_of(words: &[String]) -> String {
    match words {
        [one] => one.clone(),
        many => crate::shell::quote::join(many),
    }
}

fn read_input(arg: &str, max: usize) -> Result<String, Error> {
    let mut buf = Vec::new();
    let res = if arg == "-" {
        std::io::stdin()
            .take(max as u64 + 1)
            .read_to_end(&mut buf)
            .map(|_| ())
    } else {
        std::fs::File::open(arg)
            .and_then(|f| f.take(max as u64 + 1).read_to_end(&mut buf).map(|_| ()))
    };
    res.map_err(|e| Error::Usage(format!("cannot read {arg}: {e}")))?;
    if buf.len() > max {
        return Err(Error::Usage(format!("{arg} is larger than {max} bytes")));
    }
    String::from_utf8(buf).map_err(|_| Error::Usage(format!("{arg} is not UTF-8 text")))
}

fn open_spool(host: &HostContext) -> Result<SpoolClient, Error> {
    Ok(SpoolClient::for_host(host))
}

/// A refusal worded by `e`: the request or approval was not taken (exit 1).
fn refused(e: impl std::fmt::Display) -> Error {
    Error::Refused(e.to_string())
}

/// `prodguard request`.
pub fn run_request(global: &Global, args: &RequestArgs) -> Status {
    let guard = super::guard(global);
    let (host, sinks) = (guard.host(), guard.sinks());
    let spool = open_spool(host)?;
    if let Some(sig_arg) = &args.signature {
        return attach(&spool, host, sinks, sig_arg, args.id.as_deref());
    }
    let command = command_of(&args.command);
    // The request is judged as the command will be when it runs: preconditions and intent
    // included, so a rule raised to approval by an unmet precondition is filed here too.
    let j = guard.judge(&command, &Context::here());
    let (verdict, cwd) = (j.verdict(), j.cwd());
    // A confirmation can be stood in for by an approval where nobody can type it (no terminal);
    // under break-glass it is waived already.
    let stands_in = verdict.action == Action::Confirm && j.break_glass().is_none();
    if verdict.action != Action::Approve && !stands_in {
        return Err(Error::Refused(format!(
            "this command needs neither a confirmation nor a second person's approval on {} (the policy says {}); nothing filed",
            host.hostname,
            verdict.action.as_str()
        )));
    }
    let req = file_request(
        &spool,
        host,
        sinks,
        &command,
        cwd,
        approve_rules(verdict),
        verdict.approvers.unwrap_or(1),
    )
    .map_err(refused)?;
    println!("request {} {}", req.short_id(), req.id());
    if args.blob {
        print!("{}", req.blob());
    }
    eprint!("{}", how_to_approve(&req));
    if args.no_wait {
        return Ok(EXIT_OK);
    }
    match await_decision(&spool, &req, host, sinks) {
        Some(Decided::Approved(a)) => {
            eprintln!(
                "prodguard: request {} approved by {}; run it now: prodguard -- {}",
                req.short_id(),
                names(&a),
                display_safe(&command)
            );
            Ok(EXIT_OK)
        }
        Some(Decided::Denied(why)) => Err(Error::Refused(why)),
        Some(Decided::Expired) => {
            record_or_warn(host, sinks, &req, Outcome::Expired, None, None);
            Err(Error::Refused(format!(
                "request {} expired without approval",
                req.short_id()
            )))
        }
        Some(Decided::Used) => Ok(EXIT_REFUSED),
        Some(Decided::GaveUp(_, why)) => Err(Error::Refused(format!(
            "{why}; request {} stays filed until it expires",
            req.short_id()
        ))),
        None => {
            eprintln!("prodguard: no terminal to wait on; run the command again once approved");
            Ok(EXIT_OK)
        }
    }
}

/// `prodguard request --signature FILE|-`: verify and attach an approver's signature.
fn attach(
    spool: &SpoolClient,
    host: &HostContext,
    sinks: &Sinks,
    sig_arg: &str,
    id: Option<&str>,
) -> Status {
    let text = read_input(sig_arg, ssh::MAX_SIGNATURE)?;
    let Some(sig) = ssh::extract_signature(&text) else {
        return Err(Error::Usage(format!(
            "{sig_arg} holds no armored SSH signature ({})",
            ssh::SIG_BEGIN
        )));
    };
    let uid = my_uid();
    let listed = match id {
        Some(typed) => vec![spool.show(typed).map_err(refused)?],
        None => spool.list(false).map_err(refused)?,
    };
    let rules = rules(host);
    let mut tried: Vec<(Request, String)> = Vec::new();
    for shown in listed {
        let req = shown.req;
        if req.uid != uid || req.host != host.hostname {
            if id.is_some() {
                tried.push((
                    req.clone(),
                    binding_problem(&req, host, uid, &req.command, &req.cwd, &req.rules)
                        .unwrap_or_else(|| "not yours".into()),
                ));
            }
            continue;
        }
        if !matches!(
            shown.status,
            ReqStatus::Pending { .. } | ReqStatus::Approved { .. }
        ) {
            if id.is_some() {
                tried.push((req, format!("the request is {}", shown.status.label())));
            }
            continue;
        }
        match spool::verify_signature(&req, &sig, &rules) {
            Ok(a) => {
                record_step(
                    host,
                    sinks,
                    &req,
                    Outcome::Approved,
                    Some(a.name.clone()),
                    Some("signed with an SSH key".into()),
                )
                .map_err(|e| {
                    refused(format!(
                        "the approval cannot be recorded, so it is not attached: {e}"
                    ))
                })?;
                if let Err(e) = spool.sign(&shown.id, &sig) {
                    let why = format!("signature refused: {e}");
                    record_or_warn(host, sinks, &req, Outcome::Refused, None, Some(why));
                    return Err(refused(e));
                }
                eprintln!(
                    "prodguard: request {} approved by {a}; run it now: prodguard -- {}",
                    req.short_id(),
                    display_safe(&req.command)
                );
                return Ok(EXIT_OK);
            }
            Err(why) => tried.push((req, why.to_string())),
        }
    }
    for (req, why) in &tried {
        record_or_warn(
            host,
            sinks,
            req,
            Outcome::Refused,
            None,
            Some(format!("signature refused: {why}")),
        );
    }
    // Each request tried says why it refused the signature; the last one ends the run.
    let line =
        |(req, why): &(Request, String)| format!("refused: request {}: {why}", req.short_id());
    match tried.split_last() {
        None => Err(Error::Refused(format!(
            "refused: you have no pending request on {} for this signature",
            host.hostname
        ))),
        Some((last, earlier)) => {
            for t in earlier {
                eprintln!("prodguard: {}", line(t));
            }
            Err(Error::Refused(line(last)))
        }
    }
}

/// The command of a request as this user may see it: the requester sees the exact command
/// line (the service gives it to them alone); everyone else the redacted text. A request filed
/// before redaction existed is redacted for display too.
fn shown_command(shown: &Shown) -> String {
    if let Some(e) = &shown.exact {
        return e.command.clone();
    }
    audit::redact::redact_text(&shown.req.command, &[]).0
}

/// `prodguard requests`.
pub fn run_requests(global: &Global, args: &RequestsArgs) -> Status {
    let (host, _) = load(global);
    let host = &host;
    let spool = open_spool(host)?;
    let now = approval::now();
    let mut shown = 0;
    let reqs = spool
        .list(args.all)
        .map_err(|e| Error::Failed(e.to_string()))?;
    for ev in reqs {
        let req = &ev.req;
        let live = matches!(
            ev.status,
            ReqStatus::Pending { .. } | ReqStatus::Approved { .. }
        );
        if !live && !args.all {
            continue;
        }
        shown += 1;
        let approvers = match &ev.status {
            ReqStatus::Approved { approvers } | ReqStatus::Pending { approvers, .. } => {
                approver_field(approvers)
            }
            ReqStatus::Denied { by, .. } => by.name.clone(),
            _ => String::new(),
        };
        let command = shown_command(&ev);
        if args.json {
            let v = serde_json::json!({
                "id": req.id(), "short": req.short_id(), "status": ev.status.label(),
                "user": req.user, "uid": req.uid, "host": req.host, "cwd": req.cwd,
                "command": command, "redacted": command != req.command || !req.secret_digest.is_empty(),
                "rules": req.rules, "approvers_needed": req.approvers,
                "approvers": approvers, "created": req.created, "expires": req.expires,
            });
            println!("{v}");
        } else {
            let left = wait::mmss(Duration::from_secs(
                u64::try_from(req.expires.saturating_sub(now)).unwrap_or(0),
            ));
            println!(
                "{}  {:<8}  {:<10} {:>6} left  {}",
                req.short_id(),
                ev.status.label(),
                display_safe(&req.user),
                left,
                display_safe(&command)
            );
        }
    }
    if shown == 0 && !args.json {
        eprintln!(
            "prodguard: no {}requests you may see (the audit service at {})",
            if args.all { "" } else { "pending " },
            spool.socket().display()
        );
    }
    Ok(EXIT_OK)
}

/// Print the request in full on stderr, every value made safe to show.
fn show_request(req: &Request) {
    let mut out = String::from("\nApproval request\n");
    for (label, value) in req.describe() {
        // A request filed before redaction existed may still hold a secret.
        let value = audit::redact::redact_text(&value, &[]).0;
        out.push_str(&format!("  {label:<17} {}\n", display_safe(&value)));
    }
    eprint!("{out}");
}

/// The question an approver answers: the request's command as parsed on this policy, on `host`.
/// The request's command is judged by the guard on this host, in the request's directory, so
/// the approver sees what the requester would: every rule, and a precondition not met.
fn approver_question<'a>(req: &'a Request, guard: &'a Guard) -> Question<'a> {
    let mut ctx = Context::here();
    ctx.shell.cwd = req.cwd.clone();
    let j = guard.judge(&req.command, &ctx);
    let mut q = crate::guard::gate::question(&req.command, j.analysis(), j.verdict(), guard.host());
    q.challenge = Challenge::Hostname;
    q
}

/// `prodguard approve`.
pub fn run_approve(global: &Global, args: &ApproveArgs) -> Status {
    if let Some(blob) = &args.blob {
        return approve_offline(global, blob, args.sign.as_deref(), args.decode);
    }
    let Some(typed) = args.id.as_deref() else {
        return Err(Error::Usage("approve: give a request id or --blob".into()));
    };
    let guard = super::guard(global);
    let (host, sinks) = (guard.host(), guard.sinks());
    let spool = open_spool(host)?;
    let shown = spool.show(typed).map_err(refused)?;
    let req = shown.req.clone();
    let me = my_uid();
    let my_name = user_name(me);
    let rules = rules(host);
    let refuse = |why: String| {
        record_or_warn(
            host,
            sinks,
            &req,
            Outcome::Refused,
            Some(my_name.clone()),
            Some(why.clone()),
        );
        Err(Error::Refused(format!("refused: {why}")))
    };
    if req.host != host.hostname {
        return refuse(format!(
            "request {} is for host {}; this is {} (approve it there, or sign its blob)",
            req.short_id(),
            display_safe(&req.host),
            display_safe(&host.hostname)
        ));
    }
    let approver = match spool::may_approve(me, &req, &rules) {
        Ok(a) => a,
        Err(why) => return refuse(why.to_string()),
    };
    match shown.status {
        ReqStatus::Used => return refuse(format!("request {} was already used", req.short_id())),
        ReqStatus::Expired => return refuse(format!("request {} has expired", req.short_id())),
        ReqStatus::Denied { by, reason } => {
            return refuse(format!(
                "request {} was denied by {by}: {}",
                req.short_id(),
                display_safe(&reason)
            ))
        }
        ReqStatus::Approved { approvers } | ReqStatus::Pending { approvers, .. }
            if approvers.iter().any(|a| a.name == approver.name) =>
        {
            eprintln!("prodguard: you already approved request {}", req.short_id());
            return Ok(EXIT_OK);
        }
        _ => {}
    }
    show_request(&req);
    if approver.how == spool::How::Root {
        eprintln!("  (you are approving as root; this is recorded as such)");
    }
    let q = approver_question(&req, &guard);
    approver_confirms(&q, "approved")?;
    record_step(
        host,
        sinks,
        &req,
        Outcome::Approved,
        Some(approver.name.clone()),
        None,
    )
    .map_err(|e| {
        refused(format!(
            "the approval cannot be recorded, so it is not given: {e}"
        ))
    })?;
    spool.approve(&shown.id).map_err(refused)?;
    eprintln!(
        "prodguard: approved request {} of {} as {approver}; it may run once, before {}",
        req.short_id(),
        display_safe(&req.user),
        approval::request::utc(req.expires)
    );
    Ok(EXIT_OK)
}

/// `prodguard approve --blob`: decode, show, ask, and sign (or print the canonical bytes).
fn approve_offline(
    global: &Global,
    blob: &str,
    key: Option<&std::path::Path>,
    decode: bool,
) -> Status {
    let text = read_input(blob, 256 * 1024).or_else(|e| {
        if blob != "-" && !std::path::Path::new(blob).exists() {
            Ok(blob.to_string())
        } else {
            Err(e)
        }
    })?;
    let req = Request::from_blob(&text)?;
    show_request(&req);
    if req.is_expired(approval::now()) {
        return Err(Error::Refused(format!(
            "refused: request {} has expired",
            req.short_id()
        )));
    }
    if decode {
        use std::io::Write;
        let mut out = std::io::stdout();
        out.write_all(&req.canonical())
            .and_then(|()| out.flush())
            .map_err(Error::io("cannot write the request"))?;
        return Ok(EXIT_OK);
    }
    let Some(key) = key else {
        return Err(Error::Usage(
            "--blob needs --sign KEY (or --decode to sign with ssh-keygen yourself)".into(),
        ));
    };
    let mut there = HostContext::unknown();
    there.hostname = req.host.clone();
    there.environment = req.environment.clone();
    there.role = (!req.role.is_empty()).then(|| req.role.clone());
    // Judged on the request's host as far as it is known, under this host's policy; nothing
    // declared here applies there.
    let (_, policy) = load(global);
    let guard = Guard::new(there, policy, crate::guard::Declared::default(), None);
    let q = approver_question(&req, &guard);
    approver_confirms(&q, "signed")?;
    let sig = ssh::sign(key, &req.canonical()).map_err(refused)?;
    print!("{sig}");
    eprintln!(
        "prodguard: signed request {}; send the signature above to {}, who runs: prodguard request --signature FILE",
        req.short_id(),
        display_safe(&req.user)
    );
    Ok(EXIT_OK)
}

/// `prodguard deny`.
pub fn run_deny(global: &Global, args: &DenyArgs) -> Status {
    let reason = args.reason.trim();
    if reason.chars().count() < 3 {
        return Err(Error::Usage(
            "--reason must say why (at least 3 characters)".into(),
        ));
    }
    let (host, _) = load(global);
    let sinks = Sinks::for_host(&host, global.audit_file.as_deref(), Vec::new());
    let spool = open_spool(&host)?;
    let shown = spool.show(&args.id).map_err(refused)?;
    let req = shown.req;
    let me = my_uid();
    let name = user_name(me);
    if me != req.uid {
        if let Err(why) = spool::may_approve(me, &req, &rules(&host)) {
            record_or_warn(
                &host,
                &sinks,
                &req,
                Outcome::Refused,
                Some(name),
                Some(format!("denial refused: {why}")),
            );
            return Err(Error::Refused(format!("refused: {why}")));
        }
    }
    record_step(
        &host,
        &sinks,
        &req,
        Outcome::Denied,
        Some(name),
        Some(reason.to_string()),
    )
    .map_err(|e| refused(format!("the denial cannot be recorded: {e}")))?;
    match spool.deny(&shown.id, reason) {
        Ok(_) => {
            eprintln!(
                "prodguard: denied request {} of {}",
                req.short_id(),
                display_safe(&req.user)
            );
            Ok(EXIT_OK)
        }
        Err(e) => {
            let why = format!("denial refused: {e}");
            record_or_warn(&host, &sinks, &req, Outcome::Refused, None, Some(why));
            Err(refused(e))
        }
    }
}

/// Ask the approver to type the host name; a refusal says why. `done` is what would have
/// happened (`approved`, `signed`).
fn approver_confirms(q: &prompt::Question<'_>, done: &str) -> Result<(), Error> {
    match prompt::ask_on_dev_tty(q) {
        prompt::Outcome::Confirmed { .. } => Ok(()),
        prompt::Outcome::NoTerminal => Err(Error::Refused(format!(
            "approving needs a terminal to type the host name on; nothing was {done}"
        ))),
        other => Err(Error::Refused(format!("not {done} ({})", other.label()))),
    }
}
