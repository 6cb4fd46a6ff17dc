//! What the session knows about each interactive client: how to switch off its own line editor
//! (so that every keystroke goes through prodguard's), how its input splits into statements,
//! and where it is connected, from its arguments (read with the client's table in
//! [`crate::clients`]) and environment.

use crate::clients::{self, by_role, getopt, positionals, Role};
use std::fmt;

/// The clients a session can guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `psql`: run with `-n` (no readline) and an empty `PROMPT2`; input splits at `;`, `\g`
    /// and meta-commands.
    Postgres,
    /// `redis-cli`, `valkey-cli`, `keydb-cli`: run with `TERM=dumb`, which makes linenoise read
    /// plain lines; every line is one command.
    Redis,
}

/// Where the client is connected, as far as its arguments and environment say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Host name or socket directory.
    pub host: Option<String>,
    pub port: Option<String>,
    /// Database name (PostgreSQL) or number (Redis).
    pub database: Option<String>,
    pub user: Option<String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "database {}",
            self.database.as_deref().unwrap_or("(default)")
        )?;
        let host = self.host.as_deref().unwrap_or("localhost");
        match &self.port {
            Some(p) => write!(f, " on {host} port {p}")?,
            None => write!(f, " on {host}")?,
        }
        if let Some(u) = &self.user {
            write!(f, " as {u}")?;
        }
        Ok(())
    }
}

/// A client ready to be started in a session.
#[derive(Debug, Clone)]
pub struct Client {
    /// Program basename (`psql`).
    pub program: String,
    pub family: Family,
    /// The command to run: the user's, with the options that switch the client's own line
    /// editor off.
    pub argv: Vec<String>,
    /// Environment overrides for the client.
    pub env: Vec<(String, String)>,
    pub target: Target,
}

/// The family of `program` (a basename), if a session can guard it.
pub fn family(program: &str) -> Option<Family> {
    match program {
        "psql" => Some(Family::Postgres),
        "redis-cli" | "valkey-cli" | "keydb-cli" => Some(Family::Redis),
        _ => None,
    }
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Why a command cannot become a guarded session.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("no client command given")]
    NoCommand,
    #[error("{0} is not an interactive client prodguard can guard statement by statement (psql, redis-cli, valkey-cli, keydb-cli); run it as `prodguard -- {0} …`")]
    NotAClient(String),
}

/// Prepare `argv` (the user's client command) for a session, reading the connection target
/// from its arguments and from `env` (the environment the client will see).
pub fn prepare(
    argv: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Client, PrepareError> {
    let Some((first, args)) = argv.split_first() else {
        return Err(PrepareError::NoCommand);
    };
    let program = basename(first).to_owned();
    let Some(fam) = family(&program) else {
        return Err(PrepareError::NotAClient(program));
    };
    let mut full = vec![first.clone()];
    let mut extra_env = Vec::new();
    let target = match fam {
        Family::Postgres => {
            full.extend(["-n".to_owned(), "-v".to_owned(), "PROMPT2=".to_owned()]);
            let items = getopt(args, &clients::PSQL);
            let pos = positionals(&items);
            let user = by_role(&items, Role::User)
                .or(pos.get(1).copied())
                .map(str::to_owned)
                .or_else(|| env("PGUSER"))
                .or_else(|| env("USER"));
            Target {
                host: by_role(&items, Role::Host)
                    .map(str::to_owned)
                    .or_else(|| env("PGHOST")),
                port: by_role(&items, Role::Port)
                    .map(str::to_owned)
                    .or_else(|| env("PGPORT")),
                database: by_role(&items, Role::Database)
                    .or(pos.first().copied())
                    .map(str::to_owned)
                    .or_else(|| env("PGDATABASE"))
                    .or_else(|| user.clone()),
                user,
            }
        }
        Family::Redis => {
            extra_env.push(("TERM".to_owned(), "dumb".to_owned()));
            let items = getopt(args, &clients::REDIS);
            let value = |role| by_role(&items, role).map(str::to_owned);
            Target {
                host: value(Role::Socket).or_else(|| value(Role::Host)),
                port: value(Role::Port),
                database: Some(value(Role::Database).unwrap_or_else(|| "0".into())),
                user: value(Role::User),
            }
        }
    };
    full.extend(args.iter().cloned());
    Ok(Client {
        program,
        family: fam,
        argv: full,
        env: extra_env,
        target,
    })
}

impl Client {
    /// After `text` was sent, follow a change of database it makes (`\c db`, `SELECT 2`).
    pub fn follow(&mut self, text: &str) {
        match self.family {
            Family::Postgres => {
                for line in text.lines() {
                    let mut w = line.split_whitespace();
                    if matches!(w.next(), Some("\\c" | "\\connect")) {
                        if let Some(db) = w.next().filter(|d| *d != "-") {
                            self.target.database = Some(db.trim_matches('"').to_owned());
                        }
                    }
                }
            }
            Family::Redis => {
                let mut w = text.split_whitespace();
                if w.next().is_some_and(|c| c.eq_ignore_ascii_case("select")) {
                    if let Some(n) = w.next().filter(|n| n.parse::<u32>().is_ok()) {
                        self.target.database = Some(n.to_owned());
                    }
                }
            }
        }
    }

    /// Whether `text` (complete input already sent) leaves the client reading data lines
    /// rather than statements: psql after `COPY … FROM STDIN` or `\copy … from stdin`.
    pub fn starts_copy_in(&self, text: &str) -> bool {
        if self.family != Family::Postgres {
            return false;
        }
        let upper = text.to_ascii_uppercase();
        let words: Vec<&str> = upper
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\\' || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let Some(start) = words.iter().rposition(|w| *w == "COPY" || *w == "\\COPY") else {
            return false;
        };
        words[start..]
            .windows(2)
            .any(|w| w[0] == "FROM" && matches!(w[1], "STDIN" | "PSTDIN"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn psql_target_from_arguments_and_environment() {
        let env = |k: &str| (k == "PGPORT").then(|| "6543".to_owned());
        let c = prepare(&v(&["psql", "-h", "/tmp/s", "-U", "app", "orders"]), &env).unwrap();
        assert_eq!(c.family, Family::Postgres);
        assert_eq!(c.target.host.as_deref(), Some("/tmp/s"));
        assert_eq!(c.target.port.as_deref(), Some("6543"));
        assert_eq!(c.target.database.as_deref(), Some("orders"));
        assert_eq!(c.target.user.as_deref(), Some("app"));
        assert_eq!(&c.argv[..4], &v(&["psql", "-n", "-v", "PROMPT2="]));
        let c = prepare(&v(&["/usr/bin/psql", "--dbname=x", "-p5433"]), &|_| None).unwrap();
        assert_eq!(c.target.database.as_deref(), Some("x"));
        assert_eq!(c.target.port.as_deref(), Some("5433"));
        assert_eq!(
            c.target.to_string(),
            "database x on localhost port 5433".to_owned()
                + &c.target
                    .user
                    .as_ref()
                    .map(|u| format!(" as {u}"))
                    .unwrap_or_default()
        );
    }

    #[test]
    fn redis_target_and_unsupported_clients() {
        let c = prepare(&v(&["redis-cli", "-p", "7000", "-n", "3"]), &|_| None).unwrap();
        assert_eq!(c.target.port.as_deref(), Some("7000"));
        assert_eq!(c.target.database.as_deref(), Some("3"));
        assert!(c.env.contains(&("TERM".into(), "dumb".into())));
        assert!(prepare(&v(&["bash"]), &|_| None).is_err());
        assert!(prepare(&[], &|_| None).is_err());
    }

    #[test]
    fn redis_socket_is_the_target_host() {
        let c = prepare(
            &v(&["redis-cli", "-s", "/run/redis.sock", "--user", "ops"]),
            &|_| None,
        )
        .unwrap();
        assert_eq!(c.target.host.as_deref(), Some("/run/redis.sock"));
        assert_eq!(c.target.user.as_deref(), Some("ops"));
        assert_eq!(c.target.to_string(), "database 0 on /run/redis.sock as ops");
    }

    #[test]
    fn follows_database_changes_and_copy() {
        let mut c = prepare(&v(&["psql", "a"]), &|_| None).unwrap();
        c.follow("\\c other");
        assert_eq!(c.target.database.as_deref(), Some("other"));
        assert!(c.starts_copy_in("COPY t (a, b) FROM STDIN;"));
        assert!(c.starts_copy_in("\\copy t from stdin"));
        assert!(!c.starts_copy_in("COPY t TO STDOUT;"));
        let mut r = prepare(&v(&["redis-cli"]), &|_| None).unwrap();
        r.follow("select 4");
        assert_eq!(r.target.database.as_deref(), Some("4"));
    }
}
