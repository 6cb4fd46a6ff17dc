//! The gate for a verdict of `approve`: run on an approved request for exactly this command
//! (once), or file a request and wait for it on the terminal. Every step is an audit record whose
//! `user` is the requester and whose `approver` is the second person. The commands that manage
//! requests (`prodguard request`, `requests`, `approve`, `deny`) use the same steps.

use super::spool_client::SpoolClient;
use super::{journal, report, Decision, Error, Judgement};
use crate::approval::request::Subject;
use crate::approval::spool::Rules;
use crate::approval::{self, wait, Request, Status};
use crate::audit::{self, Event, Outcome, Record, Sinks};
use crate::decide::Verdict;
use crate::host::HostContext;
use crate::policy::Action;
use crate::prompt::{self, display_safe};
use crate::subject::user_name;
use std::time::{Duration, Instant};

/// The approver rules of this host.
pub fn rules(host: &HostContext) -> Rules<'_> {
    Rules::of(host)
}

pub fn expiry(host: &HostContext) -> Duration {
    approval::expiry(host)
}

pub fn my_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// Record one approval step. `user`/`uid` are the requester's; the writing process's identity
/// is in `pid`, `tty`, `session` and `login_user`.
pub fn record_step(
    host: &HostContext,
    sinks: &Sinks,
    req: &Request,
    outcome: Outcome,
    approver: Option<String>,
    reason: Option<String>,
) -> Result<(), audit::AuditError> {
    let mut rec = Record::new_for_current_process(Event::Approval, host)
        .with_command(req.command.clone())
        .with_decision(audit::Action::Approve, req.rules.clone(), outcome);
    let writer = user_name(my_uid());
    rec.user = req.user.clone();
    rec.uid = req.uid;
    if writer != req.user && approver.as_deref() != Some(writer.as_str()) {
        rec.login_user = Some(writer);
    }
    rec.cwd = Some(req.cwd.clone());
    rec.approver = approver;
    rec.reason = reason;
    rec.detail = Some(format!("request {} {}", req.short_id(), req.id()));
    // The request's command was filed with its secrets already removed.
    rec.redacted |= !req.secret_digest.is_empty();
    journal::write(rec, sinks, true)
}

/// Record a step whose record is informative only: a failure is a warning.
pub fn record_or_warn(
    host: &HostContext,
    sinks: &Sinks,
    req: &Request,
    outcome: Outcome,
    approver: Option<String>,
    reason: Option<String>,
) {
    if let Err(e) = record_step(host, sinks, req, outcome, approver, reason) {
        eprintln!("prodguard: warning: {e}");
    }
}

pub fn names(approvers: &[approval::Approver]) -> String {
    approvers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn approver_field(approvers: &[approval::Approver]) -> String {
    approvers
        .iter()
        .map(|a| a.name.clone())
        .collect::<Vec<_>>()
        .join(",")
}

/// Why `req` does not bind to running `command` as `uid` in `cwd` on `host` for `rules`.
pub fn binding_problem(
    req: &Request,
    host: &HostContext,
    uid: u32,
    command: &str,
    cwd: &str,
    rule_ids: &[String],
) -> Option<String> {
    let short = req.short_id();
    if req.uid != uid {
        return Some(format!(
            "request {short} was made by uid {}, not by you (uid {uid})",
            req.uid
        ));
    }
    // A request with secrets removed is matched by its digest before it gets here.
    if req.secret_digest.is_empty() && req.command != command {
        return Some(format!("request {short} is for another command"));
    }
    if req.host != host.hostname {
        return Some(format!(
            "request {short} was made for host {}; this is {}",
            display_safe(&req.host),
            display_safe(&host.hostname)
        ));
    }
    if req.cwd != cwd {
        return Some(format!(
            "request {short} was made in {}; you are in {}",
            display_safe(&req.cwd),
            display_safe(cwd)
        ));
    }
    if req.rules != rule_ids {
        return Some(format!(
            "request {short} was for rules {}; the policy now asks for {}",
            req.rules.join(", "),
            rule_ids.join(", ")
        ));
    }
    None
}

/// The ids of the rules that ask for approval (for a verdict of `confirm`: for confirmation),
/// sorted.
pub fn approve_rules(verdict: &Verdict) -> Vec<String> {
    // A confirmation stood in for by an approval (no terminal) is bound to the rules that ask it.
    let wanted = if verdict.action == Action::Confirm {
        Action::Confirm
    } else {
        Action::Approve
    };
    let mut ids: Vec<String> = verdict
        .matches
        .iter()
        .filter(|m| m.action == wanted)
        .map(|m| m.rule.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

pub fn how_to_approve(req: &Request) -> String {
    let short = req.short_id();
    format!(
        "  request {short} ({})\n  expires {}; needs {} approver(s) other than you\n  \
         on this host, an approver runs:  prodguard approve {short}\n  \
         elsewhere: prodguard request --blob … prints it for `prodguard approve --blob - --sign KEY`\n",
        req.id(),
        approval::request::utc(req.expires),
        req.approvers
    )
}

/// File a new request for `command`, recording it.
pub fn file_request(
    spool: &SpoolClient,
    host: &HostContext,
    sinks: &Sinks,
    command: &str,
    cwd: &str,
    rule_ids: Vec<String>,
    approvers: u32,
) -> Result<Request, Error> {
    let uid = my_uid();
    let user = user_name(uid);
    // A command holding a secret is filed redacted, bound to its exact text by a keyed digest;
    // the exact text stays readable only by the requester (docs/approval.md).
    let redacted = audit::redact::redact(command, sinks.redactions());
    let exact = if redacted.text != command {
        Some(approval::request::Exact::new(command)?)
    } else {
        None
    };
    let req = Request::new(
        Subject {
            host,
            user: &user,
            uid,
            command: &redacted.text,
            exact: exact.as_ref(),
            cwd,
            rules: rule_ids,
            approvers,
        },
        approval::now(),
        expiry(host),
    )?;
    // The record comes first: a request nobody could audit is not filed.
    record_step(host, sinks, &req, Outcome::Requested, None, None).map_err(Error::NotFiled)?;
    match spool.file(&req, exact.as_ref()) {
        Ok(filed) if filed.id == req.id() => Ok(req),
        Ok(filed) => {
            // A service that changed the request would leave the record above, the id printed
            // and the wait naming a request that does not exist: it is withdrawn instead.
            let why = format!(
                "not filed: the audit service at {} stored it as request {}, not as the request {} that was recorded; restart it: systemctl restart prodguard.service",
                spool.socket().display(),
                approval::request::short_id(&filed.id),
                req.short_id()
            );
            if let Err(e) = spool.deny(&filed.id, "withdrawn: stored under another id") {
                eprintln!("prodguard: warning: cannot withdraw it: {e}");
            }
            record_or_warn(host, sinks, &req, Outcome::Refused, None, Some(why.clone()));
            Err(approval::ApprovalError::Refused(why).into())
        }
        Err(e) => {
            let why = format!("not filed: {e}");
            record_or_warn(host, sinks, &req, Outcome::Refused, None, Some(why));
            Err(e.into())
        }
    }
}

/// Why a signature pasted while waiting was not taken; shown on the terminal.
#[derive(Debug, thiserror::Error)]
enum PasteError {
    #[error("  signature refused: {0}")]
    Refused(approval::ApprovalError),
}

/// How a wait for a decision gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// Ctrl-C, or the terminal failed.
    Aborted,
    /// The spool could not say.
    Denied,
}

/// How a wait for a decision ended.
pub enum Decided {
    Approved(Vec<approval::Approver>),
    Denied(String),
    Expired,
    Used,
    /// The requester gave up waiting, or the wait failed.
    GaveUp(GaveUp, String),
}

/// Wait on the terminal for `req` to be decided. `None` when there is no terminal.
pub fn await_decision(
    spool: &SpoolClient,
    req: &Request,
    host: &HostContext,
    sinks: &Sinks,
) -> Option<Decided> {
    let mut tty = prompt::DevTty::open().ok()?;
    let id = req.id();
    let _ = prompt::TtyIo::write_all(
        &mut tty,
        format!(
            "{}  waiting for approval; Ctrl-C gives up; an approver's SSH signature can be pasted here\r\n",
            how_to_approve(req).replace('\n', "\r\n")
        )
        .as_bytes(),
    );
    let left = u64::try_from(req.expires.saturating_sub(approval::now())).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(left);
    let short = req.short_id();
    let mut check = || match spool.show(&id) {
        Ok(ev) => match ev.status {
            Status::Pending { .. } => None,
            Status::Approved { approvers } => Some(Decided::Approved(approvers)),
            Status::Denied { by, reason } => Some(Decided::Denied(format!(
                "request {short} was denied by {by}: {}",
                display_safe(&reason)
            ))),
            Status::Expired => Some(Decided::Expired),
            Status::Used => Some(Decided::Used),
        },
        Err(e) => Some(Decided::GaveUp(GaveUp::Denied, e.to_string())),
    };
    let mut on_paste = |text: &str| -> Result<Option<Decided>, PasteError> {
        match spool.sign(&id, text) {
            Ok(a) => {
                record_or_warn(host, sinks, req, Outcome::Approved, a.map(|a| a.name), None);
                Ok(None)
            }
            Err(e) => {
                let why = e.to_string();
                record_or_warn(host, sinks, req, Outcome::Refused, None, Some(why));
                Err(PasteError::Refused(e))
            }
        }
    };
    let line = |left: Duration| {
        format!(
            "  request {short}: waiting for approval, {} left ",
            wait::mmss(left)
        )
    };
    Some(
        match wait::wait(&mut tty, deadline, &mut check, &mut on_paste, &line) {
            wait::End::Done(d) => d,
            wait::End::Aborted => {
                Decided::GaveUp(GaveUp::Aborted, "gave up waiting for approval".into())
            }
            wait::End::TimedOut => Decided::Expired,
            wait::End::Failed(e) => {
                Decided::GaveUp(GaveUp::Aborted, format!("terminal error: {e}"))
            }
        },
    )
}

/// Consume an approved request and say who approved, for the decision record. The service
/// consumes it, once, and names the approvers it counted.
fn consume(
    spool: &SpoolClient,
    req: &Request,
    host: &HostContext,
    sinks: &Sinks,
) -> Result<Decision, approval::ApprovalError> {
    let approvers = spool.consume(&req.id())?;
    let approvers = approvers.as_slice();
    record_or_warn(
        host,
        sinks,
        req,
        Outcome::Used,
        Some(approver_field(approvers)),
        None,
    );
    eprintln!(
        "prodguard: request {} approved by {}",
        req.short_id(),
        names(approvers)
    );
    Ok(Decision::Approved {
        by: approver_field(approvers),
    })
}

/// What the spool holds for a judgement: an approved request, consumed now (`Decided`), or the
/// newest pending request and why the others do not bind.
enum Found {
    Decided(Decision),
    Not {
        pending: Option<Request>,
        problems: Vec<String>,
    },
}

fn find(
    j: &Judgement,
    spool: &SpoolClient,
    listed: Vec<super::spool_client::Shown>,
    sinks: &Sinks,
    rule_ids: &[String],
) -> Found {
    let (command, verdict, host) = (j.command(), j.verdict(), j.host());
    let uid = my_uid();
    let cwd = j.cwd().to_string();
    let mut pending: Option<Request> = None;
    let mut problems: Vec<String> = Vec::new();
    let mut candidates: Vec<_> = listed
        .into_iter()
        .filter(|s| s.req.uid == uid && s.req.binds_command(command, s.exact.as_ref()))
        .collect();
    candidates.sort_by_key(|s| std::cmp::Reverse(s.req.created));
    for ev in candidates {
        let req = &ev.req;
        if let Some(p) = binding_problem(req, host, uid, command, &cwd, rule_ids) {
            problems.push(p);
            continue;
        }
        for i in &ev.ignored {
            eprintln!("prodguard: request {}: {i}", req.short_id());
        }
        let short = req.short_id();
        match ev.status {
            Status::Approved { .. } => {
                return Found::Decided(match consume(spool, req, host, sinks) {
                    Ok(r) => r,
                    Err(e) => {
                        let e = e.to_string();
                        eprint!("{}", report::refusal(command, verdict, host, &e));
                        denied(e)
                    }
                })
            }
            Status::Pending { .. } if pending.is_none() => pending = Some(req.clone()),
            Status::Pending { .. } => {}
            Status::Denied { by, reason } => problems.push(format!(
                "request {short} was denied by {by}: {}",
                display_safe(&reason)
            )),
            Status::Expired => problems.push(format!(
                "request {short} expired at {}",
                approval::request::utc(req.expires)
            )),
            Status::Used => problems.push(format!(
                "request {short} was already used; an approval runs its command once"
            )),
        }
    }
    Found::Not { pending, problems }
}

/// A confirmation that cannot be asked (no terminal) is stood in for by a second person's
/// approval of a request for exactly this command (`prodguard request -- CMD`), once. `None`:
/// nothing approved or pending binds (or the spool cannot say), and the caller refuses as it
/// would have.
pub fn stand_in(j: &Judgement, sinks: &Sinks) -> Option<Decision> {
    let spool = SpoolClient::for_host(j.host());
    let listed = spool.list(true).ok()?;
    let rule_ids = approve_rules(j.verdict());
    match find(j, &spool, listed, sinks, &rule_ids) {
        Found::Decided(d) => Some(d),
        Found::Not {
            pending: Some(req), ..
        } => {
            let why = format!(
                "This needs a typed confirmation, and stands in for it with request {}, which is waiting for a second person's approval ({} left); run it again once approved.",
                req.short_id(),
                wait::mmss(Duration::from_secs(
                    u64::try_from(req.expires.saturating_sub(approval::now())).unwrap_or(0)
                ))
            );
            eprint!(
                "{}",
                report::refusal(j.command(), j.verdict(), j.host(), &why)
            );
            Some(needs_approval(why))
        }
        Found::Not { pending: None, .. } => None,
    }
}

/// The gate for a verdict of `approve`: run on an approved request for exactly this command
/// (once), or file a request and wait for it on the terminal.
pub fn gate(j: &Judgement, interactive: bool, sinks: &Sinks) -> Decision {
    let (command, verdict, host) = (j.command(), j.verdict(), j.host());
    let refuse = |outcome: fn(String) -> Decision, reason: String| {
        eprint!("{}", report::refusal(command, verdict, host, &reason));
        outcome(reason)
    };
    let spool = SpoolClient::for_host(host);
    let listed = match spool.list(true) {
        Ok(l) => l,
        Err(e) => {
            return refuse(
                needs_approval,
                format!("This needs a second person's approval, and {e}"),
            )
        }
    };
    let cwd = j.cwd().to_string();
    let rule_ids = approve_rules(verdict);
    let now = approval::now();
    let (pending, problems) = match find(j, &spool, listed, sinks, &rule_ids) {
        Found::Decided(d) => return d,
        Found::Not { pending, problems } => (pending, problems),
    };
    let tty_ok = interactive
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok();
    if !tty_ok {
        if let Some(req) = pending {
            return refuse(
                needs_approval,
                format!(
                    "This is waiting for a second person's approval of request {} ({} left); run it again once approved.",
                    req.short_id(),
                    wait::mmss(Duration::from_secs(
                        u64::try_from(req.expires.saturating_sub(now)).unwrap_or(0)
                    ))
                ),
            );
        }
        if !problems.is_empty() {
            return refuse(
                denied,
                format!(
                    "This needs a second person's approval: {}. Ask again: prodguard request -- {}",
                    problems.join("; "),
                    crate::shell::quote::quote(command)
                ),
            );
        }
        return match file_request(
            &spool,
            host,
            sinks,
            command,
            &cwd,
            rule_ids,
            verdict.approvers.unwrap_or(1),
        ) {
            Ok(req) => {
                eprint!(
                    "{}",
                    report::refusal(
                        command,
                        verdict,
                        host,
                        "This needs a second person's approval; a request was filed. Run it again once it is approved."
                    )
                );
                eprint!("{}", how_to_approve(&req));
                Decision::NeedsApproval {
                    why: format!(
                        "a second person's approval is needed (request {} filed)",
                        req.short_id()
                    ),
                }
            }
            Err(e) => refuse(
                needs_approval,
                format!("This needs a second person's approval, and {e}"),
            ),
        };
    }
    for p in &problems {
        eprintln!("prodguard: {p}");
    }
    let req = match pending {
        Some(r) => r,
        None => match file_request(
            &spool,
            host,
            sinks,
            command,
            &cwd,
            rule_ids,
            verdict.approvers.unwrap_or(1),
        ) {
            Ok(r) => r,
            Err(e) => {
                return refuse(
                    needs_approval,
                    format!("This needs a second person's approval, and {e}"),
                )
            }
        },
    };
    eprint!(
        "{}",
        report::refusal(
            command,
            verdict,
            host,
            "This needs a second person's approval."
        )
    );
    match await_decision(&spool, &req, host, sinks) {
        Some(Decided::Approved(_)) => match consume(&spool, &req, host, sinks) {
            Ok(r) => r,
            Err(e) => Decision::Denied { why: e.to_string() },
        },
        Some(Decided::Denied(why)) => {
            eprintln!("prodguard: refused: {why}");
            Decision::Denied { why }
        }
        Some(Decided::Expired) => {
            record_or_warn(host, sinks, &req, Outcome::Expired, None, None);
            eprintln!(
                "prodguard: request {} expired without approval",
                req.short_id()
            );
            Decision::TimedOut {
                why: format!("request {} expired", req.short_id()),
            }
        }
        Some(Decided::Used) => Decision::Denied {
            why: format!("request {} was already used", req.short_id()),
        },
        Some(Decided::GaveUp(outcome, why)) => {
            eprintln!(
                "prodguard: {why}; request {} stays filed until it expires",
                req.short_id()
            );
            match outcome {
                GaveUp::Aborted => Decision::Aborted { why },
                GaveUp::Denied => Decision::Denied { why },
            }
        }
        None => Decision::NoTerminal {
            why: "no terminal to wait on".into(),
        },
    }
}

fn needs_approval(why: String) -> Decision {
    Decision::NeedsApproval { why }
}

fn denied(why: String) -> Decision {
    Decision::Denied { why }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::wire::{Answer, Entry, Op};
    use std::io::{BufRead, Write};
    use std::sync::mpsc;

    /// A service on `socket` that stores every request it is sent under the id `stored`, and
    /// reports each operation it is asked.
    fn rewriting_service(socket: &std::path::Path, stored: String) -> mpsc::Receiver<Op> {
        let listener = std::os::unix::net::UnixListener::bind(socket).expect("bind");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            while let Ok((stream, _)) = listener.accept() {
                let mut w = stream.try_clone().expect("clone");
                for line in std::io::BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let Ok(op) = serde_json::from_str::<Op>(&line) else {
                        break;
                    };
                    let request = match &op {
                        Op::ApprovalFile { request, .. } => request.clone(),
                        _ => String::new(),
                    };
                    let _ = tx.send(op);
                    let answer = Answer::entries(vec![Entry {
                        id: stored.clone(),
                        request,
                        exact: None,
                        status: Status::Pending {
                            approvers: Vec::new(),
                            needed: 1,
                        },
                        ignored: Vec::new(),
                    }]);
                    let mut out = serde_json::to_vec(&answer).expect("answer");
                    out.push(b'\n');
                    if w.write_all(&out).is_err() {
                        break;
                    }
                }
            }
        });
        rx
    }

    #[test]
    fn a_request_stored_under_another_id_is_withdrawn_and_not_filed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("audit.sock");
        let audit_file = dir.path().join("audit.jsonl");
        let host = HostContext::from_toml(
            "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[audit]\nsyslog = \"none\"\n",
            None,
        );
        let stored = "ab".repeat(32);
        let ops = rewriting_service(&socket, stored.clone());
        let sinks = Sinks::for_host(&host, Some(&audit_file), Vec::new());
        let spool = SpoolClient::at(&socket);
        let e = file_request(
            &spool,
            &host,
            &sinks,
            "bump once",
            "/",
            vec!["test.bump".into()],
            1,
        )
        .expect_err("refused");
        let why = e.to_string();
        assert!(
            why.contains(&format!(
                "stored it as request {}",
                approval::request::short_id(&stored)
            )),
            "{why}"
        );
        let wait = Duration::from_secs(10);
        let filed = ops.recv_timeout(wait).expect("filed");
        let Op::ApprovalFile { request, .. } = filed else {
            panic!("{filed:?}")
        };
        let sent = Request::parse(request.as_bytes()).expect("request");
        // The service is told to withdraw what it stored, under its id.
        let withdrawn = ops.recv_timeout(wait).expect("withdrawn");
        assert!(
            matches!(&withdrawn, Op::ApprovalDeny { id, .. } if *id == stored),
            "{withdrawn:?}"
        );
        // The records name the request that was made: requested, then refused.
        let records: Vec<serde_json::Value> = std::fs::read_to_string(&audit_file)
            .expect("audit")
            .lines()
            .map(|l| serde_json::from_str(l).expect("record"))
            .collect();
        let steps: Vec<(&str, &str)> = records
            .iter()
            .map(|r| {
                (
                    r["outcome"].as_str().unwrap_or(""),
                    r["detail"].as_str().unwrap_or(""),
                )
            })
            .collect();
        let detail = format!("request {} {}", sent.short_id(), sent.id());
        assert_eq!(
            steps,
            vec![("requested", detail.as_str()), ("refused", detail.as_str())],
            "{records:#?}"
        );
    }
}
