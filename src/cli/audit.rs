//! `prodguard audit …`: the security team's view of the audit log.
//!
//! Exit codes: `verify` 0 intact, 1 damaged, 2 error; `search` 0 something matched, 1 nothing
//! matched, 2 error; `stats` and `tail` 0 or 2. A closed pipe (`| head`) ends quietly.

use super::error::{Error, Status};
use crate::audit::search::{self, Filter, Scanned, Stats, View};
use crate::audit::verify::{self, Input, Report};
use crate::audit::{self, checkpoint, sink, PublicKey, Signer};
use crate::host::HostContext;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the main command line hands to the audit commands.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// `--audit-file`.
    pub audit_file: Option<PathBuf>,
    /// The host description.
    pub host: HostContext,
    /// Extra redaction patterns from the policy.
    pub redactions: Vec<regex::Regex>,
}

/// Criteria shared by `search` and `stats`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only records of this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only records from this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only records where this rule id matched.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only records with this outcome (allowed, denied, confirmed, aborted, timed-out, …).
    #[arg(long)]
    pub outcome: Option<String>,
    /// Only records of this event (command, approval, session, torn-tail, sink-failure).
    #[arg(long)]
    pub event: Option<String>,
    /// Only records of this login session.
    #[arg(long)]
    pub session: Option<String>,
    /// Records at or after this time: RFC 3339 (2026-11-23T18:00:00Z) or a date (2026-11-23).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Records before this time; a date means up to the end of that day (UTC).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only records whose command matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Only logins the shell integration did not guard: session ends where it never loaded,
    /// and logins whose shell has no integration.
    #[arg(long)]
    pub unguarded: bool,
}

/// The audit subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of the log and its rotations (oldest first).
    Verify {
        /// Files to verify as one chain, oldest first; `-` is stdin. Default: the configured
        /// log's uncompressed rotations, then the log.
        files: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The host's public key to check checkpoints against. Default: the audit.pub
        /// published next to the log (give the copy kept off the host to trust it).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// The SIEM's copy of the checkpoint lines (syslog lines or JSON lines; other lines
        /// are skipped): every checkpoint in it must be in the log.
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
        /// Print the public key checkpoints are checked against, and exit.
        #[arg(long)]
        show_key: bool,
    },
    /// Create the host key that signs checkpoints (if there is none) and publish its public
    /// half next to the log; prints the public key. Run as the log's writer (root).
    Keygen,
    /// Print the records that match every given criterion.
    Search {
        #[command(flatten)]
        filter: FilterArgs,
        /// Print matching records as they are stored (JSON lines).
        #[arg(long)]
        json: bool,
        /// Files to search; `-` is stdin. Default: the configured log and its rotations.
        files: Vec<PathBuf>,
    },
    /// Count records by outcome, rule, user, host and event.
    Stats {
        #[command(flatten)]
        filter: FilterArgs,
        /// Print the counts as JSON.
        #[arg(long)]
        json: bool,
        /// Files to read. Default: the configured log and its rotations.
        files: Vec<PathBuf>,
    },
    /// Print the last records of the log, and with -f new ones as they are written.
    Tail {
        /// Keep printing records as they are appended (follows rotation).
        #[arg(short = 'f', long)]
        follow: bool,
        /// How many records to print first.
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: usize,
        /// Print records as stored (JSON lines).
        #[arg(long)]
        json: bool,
        /// The file. Default: the configured log.
        file: Option<PathBuf>,
    },
}

/// Run one audit subcommand.
pub fn run(cmd: AuditCommand, opts: &AuditOptions) -> Status {
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let result = match cmd {
        AuditCommand::Verify {
            files,
            json,
            key,
            checkpoints,
            show_key,
        } => cmd_verify(
            &mut out,
            opts,
            &files,
            &VerifyKeys {
                json,
                key,
                checkpoints,
                show_key,
            },
        ),
        AuditCommand::Keygen => cmd_keygen(&mut out, opts),
        AuditCommand::Search {
            filter,
            json,
            files,
        } => cmd_search(&mut out, opts, &filter, json, &files),
        AuditCommand::Stats {
            filter,
            json,
            files,
        } => cmd_stats(&mut out, opts, &filter, json, &files),
        AuditCommand::Tail {
            follow,
            lines,
            json,
            file,
        } => cmd_tail(&mut out, opts, follow, lines, json, file.as_deref()),
    };
    finish(result, out.flush())
}

/// The status of an audit subcommand that ended with `result`, its output flushed with
/// `flushed`: a closed standard output ends quietly, with the status the subcommand had.
pub(super) fn finish(result: Status, flushed: std::io::Result<()>) -> Status {
    match (result, flushed) {
        (Err(Error::Pipe), _) => Ok(super::EXIT_OK),
        (Err(e), _) => Err(e),
        (Ok(code), Ok(())) => Ok(code),
        (Ok(code), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
        (Ok(_), Err(e)) => Err(stdout_error(e)),
    }
}

/// A failed write to standard output: [`Error::Pipe`] when it was closed under us.
pub(super) fn stdout_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Error::Pipe
    } else {
        Error::Failed(format!(
            "cannot write to standard output: {}",
            audit::reason(&e)
        ))
    }
}

/// A whole-sentence failure (exit 2).
pub(super) fn failed(e: impl std::fmt::Display) -> Error {
    Error::Failed(e.to_string())
}

/// The configured log and its uncompressed rotations, oldest first.
fn default_inputs(opts: &AuditOptions) -> Vec<Input> {
    let path = audit::audit_file_path(opts.audit_file.as_deref(), &opts.host);
    let mut v: Vec<Input> = sink::rotated_siblings(&path)
        .into_iter()
        .map(Input::Path)
        .collect();
    v.push(Input::Path(path));
    v
}

fn inputs(opts: &AuditOptions, files: &[PathBuf]) -> Vec<Input> {
    if files.is_empty() {
        default_inputs(opts)
    } else {
        files.iter().map(|p| Input::from_arg(p)).collect()
    }
}

/// `verify`'s options beyond the files.
struct VerifyKeys {
    json: bool,
    key: Option<PathBuf>,
    checkpoints: Option<PathBuf>,
    show_key: bool,
}

/// The public key to check checkpoints with, and where it came from: `--key`, else the key
/// published next to the log (the configured one, or the last file given). `None` when
/// neither exists.
fn verify_key(
    opts: &AuditOptions,
    files: &[PathBuf],
    given: Option<&Path>,
) -> Result<Option<(PublicKey, PathBuf)>, Error> {
    if let Some(p) = given {
        return PublicKey::load(p)
            .map(|k| Some((k, p.to_path_buf())))
            .map_err(Error::Key);
    }
    let log = match files.last() {
        Some(f) if f.as_path() != Path::new("-") => f.clone(),
        Some(_) => return Ok(None),
        None => audit::audit_file_path(opts.audit_file.as_deref(), &opts.host),
    };
    let p = checkpoint::published_key_path(&log);
    match PublicKey::load(&p) {
        Ok(k) => Ok(Some((k, p))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(Error::Key(e)),
    }
}

fn cmd_verify(
    out: &mut impl Write,
    opts: &AuditOptions,
    files: &[PathBuf],
    k: &VerifyKeys,
) -> Status {
    let key = verify_key(opts, files, k.key.as_deref())?;
    if k.show_key {
        let Some((key, from)) = key else {
            return Err(Error::Failed(
                "no public key: none was given with --key and none is published next to the log"
                    .into(),
            ));
        };
        write!(out, "{}", key.to_line()).map_err(stdout_error)?;
        writeln!(out, "key id {} (from {})", key.id(), from.display()).map_err(stdout_error)?;
        return Ok(0);
    }
    let mut v = verify::Verifier::new();
    if let Some(copy) = &k.checkpoints {
        let Some((key, _)) = &key else {
            return Err(Error::Failed(
                "--checkpoints needs the host's public key: give --key FILE".into(),
            ));
        };
        let c = verify::CheckpointCopy::load(&Input::from_arg(copy), key).map_err(failed)?;
        v = v.with_copy(c);
    }
    if let Some((key, _)) = key {
        v = v.with_key(key);
    }
    let ins = inputs(opts, files);
    let report = verify::verify_with(v, &ins).map_err(failed)?;
    let json = k.json;
    if json {
        serde_json::to_writer(&mut *out, &report).map_err(failed)?;
        writeln!(out).map_err(stdout_error)?;
    } else {
        print_verify(out, &report).map_err(stdout_error)?;
    }
    Ok(if report.ok { 0 } else { 1 })
}

fn print_verify(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    for w in &r.warnings {
        writeln!(out, "warning: {}:{}: {}", w.file, w.line, w.message)?;
    }
    let files = r.files.len();
    let plural = if files == 1 { "" } else { "s" };
    match &r.failure {
        None => {
            writeln!(
                out,
                "ok: {} records in {files} file{plural}, chain intact{}",
                r.records,
                r.last_hash
                    .as_deref()
                    .map(|h| format!(", last hash {h}"))
                    .unwrap_or_default()
            )?;
        }
        Some(f) => {
            writeln!(out, "FAILED: {}:{}: {}", f.file, f.line, f.message)?;
            writeln!(out, "{} records verified before it", r.records)?;
        }
    }
    if let Some(key) = &r.key {
        match &r.last_checkpoint {
            Some(c) => writeln!(
                out,
                "checkpoints: {} signed by key {key}, the last at record {} ({}), {} records after it",
                r.checkpoints, c.records, c.time, r.unanchored
            )?,
            None => writeln!(out, "checkpoints: none verified (key {key})")?,
        }
    }
    if let Some(c) = &r.copy {
        writeln!(
            out,
            "checkpoint copy {}: {} of {} checkpoints found in the log",
            c.file, c.found, c.checkpoints
        )?;
    }
    Ok(())
}

fn cmd_keygen(out: &mut impl Write, opts: &AuditOptions) -> Status {
    let path = audit::key_file_path(&opts.host);
    let signer = Signer::load_or_create(&path).map_err(failed)?;
    let log = audit::audit_file_path(opts.audit_file.as_deref(), &opts.host);
    let published = checkpoint::published_key_path(&log);
    signer.publish(&published).map_err(failed)?;
    write!(out, "{}", signer.public().to_line()).map_err(stdout_error)?;
    writeln!(
        out,
        "key id {}: secret key {}, public key {}",
        signer.public().id(),
        path.display(),
        published.display()
    )
    .map_err(stdout_error)?;
    Ok(0)
}

fn build_filter(f: &FilterArgs) -> Result<Filter, Error> {
    let bad_time = |flag: &str, v: &str| {
        Error::Failed(format!(
            "--{flag} {v}: not a time; use RFC 3339 (2026-11-23T18:04:05Z) or a date (2026-11-23)"
        ))
    };
    let since = match &f.since {
        Some(s) => Some(search::since_bound(s).ok_or_else(|| bad_time("since", s))?),
        None => None,
    };
    let until = match &f.until {
        Some(s) => Some(search::until_bound(s).ok_or_else(|| bad_time("until", s))?),
        None => None,
    };
    let grep = match &f.grep {
        Some(g) => Some(
            regex::Regex::new(g)
                .map_err(|e| Error::Failed(format!("--grep: invalid regular expression: {e}")))?,
        ),
        None => None,
    };
    Ok(Filter {
        user: f.user.clone(),
        host: f.host.clone(),
        rule: f.rule.clone(),
        outcome: f.outcome.clone(),
        event: f.event.clone(),
        session: f.session.clone(),
        since,
        until,
        grep,
        unguarded: f.unguarded,
    })
}

fn scan_all(
    ins: &[Input],
    filter: &Filter,
    mut each: impl FnMut(&[u8], &View<'_>) -> std::io::Result<()>,
) -> Result<Scanned, Error> {
    let mut scanned = Scanned::default();
    let mut err: Option<std::io::Error> = None;
    for i in ins {
        let reader = match i.open() {
            Ok(r) => r,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && matches!(i, Input::Path(_))
                    && ins.len() > 1 =>
            {
                continue
            }
            Err(e) => {
                return Err(Error::Failed(format!(
                    "cannot read {}: {}",
                    i.name(),
                    audit::reason(&e)
                )))
            }
        };
        let go_on = search::scan(reader, filter, &mut scanned, |line, v| {
            match each(line, v) {
                Ok(()) => true,
                Err(e) => {
                    err = Some(e);
                    false
                }
            }
        })
        .map_err(|e| Error::Failed(format!("cannot read {}: {}", i.name(), audit::reason(&e))))?;
        if let Some(e) = err.take() {
            return Err(stdout_error(e));
        }
        if !go_on {
            break;
        }
    }
    if scanned.unparseable > 0 {
        eprintln!(
            "prodguard: {} lines are not records and were skipped (run `prodguard audit verify`)",
            scanned.unparseable
        );
    }
    Ok(scanned)
}

fn cmd_search(
    out: &mut impl Write,
    opts: &AuditOptions,
    f: &FilterArgs,
    json: bool,
    files: &[PathBuf],
) -> Status {
    let filter = build_filter(f)?;
    let ins = inputs(opts, files);
    let scanned = scan_all(&ins, &filter, |line, v| {
        if json {
            out.write_all(line)?;
            out.write_all(b"\n")
        } else {
            print_human(out, v)
        }
    })?;
    Ok(if scanned.matched > 0 { 0 } else { 1 })
}

/// One record as a line for people: time, host, user, outcome, rules, command.
fn print_human(out: &mut impl Write, v: &View<'_>) -> std::io::Result<()> {
    let what = v.outcome.as_deref().unwrap_or(&v.event);
    let rules = if v.rules.is_empty() {
        String::new()
    } else {
        format!(" [{}]", v.rules.join(","))
    };
    let text = v
        .command
        .as_deref()
        .or(v.detail.as_deref())
        .unwrap_or("")
        .replace('\n', "\\n");
    let mut exit = v
        .exit_status
        .map(|s| format!(" exit={s}"))
        .unwrap_or_default();
    if let Some(n) = v.commands {
        exit.push_str(&format!(" commands={n}"));
    }
    match (v.loaded, v.integration.as_deref()) {
        (Some(false), _) | (None, Some("none")) => exit.push_str(" integration=not-loaded"),
        _ => {}
    }
    writeln!(
        out,
        "{}  {}  {}  {what}{exit}{rules}  {text}",
        v.time, v.host, v.user
    )
}

fn cmd_stats(
    out: &mut impl Write,
    opts: &AuditOptions,
    f: &FilterArgs,
    json: bool,
    files: &[PathBuf],
) -> Status {
    let filter = build_filter(f)?;
    let ins = inputs(opts, files);
    let mut st = Stats::default();
    scan_all(&ins, &filter, |_, v| {
        st.add(v);
        Ok(())
    })?;
    if json {
        serde_json::to_writer(&mut *out, &st).map_err(failed)?;
        writeln!(out).map_err(stdout_error)?;
        return Ok(0);
    }
    writeln!(
        out,
        "{} records{}",
        st.records,
        match (&st.first, &st.last) {
            (Some(a), Some(b)) => format!(", {a} – {b}"),
            _ => String::new(),
        }
    )
    .map_err(stdout_error)?;
    for (title, map) in [
        ("outcome", &st.by_outcome),
        ("event", &st.by_event),
        ("rule", &st.by_rule),
        ("user", &st.by_user),
        ("host", &st.by_host),
    ] {
        if map.is_empty() {
            continue;
        }
        writeln!(out, "\nby {title}:").map_err(stdout_error)?;
        let mut rows: Vec<(&String, &u64)> = map.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, n) in rows {
            writeln!(out, "  {k:<width$}  {n:>8}").map_err(stdout_error)?;
        }
    }
    Ok(0)
}

fn cmd_tail(
    out: &mut impl Write,
    opts: &AuditOptions,
    follow: bool,
    n: usize,
    json: bool,
    file: Option<&Path>,
) -> Status {
    let path = match file {
        Some(p) => p.to_path_buf(),
        None => audit::audit_file_path(opts.audit_file.as_deref(), &opts.host),
    };
    let cannot = |e: std::io::Error| {
        Error::Failed(format!(
            "cannot read {}: {}",
            path.display(),
            audit::reason(&e)
        ))
    };
    let f = std::fs::File::open(&path).map_err(cannot)?;
    let show = |out: &mut dyn Write, line: &[u8]| -> std::io::Result<()> {
        if json {
            out.write_all(line)?;
            return out.write_all(b"\n");
        }
        match serde_json::from_slice::<View<'_>>(line) {
            Ok(v) => print_human_dyn(out, &v),
            Err(_) => writeln!(out, "(not a record: {})", String::from_utf8_lossy(line)),
        }
    };
    for line in search::last_lines(&f, n).map_err(cannot)? {
        show(out, &line).map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    if follow {
        let mut failure = None;
        search::follow(&path, |line| {
            match show(out, line).and_then(|()| out.flush()) {
                Ok(()) => true,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        })
        .map_err(cannot)?;
        if let Some(e) = failure {
            return Err(stdout_error(e));
        }
    }
    Ok(0)
}

fn print_human_dyn(out: &mut dyn Write, v: &View<'_>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    print_human(&mut buf, v)?;
    out.write_all(&buf)
}
