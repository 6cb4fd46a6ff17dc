//! Preconditions: before a destructive command is put to the human, check what the rule
//! requires (`[[rule.require]]`): a fresh, big-enough backup, a probe that succeeds (the backup
//! is readable, the replica is in sync), a flag file present or absent.
//!
//! All met: the rule's action stands, and its evidence is shown with the question and recorded
//! ("newest backup: /backups/app-….dump, 3 h old, 2.1 GB"). Any unmet: the action is raised one
//! step (warn → confirm → approve → deny), or to `deny` when the rule says `unmet = "deny"`, and
//! exactly what is missing is shown ("newest backup is 6 days old; expected < 24 h").
//!
//! A check never holds the user for long: each has a timeout (directory listings and file checks
//! too, against a hung network mount), and probes run without a shell, in their own process
//! group killed on expiry, with the user's own group rather than the guard's.
//!
//! Preconditions are checked on this host. A command that acts on another host (`ssh db2 …`,
//! `psql -h db2`) cannot be shown to meet them here, so they count as unmet. A command whose
//! target is not known before it runs counts as unmet when a precondition names `{target}`.
//! Matches that already deny, and commands already refused, are not checked.

mod backup;
mod probe;

pub use backup::{escape as escape_glob, newest as newest_backup, Found};
pub use probe::{run as run_probe, ProbeOutcome, ProbeStatus, SYSTEM_PATH};

use crate::decide::Verdict;
use crate::host::HostContext;
use crate::policy::{
    human_duration, human_size, placeholders, Action, ConfirmKind, Match, PolicySet,
    PreconditionResult, Require, Unmet, FILE_PLACEHOLDER,
};
use crate::shell::{Analysis, Invocation, Target};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// How far in the future a backup's modification time may be (clock skew) and still be trusted.
const FUTURE_SLACK: Duration = Duration::from_secs(300);

/// What the placeholders of one match stand for.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    /// The target, when it is known before the command runs.
    pub target: Option<String>,
    pub host: String,
    pub short_host: String,
    pub env: String,
    pub role: Option<String>,
    pub cluster: Option<String>,
}

impl Placeholders {
    /// The values for `host`, with `target` as the thing the command destroys.
    pub fn new(host: &HostContext, target: Option<String>) -> Placeholders {
        Placeholders {
            target,
            host: host.hostname.clone(),
            short_host: host.short_name().to_string(),
            env: host.environment.clone(),
            role: host.role.clone(),
            cluster: host.cluster.clone(),
        }
    }

    fn value(&self, name: &str, file: Option<&str>) -> Result<String, String> {
        let missing = |what: &str| Err(format!("{what} is not known"));
        match name {
            "target" | "target_name" => {
                let Some(t) = &self.target else {
                    return missing("the target (what the command destroys)");
                };
                if t.split('/').any(|c| c == "..") || t.contains('\0') {
                    return Err(format!("the target {t} contains `..`; it is not looked up"));
                }
                if name == "target" {
                    return Ok(t.clone());
                }
                let base = t.trim_end_matches('/').rsplit('/').next().unwrap_or(t);
                if base.is_empty() {
                    return missing("the target's name");
                }
                Ok(base.to_string())
            }
            "host" => Ok(self.host.clone()),
            "short_host" => Ok(self.short_host.clone()),
            "env" => Ok(self.env.clone()),
            "role" => self
                .role
                .clone()
                .map_or_else(|| missing("this host's role"), Ok),
            "cluster" => self
                .cluster
                .clone()
                .map_or_else(|| missing("this host's cluster"), Ok),
            n if n == FILE_PLACEHOLDER => file
                .map(str::to_string)
                .map_or_else(|| missing("the backup file"), Ok),
            other => Err(format!("unknown placeholder {{{other}}}")),
        }
    }

    /// `template` with its placeholders filled in; each value is passed through `escape`.
    fn expand(
        &self,
        template: &str,
        file: Option<&str>,
        escape: fn(&str) -> String,
    ) -> Result<String, String> {
        let mut out = template.to_string();
        for (range, name) in placeholders(template).into_iter().rev() {
            out.replace_range(range, &escape(&self.value(name, file)?));
        }
        Ok(out)
    }
}

/// Run `f` on a thread and wait at most `timeout` for its answer (a listing on a hung network
/// mount must not hold the user); `None` when it did not answer in time.
fn within<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(timeout).ok()
}

fn result(req: &Require, met: bool, evidence: String) -> PreconditionResult {
    PreconditionResult {
        kind: req.kind(),
        met,
        evidence,
        required: req.describe(),
    }
}

/// Check `requires` with `values`, in order. The newest file of the first `backup`
/// precondition is `{file}` for the `command` ones.
pub fn evaluate(requires: &[Require], values: &Placeholders) -> Vec<PreconditionResult> {
    let mut out: Vec<Option<PreconditionResult>> = vec![None; requires.len()];
    let mut file: Option<String> = None;
    let mut first_backup = true;
    for (i, req) in requires.iter().enumerate() {
        if let Require::Backup { .. } = req {
            let (res, found) = check_backup(req, values);
            if first_backup {
                file = found;
                first_backup = false;
            }
            out[i] = Some(res);
        }
    }
    for (i, req) in requires.iter().enumerate() {
        match req {
            Require::Backup { .. } => {}
            Require::Command { .. } => out[i] = Some(check_command(req, values, file.as_deref())),
            Require::File { .. } => out[i] = Some(check_file(req, values)),
        }
    }
    out.into_iter().flatten().collect()
}

fn check_backup(req: &Require, values: &Placeholders) -> (PreconditionResult, Option<String>) {
    let Require::Backup {
        path,
        max_age,
        min_size,
        timeout,
    } = req
    else {
        return (result(req, false, "not a backup precondition".into()), None);
    };
    let pattern = match values.expand(path, None, backup::escape) {
        Ok(p) => p,
        Err(e) => {
            return (
                result(req, false, format!("cannot look for a backup: {e}")),
                None,
            )
        }
    };
    let shown = backup::unescape(&pattern);
    let search = pattern.clone();
    let found = match within(*timeout, move || backup::newest(&search)) {
        None => {
            let why = format!(
                "looking for {shown} took longer than {}",
                human_duration(*timeout)
            );
            return (result(req, false, why), None);
        }
        Some(Err(e)) => return (result(req, false, e), None),
        Some(Ok(None)) => return (result(req, false, format!("no file matches {shown}")), None),
        Some(Ok(Some(f))) => f,
    };
    let now = SystemTime::now();
    let mut problems = Vec::new();
    let age = match now.duration_since(found.modified) {
        Ok(age) => Some(age),
        Err(e) if e.duration() <= FUTURE_SLACK => Some(Duration::ZERO),
        Err(e) => {
            problems.push(format!(
                "newest backup {} is dated {} in the future; its age cannot be trusted",
                found.path,
                human_duration(e.duration())
            ));
            None
        }
    };
    if let Some(age) = age {
        if age >= *max_age {
            problems.push(format!(
                "newest backup is {} old; expected < {} ({})",
                human_duration(age),
                human_duration(*max_age),
                found.path
            ));
        }
    }
    if found.size <= *min_size {
        problems.push(if *min_size == 0 {
            format!("newest backup {} is empty", found.path)
        } else {
            format!(
                "newest backup {} is {}; expected > {}",
                found.path,
                human_size(found.size),
                human_size(*min_size)
            )
        });
    }
    let res = if problems.is_empty() {
        result(
            req,
            true,
            format!(
                "newest backup: {}, {} old, {}",
                found.path,
                human_duration(age.unwrap_or_default()),
                human_size(found.size)
            ),
        )
    } else {
        result(req, false, problems.join("; "))
    };
    (res, Some(found.path))
}

fn check_command(req: &Require, values: &Placeholders, file: Option<&str>) -> PreconditionResult {
    let Require::Command { argv, timeout } = req else {
        return result(req, false, "not a command precondition".into());
    };
    // The probe as shown: the program by its name, `{file}` words left out when the file is
    // named separately.
    let program = argv
        .first()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string());
    let shown: Vec<String> = program
        .into_iter()
        .chain(
            argv.iter()
                .skip(1)
                .filter(|w| w.as_str() != "{file}")
                .cloned(),
        )
        .map(|w| values.expand(&w, file, |s| s.to_string()).unwrap_or(w))
        .collect();
    let label = crate::shell::quote::join(&shown);
    let uses_file = argv
        .iter()
        .any(|w| placeholders(w).iter().any(|(_, n)| *n == FILE_PLACEHOLDER));
    let on = match (uses_file, file) {
        (true, Some(f)) => format!(" on {f}"),
        _ => String::new(),
    };
    let mut words = Vec::with_capacity(argv.len());
    for w in argv {
        match values.expand(w, file, |s| s.to_string()) {
            Ok(v) => words.push(v),
            Err(e) => return result(req, false, format!("{label} not run: {e}")),
        }
    }
    let o = probe::run(&words, *timeout);
    let detail = o
        .last_line
        .as_ref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    match &o.status {
        ProbeStatus::Exited(0) => result(req, true, format!("{label} OK{on}")),
        ProbeStatus::Exited(c) => result(
            req,
            false,
            format!("{label} failed{on}: exit status {c}{detail}"),
        ),
        ProbeStatus::Signaled(s) => result(
            req,
            false,
            format!("{label} failed{on}: killed by signal {s}{detail}"),
        ),
        ProbeStatus::TimedOut => result(
            req,
            false,
            format!(
                "{label} did not finish within {}{on}; it was killed",
                human_duration(*timeout)
            ),
        ),
        ProbeStatus::NotRun(why) => result(req, false, format!("{label} could not run: {why}")),
    }
}

fn check_file(req: &Require, values: &Placeholders) -> PreconditionResult {
    let Require::File {
        path,
        exists,
        timeout,
    } = req
    else {
        return result(req, false, "not a file precondition".into());
    };
    let path = match values.expand(path, None, |s| s.to_string()) {
        Ok(p) => p,
        Err(e) => return result(req, false, format!("cannot check the file: {e}")),
    };
    let probe = path.clone();
    let want = *exists;
    match within(*timeout, move || std::path::Path::new(&probe).try_exists()) {
        None => result(
            req,
            false,
            format!(
                "checking {path} took longer than {}",
                human_duration(*timeout)
            ),
        ),
        Some(Err(e)) => result(req, false, format!("cannot check {path}: {e}")),
        Some(Ok(true)) if want => result(req, true, format!("{path} exists")),
        Some(Ok(false)) if !want => result(req, true, format!("{path} does not exist")),
        Some(Ok(true)) => result(req, false, format!("{path} exists; expected it not to")),
        Some(Ok(false)) => result(req, false, format!("{path} does not exist; expected it to")),
    }
}

/// The target of `m` when it is known before the command runs: a resolved path operand or the
/// object of a SQL statement.
fn known_target(m: &Match, inv: &Invocation) -> Option<String> {
    let t = m.target.as_ref()?;
    let known = inv
        .targets
        .iter()
        .any(|x| matches!(x, Target::Path(p) if p == t))
        || inv
            .statements
            .iter()
            .any(|s| s.target.as_deref() == Some(t.as_str()));
    known.then(|| t.clone())
}

/// The host `inv` acts on when it is not this one.
fn elsewhere(inv: &Invocation, host: &HostContext) -> Option<String> {
    inv.remote_host
        .iter()
        .cloned()
        .chain(crate::policy::named_hosts(inv))
        .find(|h| !host.is_this_host(h))
}

/// The action one step up.
pub fn raise(a: Action) -> Action {
    match a {
        Action::Allow => Action::Warn,
        Action::Warn => Action::Confirm,
        Action::Confirm => Action::Approve,
        Action::Approve | Action::Deny => Action::Deny,
    }
}

/// Check the preconditions of every match of `verdict` whose rule has any, record what was found
/// in the match, raise the matches whose preconditions are not all met, and settle the verdict
/// again. Nothing is checked when the verdict already refuses.
pub fn check(verdict: &mut Verdict, analysis: &Analysis, policy: &PolicySet, host: &HostContext) {
    if verdict.action == Action::Deny {
        return;
    }
    let mut seen: HashMap<(String, Option<String>), Vec<PreconditionResult>> = HashMap::new();
    let mut changed = false;
    for m in &mut verdict.matches {
        if m.action == Action::Deny {
            continue;
        }
        let Some(inv) = analysis.invocations.get(m.invocation) else {
            continue;
        };
        let Some(rule) = policy
            .rules_for(&inv.program)
            .into_iter()
            .find(|r| r.id == m.rule)
        else {
            continue;
        };
        if rule.require.is_empty() {
            continue;
        }
        let target = known_target(m, inv);
        let key = (m.rule.clone(), target.clone());
        let results = match seen.get(&key) {
            Some(r) => r.clone(),
            None => {
                let r = match elsewhere(inv, host) {
                    Some(other) => rule
                        .require
                        .iter()
                        .map(|req| {
                            result(
                                req,
                                false,
                                format!(
                                    "this acts on {other}; preconditions are checked on this host only"
                                ),
                            )
                        })
                        .collect(),
                    None => evaluate(&rule.require, &Placeholders::new(host, target)),
                };
                seen.insert(key, r.clone());
                r
            }
        };
        let met = results.iter().all(|r| r.met);
        m.preconditions = results;
        if met {
            continue;
        }
        let to = match rule.unmet {
            Unmet::Raise => raise(m.action),
            Unmet::Deny => Action::Deny,
        };
        if to != m.action {
            m.raised_from = Some(m.action);
            m.action = to;
            match to {
                Action::Confirm => {
                    m.confirm.get_or_insert(ConfirmKind::Hostname);
                }
                Action::Approve => {
                    m.confirm = None;
                    m.approvers = Some(rule.approvers);
                }
                _ => {
                    m.confirm = None;
                    m.approvers = None;
                }
            }
            changed = true;
        }
    }
    if changed {
        verdict.settle();
    }
}

/// One sentence about a match's preconditions for the question, or `None` when it has none:
/// `Checked: newest backup: …, 3 h old, 2.1 GB; pg_restore --list OK.` or
/// `Not met: newest backup is 6 days old; expected < 24 h. Raised from confirm to approve.`
pub fn summary(m: &Match) -> Option<String> {
    if m.preconditions.is_empty() {
        return None;
    }
    let unmet: Vec<&str> = m
        .preconditions
        .iter()
        .filter(|p| !p.met)
        .map(|p| p.evidence.as_str())
        .collect();
    if unmet.is_empty() {
        let met: Vec<&str> = m
            .preconditions
            .iter()
            .map(|p| p.evidence.as_str())
            .collect();
        return Some(format!("Checked: {}.", met.join("; ")));
    }
    let mut s = format!("Not met: {}.", unmet.join("; "));
    if let Some(from) = m.raised_from {
        s.push_str(&format!(
            " Raised from {} to {}.",
            from.as_str(),
            m.action.as_str()
        ));
    }
    Some(s)
}
