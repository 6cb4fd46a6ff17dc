//! The command-line programs prodguard reads, one [`ClientSpec`] each: which options take a
//! value, their short and long spellings and canonical names, which option carries the payload
//! (the SQL or command a database client sends), which name the host, port, database, user or
//! socket, which carry secrets, and which subcommands the program has.
//!
//! One table serves every layer that reads a command line: `shell` splits arguments into flags
//! and operands with it, `sql` finds the payload and the database in a client's arguments,
//! `session` finds where an interactive client is connected, and `policy` checks the flag names
//! and subcommands a rule names against it. When the layers kept their own lists they drifted
//! apart (`redis-cli -s /run/redis.sock` read the socket path as a command), so this module sits
//! below all of them and holds no logic beyond reading a table.

mod subcommands;
mod tables;

pub(crate) use tables::{
    is_generic, spec_for, CLICKHOUSE, COMPOSE, CONSUL, CQLSH, CURL, ETCDCTL, INFLUX1, INFLUX2,
    MONGO, MYSQL, MYSQLADMIN, PG_ADMIN, PSQL, REDIS, SQLITE3,
};

use std::collections::BTreeSet;

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value {
    /// A flag.
    No,
    /// A value, attached (`-nprod`, `--ns=prod`) or in the next word.
    Req,
    /// A value only when attached (`mysql -pSECRET`, `--dry-run=server`).
    Opt,
}

/// What an option's value is to the program, where prodguard needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The text the client sends (`psql -c`, `mysql -e`, `mongosh --eval`).
    Payload,
    /// A file whose text the client sends (`psql -f`, `cqlsh -f`, `sqlite3 -init`).
    PayloadFile,
    /// The server's host name (or, for psql, a socket directory).
    Host,
    Port,
    /// The database, keyspace or database number.
    Database,
    User,
    /// A Unix socket path.
    Socket,
}

/// Short spellings: (letter, canonical name, value).
pub(crate) type Short = &'static [(char, &'static str, Value)];
/// Long spellings: (name as written, canonical name, value).
pub(crate) type Long = &'static [(&'static str, &'static str, Value)];

/// The option table of one program.
#[derive(Debug)]
pub(crate) struct ClientSpec {
    pub short: Short,
    pub long: Long,
    /// Long options take one dash (`terraform -auto-approve`, `find -name`, `sqlite3 -cmd`).
    pub single_dash_long: bool,
    /// Options stop at the first operand (`redis-cli SET k -1` keeps `-1` as an argument).
    pub stop_at_positional: bool,
    /// What the value of an option is, by canonical name.
    pub roles: &'static [(&'static str, Role)],
    /// Options whose value is a secret (a password, a token, a URI or `user:password` that may
    /// hold one), by canonical name: never to be shown or recorded as written.
    pub secret: &'static [&'static str],
    /// The program's subcommands (its first operand), when it has a fixed set; empty when it
    /// has none or the set is open.
    pub subcommands: &'static [&'static str],
    /// The options this program shares with others of its family (the MySQL connection
    /// options of `mysql` and `mysqladmin`), read after its own; one level, a base has none.
    pub base: Option<&'static ClientSpec>,
}

/// A table without roles, secrets or subcommands.
pub(crate) const fn spec(short: Short, long: Long) -> ClientSpec {
    ClientSpec {
        short,
        long,
        single_dash_long: false,
        stop_at_positional: false,
        roles: &[],
        secret: &[],
        subcommands: &[],
        base: None,
    }
}

impl ClientSpec {
    /// The canonical name and value of short option `c`, if listed.
    pub fn short_opt(&self, c: char) -> Option<(&'static str, Value)> {
        self.short
            .iter()
            .find(|(s, _, _)| *s == c)
            .map(|(_, n, v)| (*n, *v))
            .or_else(|| self.base.and_then(|b| b.short_opt(c)))
    }

    /// The canonical name and value of long option `name` (without dashes), if listed.
    pub fn long_opt(&self, name: &str) -> Option<(&'static str, Value)> {
        self.long
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, c, v)| (*c, *v))
            .or_else(|| self.base.and_then(|b| b.long_opt(name)))
    }

    /// The role of the option with canonical name `name`.
    pub fn role(&self, name: &str) -> Option<Role> {
        self.roles
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .or_else(|| self.base.and_then(|b| b.role(name)))
    }

    /// Whether the option with canonical name `name` carries a secret.
    pub fn is_secret(&self, name: &str) -> bool {
        self.secret.contains(&name) || self.base.is_some_and(|b| b.is_secret(name))
    }

    /// This table and its base, own first.
    pub fn layers(&self) -> impl Iterator<Item = &ClientSpec> + '_ {
        std::iter::once(self).chain(self.base)
    }

    /// Every canonical option name of the table.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.layers().flat_map(|t| {
            t.short
                .iter()
                .map(|(_, c, _)| *c)
                .chain(t.long.iter().map(|(_, c, _)| *c))
        })
    }
}

/// One command-line argument read by a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// An option by canonical name (its letter or its name as written when the table does not
    /// list it), with its value if it takes one, and the value's role.
    Opt {
        name: String,
        value: Option<&'a str>,
        role: Option<Role>,
    },
    /// A non-option argument.
    Pos(&'a str),
}

/// Read `args` (after the program name) by `spec`, in order. A long option the table does not
/// list is a flag unless its value is attached (`--x=1`); a short one is a flag.
pub(crate) fn getopt<'a>(args: &'a [String], spec: &ClientSpec) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    let mut it = args.iter().map(String::as_str);
    let mut only_pos = false;
    let item = |name: &str, value: Option<&'a str>| Item::Opt {
        role: spec.role(name),
        name: name.to_owned(),
        value,
    };
    while let Some(a) = it.next() {
        if only_pos || a == "-" || !a.starts_with('-') {
            out.push(Item::Pos(a));
            only_pos |= spec.stop_at_positional;
            continue;
        }
        if a == "--" {
            only_pos = true;
            continue;
        }
        let long = a
            .strip_prefix("--")
            .or_else(|| (spec.single_dash_long && a.len() > 2).then(|| &a[1..]));
        if let Some(body) = long {
            let (written, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let (name, kind) = spec.long_opt(written).unwrap_or((written, Value::No));
            let value = match (attached, kind) {
                (Some(v), _) => Some(v),
                (None, Value::Req) => it.next(),
                (None, _) => None,
            };
            out.push(item(name, value));
            continue;
        }
        // A cluster of short options: `-Xqc`, `-cSELECT 1`, `-uroot`, `-psecret`.
        let body = &a[1..];
        for (k, ch) in body.char_indices() {
            let rest = &body[k + ch.len_utf8()..];
            let letter = ch.to_string();
            let (name, kind) = spec.short_opt(ch).unwrap_or((&letter, Value::No));
            match kind {
                Value::No => out.push(item(name, None)),
                Value::Req => {
                    let value = if rest.is_empty() {
                        it.next()
                    } else {
                        Some(rest)
                    };
                    out.push(item(name, value));
                    break;
                }
                Value::Opt => {
                    out.push(item(name, (!rest.is_empty()).then_some(rest)));
                    break;
                }
            }
        }
    }
    out
}

/// The value of the last option named (canonically) one of `names`.
pub(crate) fn opt<'a>(items: &[Item<'a>], names: &[&str]) -> Option<&'a str> {
    items.iter().rev().find_map(|a| match a {
        Item::Opt { name, value, .. } if names.contains(&name.as_str()) => *value,
        _ => None,
    })
}

/// The value of the last option with role `role`.
pub(crate) fn by_role<'a>(items: &[Item<'a>], role: Role) -> Option<&'a str> {
    items.iter().rev().find_map(|a| match a {
        Item::Opt {
            role: Some(r),
            value,
            ..
        } if *r == role => *value,
        _ => None,
    })
}

/// Whether an option named (canonically) one of `names` is given.
pub(crate) fn has(items: &[Item<'_>], names: &[&str]) -> bool {
    items
        .iter()
        .any(|a| matches!(a, Item::Opt { name, .. } if names.contains(&name.as_str())))
}

/// The non-option arguments, in order.
pub(crate) fn positionals<'a>(items: &[Item<'a>]) -> Vec<&'a str> {
    items
        .iter()
        .filter_map(|a| match a {
            Item::Pos(p) => Some(*p),
            Item::Opt { .. } => None,
        })
        .collect()
}

/// Whether option `name` (canonical, as the shell layer reports it in
/// [`crate::shell::Invocation::options`]) of `program` carries a secret: its value is never to
/// be shown or recorded as written.
pub fn secret_option(program: &str, name: &str) -> bool {
    spec_for(program).is_secret(name)
}

// ---------------------------------------------------------------------------------------------
// What a rule may name

/// What a flag name in a rule (`flags = ["recursive"]`) means for one program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleFlag {
    /// A name the shell layer can report for this program.
    Known,
    /// A spelling reported under another name (`r` is `recursive` for rm): a rule naming it
    /// never matches.
    Alias(&'static str),
    /// Not in the program's table.
    Unknown,
}

/// The tables `program`'s arguments may be read with, or `None` when it has none (then any
/// flag name may be right).
fn tables_for(program: &str) -> Option<Vec<&'static ClientSpec>> {
    let spec = spec_for(program);
    if is_generic(spec) {
        return None;
    }
    let mut v = vec![spec];
    if matches!(program, "docker" | "podman" | "nerdctl") {
        v.push(&COMPOSE);
    }
    Some(v)
}

/// Flag names reported for `program` beyond its table (`--help` and `--version`, which nearly
/// every program has).
fn implied_names(program: &str) -> &'static [&'static str] {
    if matches!(program, "kill" | "pkill" | "killall") {
        &["help", "version", "signal"]
    } else {
        &["help", "version"]
    }
}

/// The flag names a rule can match for `program` (canonical names), or `None` when the program
/// has no option table.
pub(crate) fn rule_flag_names(program: &str) -> Option<BTreeSet<&'static str>> {
    let tables = tables_for(program)?;
    let mut names: BTreeSet<&'static str> = implied_names(program).iter().copied().collect();
    for t in tables {
        names.extend(t.names());
    }
    Some(names)
}

/// What the rule flag `name` (without dashes) means for `program`; `None` when the program has
/// no option table. A one-letter name that is not in the table is [`RuleFlag::Known`]: a short
/// option the table does not list is reported by its letter.
pub(crate) fn rule_flag(program: &str, name: &str) -> Option<RuleFlag> {
    let tables = tables_for(program)?;
    let names = rule_flag_names(program)?;
    if names.contains(name) {
        return Some(RuleFlag::Known);
    }
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let canon = tables.iter().find_map(|t| t.short_opt(c).map(|(n, _)| n));
        return Some(canon.map_or(RuleFlag::Known, RuleFlag::Alias));
    }
    let canon = tables.iter().find_map(|t| t.long_opt(name).map(|(c, _)| c));
    Some(canon.map_or(RuleFlag::Unknown, RuleFlag::Alias))
}

/// The subcommands a rule can name for `program` (its first operand), or `None` when the
/// program has no fixed set (then any word may be right).
pub(crate) fn rule_subcommands(program: &str) -> Option<BTreeSet<&'static str>> {
    let words = spec_for(program).subcommands;
    if words.is_empty() {
        return None;
    }
    let mut names: BTreeSet<&'static str> = words.iter().copied().collect();
    names.insert("help");
    Some(names)
}

#[cfg(test)]
mod tests;
