//! Which text a SQL client sends, from its arguments, stdin and files.
//!
//! Options are read with the client's table in [`crate::clients`]: it knows which options take a
//! value (so that a value is never mistaken for a database name or a query), which carry the
//! payload and which name the database; every other option is a flag. Where a client reads no payload and has no stdin text, it is an interactive
//! session and nothing is returned — unless its stdin is a pipe or file whose text cannot be known
//! (`ClientCall::stdin_unknown`), which yields one `unknown` statement.

use super::classify;
use super::scan::Flavor;
use super::{ClientCall, Statement, MAX_FILE};
use crate::clients::{self, by_role, getopt, has, opt, positionals, Item, Role};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `path` resolved against `cwd`.
pub(crate) fn resolve(cwd: &str, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(cwd).join(p)
    }
}

/// The text of a payload file, or an `unknown` statement saying why it cannot be had.
/// Only regular files the real user may read are read (a FIFO or a device would block or be
/// consumed), at most [`MAX_FILE`] bytes; the second value is set when the file was longer.
pub(crate) fn read_payload(cwd: &str, path: &str) -> Result<(String, bool), Box<Statement>> {
    let full = resolve(cwd, path);
    let shown = full.display().to_string();
    let fail = |why: String| {
        Box::new(
            Statement::new("unknown", Some(shown.clone()), &format!("< {shown}")).with_note(why),
        )
    };
    let meta = std::fs::metadata(&full).map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(fail(format!("{shown} is not a regular file; not read")));
    }
    nix::unistd::access(&full, nix::unistd::AccessFlags::R_OK)
        .map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
    let file = std::fs::File::open(&full).map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
    let mut buf = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
    let truncated = buf.len() as u64 > MAX_FILE;
    buf.truncate(MAX_FILE as usize);
    Ok((String::from_utf8_lossy(&buf).into_owned(), truncated))
}

/// Where a payload comes from.
pub(crate) enum Source<'a> {
    /// Text given on the command line or as stdin text.
    Text(&'a str),
    /// A file (`-f FILE`, `< FILE`), relative to the working directory.
    File(&'a str),
    /// A statement decided from the arguments alone.
    Done(Statement),
}

/// Stdin as a payload source, if there is any: its text, its file, or an `unknown` statement
/// when it carries text that cannot be known.
pub(crate) fn stdin_source<'a>(call: &ClientCall<'a>) -> Option<Source<'a>> {
    call.stdin
        .map(Source::Text)
        .or_else(|| call.stdin_file.map(Source::File))
        .or_else(|| {
            call.stdin_unknown.then(|| {
                Source::Done(
                    Statement::new("unknown", None, "(standard input)")
                        .with_note("reads what arrives on stdin, which cannot be known beforehand"),
                )
            })
        })
}

/// Classify every source in order with `f`, reading files.
pub(crate) fn run_sources(
    call: &ClientCall<'_>,
    sources: Vec<Source<'_>>,
    mut f: impl FnMut(&str, &mut Vec<Statement>),
) -> Vec<Statement> {
    let mut out = Vec::new();
    for s in sources {
        match s {
            Source::Text(t) => f(t, &mut out),
            Source::Done(st) => out.push(st),
            Source::File(p) => match read_payload(call.cwd, p) {
                Ok((text, truncated)) => {
                    f(&text, &mut out);
                    if truncated {
                        let shown = resolve(call.cwd, p).display().to_string();
                        out.push(
                            Statement::new("unknown", Some(shown.clone()), &format!("< {shown}"))
                                .with_note(format!(
                                    "{shown} is larger than {MAX_FILE} bytes; only the start was classified"
                                )),
                        );
                    }
                }
                Err(st) => out.push(*st),
            },
        }
    }
    out
}

fn sql_sources(
    call: &ClientCall<'_>,
    flavor: Flavor,
    sources: Vec<Source<'_>>,
    db: Option<&str>,
) -> Vec<Statement> {
    let mut out = run_sources(call, sources, |t, out| classify::payload(t, flavor, out));
    if let Some(db) = db {
        for st in &mut out {
            st.database.get_or_insert_with(|| db.to_owned());
        }
    }
    out
}

/// Dispatch for SQL clients and their admin tools; empty for any other program.
pub(crate) fn sql_client(call: &ClientCall<'_>) -> Vec<Statement> {
    match call.program {
        "psql" => psql(call),
        "mysql" | "mariadb" => mysql(call),
        "mysqladmin" | "mariadb-admin" => mysqladmin(call),
        "dropdb" => dropdb(call),
        "pg_dropcluster" => pg_dropcluster(call),
        "sqlite3" => sqlite3(call),
        "clickhouse-client" | "clickhouse-local" => clickhouse(call, call.args),
        "clickhouse" => match call.args.first().map(String::as_str) {
            Some("client" | "local") => clickhouse(call, &call.args[1..]),
            _ => Vec::new(),
        },
        "cqlsh" => cqlsh(call),
        "influx" => influx(call),
        _ => Vec::new(),
    }
}

fn psql(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::PSQL);
    let pos = positionals(&args);
    let db = by_role(&args, Role::Database).or(pos.first().copied());
    let mut sources = Vec::new();
    for a in &args {
        match a {
            Item::Opt {
                role: Some(Role::Payload),
                value,
                ..
            } => match value {
                Some(v) => sources.push(Source::Text(v)),
                None => sources.push(Source::Done(
                    Statement::new("unknown", None, "psql -c").with_note("-c without a command"),
                )),
            },
            Item::Opt {
                role: Some(Role::PayloadFile),
                value,
                ..
            } => match value {
                Some("-") => sources.extend(stdin_source(call)),
                Some(f) => sources.push(Source::File(f)),
                None => sources.push(Source::Done(
                    Statement::new("unknown", None, "psql -f").with_note("-f without a file"),
                )),
            },
            _ => {}
        }
    }
    if sources.is_empty() {
        if has(&args, &["list"]) {
            sources.push(Source::Done(Statement::new("read-only", None, "\\l")));
        } else if let Some(s) = stdin_source(call) {
            sources.push(s);
        }
    }
    sql_sources(call, Flavor::Postgres, sources, db)
}

fn mysql(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::MYSQL);
    let pos = positionals(&args);
    let db = by_role(&args, Role::Database).or(pos.first().copied());
    let mut sources = Vec::new();
    if let Some(init) = opt(&args, &["init-command"]) {
        sources.push(Source::Text(init));
    }
    let mut payload = false;
    for a in &args {
        if let Item::Opt { name, value, .. } = a {
            if name == "execute" {
                payload = true;
                sources.push(match value {
                    Some(v) => Source::Text(v),
                    None => Source::Done(
                        Statement::new("unknown", None, "mysql -e").with_note("-e without SQL"),
                    ),
                });
            }
        }
    }
    if !payload {
        sources.extend(stdin_source(call));
    }
    sql_sources(call, Flavor::MySql, sources, db)
}

fn mysqladmin(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::MYSQLADMIN);
    let pos = positionals(&args);
    let mut out = Vec::new();
    let mut k = 0;
    while k < pos.len() {
        let cmd = pos[k].to_ascii_lowercase();
        let arg = pos.get(k + 1).copied();
        let (kind, target, takes_arg): (&'static str, Option<String>, bool) = match cmd.as_str() {
            "drop" => ("drop-database", arg.map(str::to_owned), true),
            "create" => ("create", arg.map(str::to_owned), true),
            "shutdown" => ("shutdown", None, false),
            "password" | "old-password" => ("alter-role", None, true),
            "kill" => ("write", arg.map(str::to_owned), true),
            "status" | "extended-status" | "processlist" | "ping" | "variables" | "version"
            | "debug" => ("read-only", None, false),
            c if c.starts_with("flush") || c.starts_with("start-") || c.starts_with("stop-") => {
                ("write", None, false)
            }
            "refresh" | "reload" => ("write", None, false),
            _ => ("unknown", None, false),
        };
        // Never keep a new password in the text.
        let text = match (kind, takes_arg, arg) {
            ("alter-role", _, _) => format!("{cmd} ****"),
            (_, true, Some(a)) => format!("{cmd} {a}"),
            _ => cmd.clone(),
        };
        out.push(Statement::new(kind, target, &text));
        k += if takes_arg { 2 } else { 1 };
    }
    out
}

fn dropdb(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::PG_ADMIN);
    let pos = positionals(&args);
    let target = pos.first().map(|s| (*s).to_owned());
    let text = format!("dropdb {}", call.args.join(" "));
    vec![Statement::new("drop-database", target, text.trim())]
}

fn pg_dropcluster(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, clients::spec_for("pg_dropcluster"));
    let pos = positionals(&args);
    let target = match pos.as_slice() {
        [ver, name, ..] => Some(format!("{ver}/{name}")),
        [ver] => Some((*ver).to_owned()),
        [] => None,
    };
    let text = format!("pg_dropcluster {}", call.args.join(" "));
    vec![Statement::new("drop-cluster", target, text.trim())]
}

fn sqlite3(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::SQLITE3);
    let pos = positionals(&args);
    let db = pos.first().copied();
    let mut sources = payload_sources(&args);
    if pos.len() > 1 {
        sources.extend(pos[1..].iter().map(|s| Source::Text(s)));
    } else {
        sources.extend(stdin_source(call));
    }
    sql_sources(call, Flavor::Sqlite, sources, db)
}

fn clickhouse(call: &ClientCall<'_>, argv: &[String]) -> Vec<Statement> {
    let args = getopt(argv, &clients::CLICKHOUSE);
    let db = by_role(&args, Role::Database);
    let mut sources = payload_sources(&args);
    if sources.is_empty() {
        sources.extend(stdin_source(call));
    }
    sql_sources(call, Flavor::ClickHouse, sources, db)
}

/// The texts and files given in options that carry the payload, in order.
pub(crate) fn payload_sources<'a>(args: &[Item<'a>]) -> Vec<Source<'a>> {
    args.iter()
        .filter_map(|a| match a {
            Item::Opt {
                role: Some(Role::Payload),
                value: Some(v),
                ..
            } => Some(Source::Text(v)),
            Item::Opt {
                role: Some(Role::PayloadFile),
                value: Some(v),
                ..
            } => Some(Source::File(v)),
            _ => None,
        })
        .collect()
}

fn cqlsh(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::CQLSH);
    let db = by_role(&args, Role::Database);
    let mut sources = payload_sources(&args);
    if sources.is_empty() {
        sources.extend(stdin_source(call));
    }
    sql_sources(call, Flavor::Generic, sources, db)
}

fn influx(call: &ClientCall<'_>) -> Vec<Statement> {
    // InfluxDB 2.x: `influx bucket delete --name X`, `influx delete --bucket X --predicate …`.
    let args2 = getopt(call.args, &clients::INFLUX2);
    let pos2 = positionals(&args2);
    let text = format!("influx {}", call.args.join(" "));
    match pos2.as_slice() {
        ["bucket", "delete", ..] => {
            let target = opt(&args2, &["name", "id"]).map(str::to_owned);
            return vec![Statement::new("drop-database", target, &text)];
        }
        ["delete", ..] => {
            let target = opt(&args2, &["bucket", "bucket-id"]).map(str::to_owned);
            let kind = match opt(&args2, &["predicate"]) {
                Some(p) if !p.trim().is_empty() => "delete",
                _ => "delete-without-where",
            };
            return vec![Statement::new(kind, target, &text)];
        }
        _ => {}
    }
    // InfluxDB 1.x: `influx -database db -execute 'InfluxQL'`.
    let args = getopt(call.args, &clients::INFLUX1);
    let db = opt(&args, &["database"]);
    let mut sources: Vec<Source<'_>> = Vec::new();
    if let Some(q) = opt(&args, &["execute"]) {
        sources.push(Source::Text(q));
    } else if has(&args, &["import"]) {
        if let Some(p) = opt(&args, &["path"]) {
            sources.push(Source::File(p));
        }
    } else if pos2.is_empty() {
        sources.extend(stdin_source(call));
    }
    sql_sources(call, Flavor::Generic, sources, db)
}
