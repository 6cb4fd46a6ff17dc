//! Matching one rule against one invocation, on one host.

use super::glob::name_matches;
use super::require::PreconditionResult;
use super::rule::{Action, ConfirmKind, LazyGlobs, Rule, Severity, When};
use super::when::Freeze;
use crate::host::HostContext;
use crate::shell::{Invocation, Target};
use serde::Serialize;

/// A rule that matched an invocation, with its message rendered for this host.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Match {
    pub rule: String,
    pub severity: Severity,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm: Option<ConfirmKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvers: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead: Option<String>,
    /// Index of the invocation in the analysis.
    pub invocation: usize,
    /// The thing being destroyed, when the rule could tell (database, path, namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The rule's preconditions and what checking them found; empty when it has none or they
    /// were not checked (see `crate::precondition`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preconditions: Vec<PreconditionResult>,
    /// The action before an unmet precondition raised it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raised_from: Option<Action>,
}

/// Whether the called function `name` (`public.purge_all`, lower case) is `pattern` (lower
/// case): a pattern without a schema matches the function in any schema.
fn function_matches(pattern: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if pattern.contains('.') {
        return name_matches(pattern, &name);
    }
    name_matches(pattern, name.rsplit('.').next().unwrap_or(&name))
}

/// Whether `role` is one of `patterns`: no `!pattern` matches it, and some plain pattern does
/// (or there is none).
fn role_holds(patterns: &[String], role: &str) -> bool {
    let mut plain = false;
    let mut matched = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(not) if name_matches(not, role) => return false,
            Some(_) => {}
            None => {
                plain = true;
                matched |= name_matches(p, role);
            }
        }
    }
    !plain || matched
}

impl When {
    /// Whether the host part (`env`, `role`, `host`) holds on `host`. Unknown environments and
    /// roles hold: fail safe.
    pub fn host_holds(&self, host: &HostContext) -> bool {
        let w = self;
        let env_ok = w.env.is_empty()
            || w.env.iter().any(|e| name_matches(e, &host.environment))
            || (host.environment == "unknown"
                && w.env.iter().any(|e| name_matches(e, "production")));
        // A host with no role is treated as having every role: fail safe. `!pattern` excludes
        // the roles it matches (`role = ["!*replica*"]`: every role but replicas).
        let role_ok = host.role.as_deref().is_none_or(|r| role_holds(&w.role, r));
        let host_ok = w.host.is_empty()
            || w.host
                .iter()
                .any(|p| name_matches(p, &host.hostname) || name_matches(p, host.short_name()));
        env_ok && role_ok && host_ok
    }

    /// Whether this `when` may hold: nothing in it is known to be false.
    pub fn may_hold(&self, host: &HostContext, freezes: &[Freeze]) -> bool {
        self.host_holds(host) && self.cond.eval(host, freezes) != Some(false)
    }
}

impl Rule {
    /// Whether this rule applies on `host` at all (its `when`), with no change freezes in force.
    pub fn applies_on(&self, host: &HostContext) -> bool {
        self.applies(host, &[])
    }

    /// Whether this rule applies on `host`, for its subject and instant, with these freezes.
    pub fn applies(&self, host: &HostContext, freezes: &[Freeze]) -> bool {
        self.when.may_hold(host, freezes)
    }

    /// The match, if this rule matches `inv` (the `when` is checked by the caller), with no
    /// change freezes in force.
    pub fn matches(&self, inv: &Invocation, index: usize, host: &HostContext) -> Option<Match> {
        self.matches_in(inv, index, host, &[])
    }

    /// The match, if this rule matches `inv`; `escalate` and `exempt` are applied for the
    /// host's subject and instant.
    pub fn matches_in(
        &self,
        inv: &Invocation,
        index: usize,
        host: &HostContext,
        freezes: &[Freeze],
    ) -> Option<Match> {
        let m = &self.m;
        // Cheap refusals first: a glob set or a regex is compiled only for a command that has
        // what it would look at.
        if (m.redirect.is_some() || m.redirect_append.is_some()) && inv.redirects.is_empty() {
            return None;
        }
        let protected_names = m.target.as_ref().is_some_and(|g| g.protected)
            && names_processes_or_volumes(&inv.program);
        if m.target.is_some() && inv.targets.is_empty() && !inv.dynamic_operands && !protected_names
        {
            return None;
        }
        if (!m.sql.is_empty() || !m.sql_function.is_empty()) && inv.statements.is_empty() {
            return None;
        }
        if !m.program.is_empty() && !m.program.iter().any(|p| name_matches(p, &inv.program)) {
            return self.matches_any_program(inv, index, host, freezes);
        }
        if signals_nothing(inv) {
            return None;
        }
        if !m.subcommand.is_empty()
            && !m
                .subcommand
                .iter()
                .any(|words| starts_with(&inv.operands, words))
        {
            return None;
        }
        if !m
            .flags
            .iter()
            .all(|alts| alts.iter().any(|f| inv.flags.contains(f)))
        {
            return None;
        }
        if m.not_flags.iter().any(|f| inv.flags.contains(f)) {
            return None;
        }
        for re in &m.args {
            let re = re.get()?;
            if !inv.args.iter().any(|a| re.is_match(a)) {
                return None;
            }
        }
        for re in &m.not_args {
            if let Some(re) = re.get() {
                if inv.args.iter().any(|a| re.is_match(a)) {
                    return None;
                }
            }
        }
        let mut target = None;
        let mut certainty = Certainty::Known;
        // Why a target is protected state, when that is what matched.
        let mut protected = None;
        if let Some(globs) = &m.target {
            if protected_names {
                let (t, why) = protected_name(inv, host)?;
                target = Some(t);
                protected = Some(why);
            } else {
                let set = globs.get()?;
                let (t, c, why) = matching_target(inv, globs, set, host)?;
                target = Some(t);
                certainty = c;
                protected = why;
            }
        }
        for (globs, append) in [(&m.redirect, false), (&m.redirect_append, true)] {
            let Some(globs) = globs else { continue };
            let set = globs.get()?;
            let (hit, c, why) = inv
                .redirects
                .iter()
                .filter(|r| r.append == append)
                .find_map(|r| match &r.target {
                    Target::Path(p) if set.is_match(p) => Some((p.clone(), Certainty::Known, None)),
                    // Truncating protected state: a file that is there now.
                    Target::Path(p) if globs.protected => host
                        .protected
                        .file(p)
                        .map(|why| (p.clone(), Certainty::Known, Some(why))),
                    Target::Unknown(s) => Some((s.clone(), Certainty::Unknown, None)),
                    _ => None,
                })?;
            if c == Certainty::Unknown {
                certainty = c;
            }
            if protected.is_none() {
                protected = why;
            }
            target.get_or_insert(hit);
        }
        if !m.sql.is_empty() {
            let st = inv.statements.iter().find(|s| m.sql.contains(&s.kind))?;
            if target.is_none() {
                target = st.target.clone();
            }
        }
        if !m.sql_function.is_empty() {
            let f = inv
                .statements
                .iter()
                .flat_map(|s| &s.functions)
                .find(|f| m.sql_function.iter().any(|p| function_matches(p, f)))?;
            if target.is_none() {
                target = Some(f.clone());
            }
        }
        if !m.via.is_empty()
            && !inv.via.iter().any(|v| {
                let first = v.split_whitespace().next().unwrap_or("");
                m.via.iter().any(|p| name_matches(p, first))
            })
        {
            return None;
        }
        if let Some(want) = m.other_host {
            let other = named_hosts(inv).into_iter().find(|h| !host.is_this_host(h));
            if other.is_some() != want {
                return None;
            }
        }
        if let Some(want) = m.remote {
            if inv.remote_host.is_some() != want {
                return None;
            }
        }
        if let Some(want) = m.dynamic {
            if inv.dynamic_operands != want {
                return None;
            }
        }
        if let Some(re) = &m.raw {
            if !re.get()?.is_match(&inv.text) {
                return None;
            }
        }
        if target.is_none() {
            target = namespace_or_operand(inv);
        }
        // What may be harmless is asked about, not denied: an operand that is not known before it
        // runs could be anything, but it is not known to be what the rule forbids.
        let (action, note) = match certainty {
            Certainty::Unknown if self.action > Action::Confirm => (
                Action::Confirm,
                " (the target is not known before the command runs)",
            ),
            Certainty::Unknown => (
                self.action,
                " (the target is not known before the command runs)",
            ),
            Certainty::Known => (self.action, ""),
        };
        let mut message = render(&self.message, inv, host, target.as_deref());
        message.push_str(note);
        if let Some(why) = &protected {
            message.push_str(&format!(" (protected: {why})"));
        }
        // An exemption names who, holds only on known facts, and says why; a freeze's
        // escalation still applies on top of it.
        let mut action = action;
        if let Some(ex) = self
            .exempt
            .iter()
            .find(|e| e.cond.eval(host, freezes) == Some(true))
        {
            if action > Action::Allow {
                message.push_str(&format!(" (exempt: {}; {})", ex.cond.describe(), ex.reason));
                action = Action::Allow;
            }
        }
        for e in &self.escalate {
            if e.when.may_hold(host, freezes) {
                let raised = e.raise(action);
                if raised > action {
                    let cond = if e.when.cond.is_empty() {
                        "escalated".to_string()
                    } else {
                        e.when.cond.describe()
                    };
                    message.push_str(&format!(
                        " (raised from {} to {}: {cond}{})",
                        action.as_str(),
                        raised.as_str(),
                        e.reason
                            .as_deref()
                            .map(|r| format!("; {r}"))
                            .unwrap_or_default()
                    ));
                    action = raised;
                }
            }
        }
        Some(Match {
            rule: self.id.clone(),
            severity: self.severity,
            action,
            confirm: self.confirm,
            approvers: (action == Action::Approve).then_some(self.approvers),
            message,
            why: self.why.clone(),
            instead: self.instead.clone(),
            invocation: index,
            target,
            preconditions: Vec::new(),
            raised_from: None,
        })
    }
}

impl Rule {
    /// A program not known before it runs (`$X -rf /data`, `$(cat cmd) …`) is every program:
    /// its words are read as each program the rule names would read them, and a match is asked
    /// about, not denied: it could be what the rule forbids, it is not known to be.
    fn matches_any_program(
        &self,
        inv: &Invocation,
        index: usize,
        host: &HostContext,
        freezes: &[Freeze],
    ) -> Option<Match> {
        if !inv.program_unknown {
            return None;
        }
        self.m.program.iter().find_map(|p| {
            let as_p = inv.as_program(p);
            let mut hit = self.matches_in(&as_p, index, host, freezes)?;
            if hit.action > Action::Confirm {
                hit.action = Action::Confirm;
                hit.approvers = None;
            }
            hit.message.push_str(
                " (the program is not known before the command runs: it could be this one)",
            );
            Some(hit)
        })
    }
}

fn starts_with(operands: &[String], words: &[String]) -> bool {
    operands.len() >= words.len()
        && operands
            .iter()
            .zip(words)
            .all(|(o, w)| w.split('|').any(|alt| name_matches(alt, o)))
}

/// How sure a target match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Certainty {
    /// A known path matched.
    Known,
    /// An operand not known before run time could match: it could be anything.
    Unknown,
}

/// The first target the globs match, and how sure that is.
///
/// - A known path matches when a pattern matches it.
/// - A glob operand (`/var/lib/*`) matches when a pattern matches it as written, or could match
///   something strictly inside the directory it expands in; `DIR/*` also matches what matches
///   DIR, since it empties it.
/// - The roots of `find … -exec rm {}` and `find … | xargs rm` stand for what is inside them.
/// - An operand not known before run time (`$DIR/x`), or operands appended by `xargs`, could be
///   anything: they match, uncertainly.
///
/// With the class `protected`, a known path the host's protected state holds (or that holds
/// some of it) matches too; the third value says why.
fn matching_target(
    inv: &Invocation,
    globs: &LazyGlobs,
    set: &globset::GlobSet,
    host: &HostContext,
) -> Option<(String, Certainty, Option<String>)> {
    // Operands supplied at run time that are paths under known roots (`find ROOT -exec rm {}`,
    // `find ROOT | xargs rm`): each root stands for what lies under it.
    let from_find = inv.dynamic_operands && !inv.runtime_roots.is_empty();
    // A path that is not there cannot be destroyed (a glob stands for what it expands to).
    let protected = |p: &str| {
        if globs.protected && (p.contains(['*', '?', '[']) || host.protected.holds(p)) {
            host.protected.path(p)
        } else {
            None
        }
    };
    // dd's targets are what it writes (`of=`), then what it reads: only the first count.
    let written = if inv.program == "dd" {
        inv.args.iter().filter(|a| a.starts_with("of=")).count()
    } else {
        inv.targets.len()
    };
    // `find` itself (`-delete`), with an expression that says which files it acts on: its
    // roots stand for those files.
    let find_selects = inv.program == "find" && inv.selects.is_some();
    for (i, t) in inv.targets.iter().enumerate() {
        let protected = |p: &str| if i < written { protected(p) } else { None };
        match t {
            Target::Path(p)
                if (from_find && inv.runtime_roots.contains(t))
                    || (find_selects && i < written) =>
            {
                let inside = inside_may_match(p, globs, set);
                let why = if inside { None } else { protected(p) };
                if (inside || why.is_some()) && reaches(p, inv, globs, set, host) {
                    return Some((
                        format!("{}/…", p.trim_end_matches('/')),
                        Certainty::Known,
                        why,
                    ));
                }
            }
            Target::Path(p) => {
                if set.is_match(p) {
                    return Some((p.clone(), Certainty::Known, None));
                }
                if let Some(dir) = glob_dir(p) {
                    // `DIR/*` empties DIR: as destructive as DIR itself.
                    let everything = p
                        .strip_prefix(dir)
                        .is_some_and(|rest| rest.trim_start_matches('/') == "*");
                    if (everything && set.is_match(dir)) || inside_may_match(dir, globs, set) {
                        return Some((p.clone(), Certainty::Known, None));
                    }
                }
                if let Some(why) = protected(p) {
                    return Some((p.clone(), Certainty::Known, Some(why)));
                }
            }
            Target::Unknown(s) => return Some((s.clone(), Certainty::Unknown, None)),
        }
    }
    (inv.dynamic_operands && !from_find).then(|| {
        (
            "(operands supplied at run time)".to_string(),
            Certainty::Unknown,
            None,
        )
    })
}

/// Whether what `inv` does to the files under the root `root` (found by `find`) may reach one
/// the rule is about: with the `find` expression known, decided on the files there now
/// (`policy::reach`); without, it may.
fn reaches(
    root: &str,
    inv: &Invocation,
    globs: &LazyGlobs,
    set: &globset::GlobSet,
    host: &HostContext,
) -> bool {
    let Some(expr) = &inv.selects else {
        return true;
    };
    let mut bases: Vec<String> = globs
        .sources
        .iter()
        .filter_map(|g| super::reach::literal_base(g))
        .collect();
    if globs.protected {
        bases.extend(
            host.protected
                .found()
                .entries
                .iter()
                .filter_map(|e| super::reach::literal_base(&e.path)),
        );
    }
    let interesting = |p: &str| {
        set.is_match(p)
            || inside_may_match(p, globs, set)
            || (globs.protected && host.protected.path(p).is_some() && host.protected.holds(p))
    };
    // Among the rule's files: what lies deep inside is (`/srv/**`, a data directory), not only
    // what lies directly in it (`/home/*`).
    let among = |p: &str| {
        let deep = format!("{}/x/x", p.trim_end_matches('/'));
        set.is_match(&deep)
            || (globs.protected
                && host.protected.within(&deep).is_some()
                && host.protected.holds(p))
    };
    let deeper = |p: &str| {
        globs
            .sources
            .iter()
            .any(|g| super::reach::may_match_below(g, p))
            || (globs.protected && host.protected.below(p))
    };
    let real = |p: &str| host.protected.real_path(p);
    super::reach::may_reach(super::reach::Question {
        root,
        expr,
        bases,
        interesting: &interesting,
        among: &among,
        deeper: &deeper,
        real: &real,
    })
}

/// `kill -0 PID` (`-s 0`, `--signal=0`, `pkill -0 NAME`): signal 0 is delivered to nobody; it
/// only asks whether the process exists and may be signalled.
fn signals_nothing(inv: &Invocation) -> bool {
    matches!(inv.program.as_str(), "kill" | "pkill" | "killall")
        && inv
            .options
            .iter()
            .any(|(n, v)| n == "signal" && v.trim_start_matches("SIG") == "0")
}

/// Programs whose operands name processes, units or volumes rather than files: with the class
/// `protected`, they are judged by what they name (`kill 4242`, `pkill postgres`, `systemctl
/// kill postgresql`, `vgremove vg0`).
fn names_processes_or_volumes(program: &str) -> bool {
    matches!(
        program,
        "kill"
            | "pkill"
            | "killall"
            | "systemctl"
            | "lvremove"
            | "vgremove"
            | "pvremove"
            | "lvreduce"
            | "vgreduce"
            | "lvchange"
            | "vgchange"
            | "zpool"
            | "zfs"
    )
}

/// What protected process, unit or volume `inv` names, and why it is protected.
fn protected_name(inv: &Invocation, host: &HostContext) -> Option<(String, String)> {
    let state = &host.protected;
    let hit = |what: &str, why: Option<String>| why.map(|w| (what.to_string(), w));
    match inv.program.as_str() {
        "kill" => inv.operands.iter().find_map(|op| {
            if let Ok(pid) = op.parse::<u32>() {
                return hit(op, state.pid(pid));
            }
            hit(op, process_word(op, host))
        }),
        "pkill" => inv
            .operands
            .first()
            .and_then(|p| hit(p, state.process(p, true))),
        "killall" => {
            let regex = inv.flags.contains("regexp");
            inv.operands
                .iter()
                .find_map(|p| hit(p, state.process(p, regex)))
        }
        "systemctl" => {
            let (verb, units) = inv.operands.split_first()?;
            if verb != "kill" {
                return None;
            }
            units.iter().find_map(|u| hit(u, state.unit(u)))
        }
        "zpool" | "zfs" => inv
            .operands
            .iter()
            .skip(1)
            .find_map(|op| hit(op, state.device(op.split('@').next().unwrap_or(op)))),
        _ => inv.operands.iter().find_map(|op| hit(op, state.device(op))),
    }
}

/// A word that finds processes when it runs: `$(pidof postgres)`, `` `pgrep -f mysqld` ``,
/// `$(cat /var/lib/postgresql/15/main/postmaster.pid)`. Why what it finds is protected.
fn process_word(word: &str, host: &HostContext) -> Option<String> {
    if !word.contains("$(") && !word.contains('`') {
        return None;
    }
    let inner = word
        .trim_start_matches("$(")
        .trim_start_matches('`')
        .trim_end_matches(')')
        .trim_end_matches('`');
    let words: Vec<&str> = inner
        .split(|c: char| c.is_whitespace() || c == '|' || c == ';')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches(|c| c == '\'' || c == '"'))
        .collect();
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let finder = w.rsplit('/').next().unwrap_or(w);
        if matches!(finder, "pidof" | "pgrep") {
            let regex = finder == "pgrep";
            for name in it.by_ref() {
                if name.starts_with('-') {
                    continue;
                }
                if let Some(why) = host.protected.process(name, regex) {
                    return Some(why);
                }
                break;
            }
        } else if w.starts_with('/') && w.ends_with(".pid") {
            if let Some(why) = host.protected.pid_file(w) {
                return Some(why);
            }
        }
    }
    None
}

/// The directory a glob operand expands in: `/var/lib/*` → `/var/lib`, `/*` → `/`.
fn glob_dir(p: &str) -> Option<&str> {
    let first = p.find(['*', '?', '['])?;
    let dir = &p[..p[..first].rfind('/').unwrap_or(0)];
    Some(if dir.is_empty() { "/" } else { dir })
}

/// Whether some path strictly inside `root` could match: a pattern matches a child of it, or a
/// pattern's literal part lies inside it (`/var/lib` holds `/var/lib/postgresql/**`).
fn inside_may_match(root: &str, globs: &LazyGlobs, set: &globset::GlobSet) -> bool {
    let root = root.trim_end_matches('/');
    let prefix = format!("{root}/");
    set.is_match(format!("{prefix}x"))
        || globs.sources.iter().any(|g| {
            let literal = &g[..g.find(['*', '?', '[', '{']).unwrap_or(g.len())];
            literal.starts_with(&prefix) && literal.len() > prefix.len()
        })
}

/// Programs whose `-h HOST` names a database server, when the flag table does not know them.
const HOST_FLAG_PROGRAMS: &[&str] = &[
    "pg_basebackup",
    "pg_dump",
    "pg_dumpall",
    "pg_restore",
    "pgbench",
    "pg_isready",
    "vacuumdb",
    "reindexdb",
    "clusterdb",
    "createdb",
    "dropdb",
    "createuser",
    "dropuser",
    "mysqldump",
    "mysqladmin",
    "mysqlcheck",
    "mysqlimport",
    "mariadb-dump",
    "mariadb-admin",
    "clickhouse-client",
    "mongo",
    "mongosh",
    "mongodump",
    "mongorestore",
    "redis-cli",
    "valkey-cli",
    "keydb-cli",
];

/// Hosts the invocation names: `ssh HOST`, `psql -h HOST`, `kubectl --context CTX`,
/// `psql postgres://user@HOST/db`, `pg_basebackup -h HOST`.
pub fn named_hosts(inv: &Invocation) -> Vec<String> {
    let mut out: Vec<String> = inv.remote_host.iter().cloned().collect();
    out.extend(
        inv.options
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "host" | "context" | "server" | "hostname"))
            .map(|(_, v)| v.clone()),
    );
    if HOST_FLAG_PROGRAMS.contains(&inv.program.as_str())
        && !inv.options.iter().any(|(k, _)| k == "host")
    {
        let mut args = inv.args.iter();
        while let Some(a) = args.next() {
            if a == "-h" || a == "--host" {
                out.extend(args.next().cloned());
            } else if let Some(h) = a
                .strip_prefix("--host=")
                .or_else(|| a.strip_prefix("-h").filter(|h| !h.is_empty()))
            {
                out.push(h.to_string());
            }
        }
    }
    out.extend(inv.args.iter().filter_map(|a| uri_host(a)));
    out.retain(|h| !h.is_empty() && !h.starts_with('/'));
    out.dedup();
    out
}

/// The host of a database URI (`postgres://u:p@db2:5432/app` → `db2`).
fn uri_host(arg: &str) -> Option<String> {
    let (scheme, rest) = arg.split_once("://")?;
    if !matches!(
        scheme,
        "postgres"
            | "postgresql"
            | "mysql"
            | "mariadb"
            | "redis"
            | "rediss"
            | "mongodb"
            | "mongodb+srv"
            | "clickhouse"
    ) {
        return None;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        hostport.split([':', ',']).next().unwrap_or("")
    };
    (!host.is_empty()).then(|| host.to_string())
}

fn namespace_or_operand(inv: &Invocation) -> Option<String> {
    inv.targets
        .iter()
        .map(|t| match t {
            Target::Path(p) | Target::Unknown(p) => p.clone(),
        })
        .next()
        .or_else(|| inv.statements.iter().find_map(|s| s.target.clone()))
        // `systemctl stop postgresql`, `kubectl delete ns payments`: the last operand names it.
        .or_else(|| {
            inv.operands
                .last()
                .filter(|_| inv.operands.len() > 1)
                .cloned()
        })
}

fn render(template: &str, inv: &Invocation, host: &HostContext, target: Option<&str>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let value: String = match name {
            "host" => host.hostname.clone(),
            "short_host" => host.short_name().to_string(),
            "env" => host.environment.clone(),
            "ENV" => host.environment.to_uppercase(),
            "role" => host.role.clone().unwrap_or_else(|| "unknown role".into()),
            "cluster" => host
                .cluster
                .clone()
                .unwrap_or_else(|| "unknown cluster".into()),
            "program" => inv.program.clone(),
            "target" => target.unwrap_or("(unknown)").to_string(),
            "remote_host" => named_hosts(inv)
                .into_iter()
                .find(|h| !host.is_this_host(h))
                .unwrap_or_else(|| "(none)".to_string()),
            "user" => inv.run_as.clone().unwrap_or_else(|| "(you)".into()),
            other => format!("{{{other}}}"),
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(program: &str, args: &[&str]) -> Invocation {
        Invocation {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            ..Invocation::default()
        }
    }

    #[test]
    fn hosts_named_by_flags_and_uris() {
        assert_eq!(
            named_hosts(&inv("pg_basebackup", &["-h", "db2", "-D", "/x"])),
            vec!["db2"]
        );
        assert_eq!(
            named_hosts(&inv("pg_dump", &["--host=db3", "app"])),
            vec!["db3"]
        );
        assert_eq!(
            named_hosts(&inv(
                "psql",
                &["postgres://u:secret@db2.example.com:5432/app"]
            )),
            vec!["db2.example.com"]
        );
        assert_eq!(
            named_hosts(&inv("mongosh", &["mongodb://[::1]:27017"])),
            vec!["::1"]
        );
        assert!(named_hosts(&inv("ls", &["-h", "x"])).is_empty());
        assert!(named_hosts(&inv("psql", &["-h", "/var/run/postgresql"])).is_empty());
    }

    #[test]
    fn glob_directory() {
        assert_eq!(glob_dir("/var/lib/*"), Some("/var/lib"));
        assert_eq!(glob_dir("/*"), Some("/"));
        assert_eq!(glob_dir("/var/lib/post*/x"), Some("/var/lib"));
        assert_eq!(glob_dir("/var/lib"), None);
    }
}
