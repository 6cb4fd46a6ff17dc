//! Non-SQL data stores: redis-cli, mongosh, Elasticsearch/OpenSearch through curl, etcdctl,
//! consul kv.
//!
//! The same [`Statement`] is used with store kinds (see [`super::statement_kinds`]). Commands
//! this module does not recognise are `write` (redis) or `unknown` (scripts), never `read-only`.

use super::clients::{payload_sources, run_sources, stdin_source, Source};
use super::{ClientCall, Statement};
use crate::clients::{self, by_role, getopt, has, opt, positionals, Item, Role};
use regex::Regex;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// redis-cli

/// Redis commands that only read. Anything not listed and not named below is `write`.
const REDIS_READS: &[&str] = &[
    "get",
    "mget",
    "exists",
    "type",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "strlen",
    "getrange",
    "substr",
    "hget",
    "hgetall",
    "hmget",
    "hkeys",
    "hvals",
    "hlen",
    "hexists",
    "hstrlen",
    "hscan",
    "hrandfield",
    "lrange",
    "llen",
    "lindex",
    "lpos",
    "scard",
    "smembers",
    "sismember",
    "smismember",
    "sscan",
    "srandmember",
    "sinter",
    "sunion",
    "sdiff",
    "sintercard",
    "zrange",
    "zrangebyscore",
    "zrangebylex",
    "zrevrange",
    "zrevrangebyscore",
    "zrevrangebylex",
    "zscore",
    "zmscore",
    "zcard",
    "zcount",
    "zlexcount",
    "zrank",
    "zrevrank",
    "zscan",
    "zrandmember",
    "zinter",
    "zunion",
    "zdiff",
    "xrange",
    "xrevrange",
    "xlen",
    "xinfo",
    "xread",
    "xpending",
    "info",
    "ping",
    "echo",
    "dbsize",
    "time",
    "keys",
    "scan",
    "lastsave",
    "role",
    "command",
    "object",
    "dump",
    "randomkey",
    "pfcount",
    "bitcount",
    "bitpos",
    "getbit",
    "geopos",
    "geodist",
    "geohash",
    "geosearch",
    "georadius_ro",
    "georadiusbymember_ro",
    "monitor",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "hello",
    "auth",
    "select",
    "readonly",
    "readwrite",
    "quit",
    "touch",
    "lcs",
    "sort_ro",
    "wait",
    "waitaof",
    "help",
    "json.get",
    "json.mget",
    "json.type",
    "ft.search",
    "ft.info",
    "ft.aggregate",
];

fn redis_command(words: &[String], text: &str) -> Statement {
    let Some(cmd) = words.first() else {
        return Statement::new("read-only", None, text);
    };
    let cmd = cmd.to_ascii_lowercase();
    let sub = words
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let arg1 = words.get(1).cloned();
    let (kind, target): (&'static str, Option<String>) = match cmd.as_str() {
        "flushall" | "flushdb" | "shutdown" => {
            let k = match cmd.as_str() {
                "flushall" => "flushall",
                "flushdb" => "flushdb",
                _ => "shutdown",
            };
            (k, None)
        }
        "del" | "unlink" => {
            let keys = words.get(1..).unwrap_or_default().join(" ");
            let k = if cmd == "del" { "del" } else { "unlink" };
            (k, (!keys.is_empty()).then_some(keys))
        }
        "config" => match sub.as_str() {
            "set" => ("config-set", words.get(2).cloned()),
            "rewrite" => ("config-rewrite", None),
            "get" | "help" => ("read-only", words.get(2).cloned()),
            _ => ("write", None),
        },
        "debug" => ("debug", Some(sub)),
        // O(N) over the whole keyspace, or a synchronous dump: the single-threaded server
        // answers nobody else until it is done.
        "keys" | "save" => ("blocking", arg1),
        "replicaof" | "slaveof" => ("replicaof", (words.len() > 2).then(|| words[1..].join(" "))),
        "acl" => match sub.as_str() {
            "setuser" => ("alter-role", words.get(2).cloned()),
            "deluser" => ("drop-role", words.get(2).cloned()),
            "list" | "users" | "whoami" | "getuser" | "cat" | "log" | "help" | "genpass"
            | "dryrun" => ("read-only", None),
            _ => ("write", None),
        },
        "cluster" => match sub.as_str() {
            "info" | "nodes" | "slots" | "shards" | "myid" | "keyslot" | "countkeysinslot"
            | "getkeysinslot" | "links" | "help" => ("read-only", None),
            _ => ("unknown", Some(format!("cluster {sub}"))),
        },
        "client" => match sub.as_str() {
            "list" | "info" | "getname" | "id" | "help" | "trackinginfo" | "getredir" => {
                ("read-only", None)
            }
            _ => ("write", None),
        },
        "memory" | "latency" | "slowlog" | "module" | "script" | "function" => match sub.as_str() {
            "usage" | "stats" | "doctor" | "help" | "malloc-stats" | "latest" | "history"
            | "graph" | "histogram" | "get" | "len" | "list" | "exists" | "dump"
                if cmd != "module" || sub == "list" =>
            {
                ("read-only", None)
            }
            _ if matches!(cmd.as_str(), "module" | "script" | "function") => {
                ("unknown", Some(format!("{cmd} {sub}")))
            }
            _ => ("write", None),
        },
        // Scripts can do anything the server can.
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => ("unknown", None),
        c if REDIS_READS.contains(&c) => ("read-only", arg1),
        _ => ("write", arg1),
    };
    Statement::new(kind, target, text)
}

/// Split one redis-cli line into words the way redis-cli does (quotes, backslash escapes).
fn redis_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

pub(crate) fn redis(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::REDIS);
    let db = by_role(&args, Role::Database).map(str::to_owned);
    let pos = positionals(&args);
    let mut out = Vec::new();
    if let Some(script) = opt(&args, &["eval"]) {
        out.push(
            Statement::new(
                "unknown",
                Some(script.to_owned()),
                &format!("--eval {script}"),
            )
            .with_note("a Lua script can run any command"),
        );
    } else if has(&args, &["pipe"]) {
        out.push(Statement::new("unknown", None, "--pipe").with_note("raw protocol from stdin"));
    } else if has(&args, &["cluster"]) {
        let sub = pos.first().copied().unwrap_or_default();
        let kind = if matches!(sub, "check" | "info" | "help") {
            "read-only"
        } else {
            "unknown"
        };
        out.push(Statement::new(
            kind,
            None,
            &format!("--cluster {}", pos.join(" ")),
        ));
    } else if !pos.is_empty() {
        let words: Vec<String> = pos.iter().map(|s| (*s).to_owned()).collect();
        out.push(redis_command(&words, &pos.join(" ")));
    } else if let Some(src) = stdin_source(call) {
        out = run_sources(call, vec![src], |text, out| {
            for line in text.lines() {
                let words = redis_words(line);
                if !words.is_empty() {
                    out.push(redis_command(&words, line.trim()));
                }
            }
        });
    } else if has(
        &args,
        &[
            "scan",
            "bigkeys",
            "memkeys",
            "hotkeys",
            "keystats",
            "stat",
            "latency",
            "latency-history",
            "latency-dist",
            "rdb",
            "functions-rdb",
            "intrinsic-latency",
        ],
    ) {
        out.push(Statement::new("read-only", None, "redis-cli"));
    }
    if let Some(db) = db {
        for st in &mut out {
            st.database = Some(db.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// mongosh / mongo

struct MongoRes {
    call: Regex,
    coll: Regex,
    sibling: Regex,
    use_db: Regex,
}

fn mongo_res() -> Option<&'static MongoRes> {
    static RES: OnceLock<Option<MongoRes>> = OnceLock::new();
    RES.get_or_init(|| {
        Some(MongoRes {
            // `.name(` — every method call.
            call: Regex::new(r"\.\s*([A-Za-z_$][A-Za-z0-9_$]*)\s*\(").ok()?,
            // The collection a call chain starts from: `db.users.`, `db.getCollection("users").`,
            // `db["users"].` — anchored at the end of the text before the call.
            coll: Regex::new(
                r#"db\s*(?:\.\s*([A-Za-z_$][A-Za-z0-9_$]*)|\.\s*getCollection\s*\(\s*["']([^"']+)["']\s*\)|\[\s*["']([^"']+)["']\s*\])\s*$"#,
            )
            .ok()?,
            sibling: Regex::new(r#"getSiblingDB\s*\(\s*["']([^"']+)["']\s*\)\s*$"#).ok()?,
            use_db: Regex::new(r"(?m)^\s*use\s+([A-Za-z0-9_.-]+)").ok()?,
        })
    })
    .as_ref()
}

/// Database calls that neither change data nor run arbitrary server-side code.
const MONGO_READS: &[&str] = &[
    "find",
    "findOne",
    "aggregate",
    "count",
    "countDocuments",
    "estimatedDocumentCount",
    "distinct",
    "getCollectionNames",
    "getCollectionInfos",
    "listCollections",
    "getIndexes",
    "stats",
    "dataSize",
    "storageSize",
    "totalSize",
    "explain",
    "serverStatus",
    "hostInfo",
    "version",
    "isMaster",
    "hello",
    "status",
    "conf",
    "printReplicationInfo",
    "printSecondaryReplicationInfo",
    "getName",
    "getDBNames",
    "currentOp",
    "getUsers",
    "getUser",
    "getRoles",
    "getRole",
    "getProfilingStatus",
    "getReplicationInfo",
    "listDatabases",
    "watch",
    "isWritablePrimary",
];

/// Accessors, cursor modifiers and plain JavaScript: recognised, but not statements of their own.
const MONGO_CHAIN: &[&str] = &[
    "getSiblingDB",
    "getCollection",
    "getMongo",
    "getDB",
    "forEach",
    "map",
    "toArray",
    "pretty",
    "limit",
    "skip",
    "sort",
    "project",
    "hint",
    "batchSize",
    "itcount",
    "size",
    "hasNext",
    "next",
    "print",
    "printjson",
    "log",
    "stringify",
    "parse",
    "keys",
    "filter",
    "push",
    "length",
    "toString",
    "tojson",
    "readPref",
    "maxTimeMS",
    "comment",
    "collation",
    "allowDiskUse",
    "ObjectId",
    "ISODate",
    "Date",
    "NumberLong",
    "join",
    "slice",
];

/// The first argument of the call whose `(` ends at `open` is empty: `()` or `({})`.
fn empty_filter(js: &str, open: usize) -> bool {
    let rest = js.get(open..).unwrap_or_default().trim_start();
    if rest.starts_with(')') {
        return true;
    }
    let Some(inner) = rest.strip_prefix('{') else {
        return false;
    };
    let inner = inner.trim_start();
    inner.starts_with('}')
}

/// `text` with `//` and `/* */` comments blanked out (string contents kept).
fn strip_js_comments(js: &str) -> String {
    let b = js.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            out.push(c);
            if c == b'\\' {
                if let Some(&n) = b.get(i + 1) {
                    out.push(n);
                }
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => {
                quote = Some(c);
                out.push(c);
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = js[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                out.extend(std::iter::repeat_n(b' ', end - i));
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mongo_js(js: &str, out: &mut Vec<Statement>) {
    let Some(res) = mongo_res() else {
        out.push(Statement::new("unknown", None, js));
        return;
    };
    let code = strip_js_comments(js);
    let current_db = res
        .use_db
        .captures(&code)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned());
    let before = out.len();
    let mut recognised = false;
    for cap in res.call.captures_iter(&code) {
        let (Some(whole), Some(m)) = (cap.get(0), cap.get(1)) else {
            continue;
        };
        let method = m.as_str();
        if MONGO_CHAIN.contains(&method) {
            recognised = true;
            continue;
        }
        let head = &code[..whole.start()];
        let coll = res.coll.captures(head).and_then(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .or_else(|| c.get(3))
                .map(|m| m.as_str().to_owned())
        });
        // The statement text: from the start of the chain (`db…`) to the end of the call name.
        let chain_start = head.rfind([';', '\n', '{', '(', '>']).map_or(0, |p| p + 1);
        let text = code
            .get(chain_start..whole.end())
            .unwrap_or_default()
            .trim()
            .to_owned();
        let text = if text.is_empty() {
            method.to_owned()
        } else {
            format!("{text}…)")
        };
        let empty = empty_filter(&code, whole.end());
        let (kind, target): (&'static str, Option<String>) = match method {
            "dropDatabase" => {
                let sib = res
                    .sibling
                    .captures(head.trim_end().trim_end_matches('.'))
                    .and_then(|c| c.get(1))
                    .map(|m| m.as_str().to_owned());
                ("drop-database", sib.or_else(|| current_db.clone()))
            }
            "drop" => ("drop-collection", coll),
            "deleteMany" | "remove" if empty => ("delete-without-where", coll),
            "deleteMany" | "remove" | "deleteOne" | "findOneAndDelete" | "findAndModify" => {
                ("delete", coll)
            }
            "updateMany" if empty => ("update-without-where", coll),
            "update" if empty && code[whole.end()..].contains("multi") => {
                ("update-without-where", coll)
            }
            "updateMany" | "updateOne" | "update" | "replaceOne" | "findOneAndUpdate"
            | "findOneAndReplace" | "bulkWrite" => ("update", coll),
            "insert" | "insertOne" | "insertMany" | "save" => ("insert", coll),
            "createCollection" | "createIndex" | "createIndexes" | "createView" | "createUser"
            | "createRole" => ("create", coll),
            "dropIndex" | "dropIndexes" => ("drop-other", coll),
            "dropUser" | "dropAllUsers" | "dropRole" | "dropAllRoles" => ("drop-role", None),
            "updateUser" | "changeUserPassword" | "updateRole" => ("alter-role", None),
            "grantRolesToUser" | "grantPrivilegesToRole" | "grantRolesToRole" => ("grant", None),
            "revokeRolesFromUser" | "revokePrivilegesFromRole" | "revokeRolesFromRole" => {
                ("revoke", None)
            }
            "renameCollection" => ("alter", coll),
            "shutdownServer" => ("shutdown", None),
            "aggregate"
                if code[whole.end()..].contains("$out")
                    || code[whole.end()..].contains("$merge") =>
            {
                ("insert", coll)
            }
            m if MONGO_READS.contains(&m) => ("read-only", coll),
            _ => ("unknown", coll),
        };
        out.push(Statement::new(kind, target, &text));
    }
    // Shell helpers without calls: `show dbs`, `use app`.
    for line in code.lines() {
        let l = line.trim();
        if l.starts_with("show ") || l.starts_with("use ") {
            out.push(Statement::new("read-only", None, l));
        }
    }
    // `db["drop" + "Database"]()`, `eval(…)`: calls this scan cannot name.
    if code.contains("](")
        || code.contains("] (")
        || code.contains("eval(")
        || code.contains("Function(")
    {
        out.push(
            Statement::new("unknown", None, js.trim())
                .with_note("computed method call or eval in the script"),
        );
    }
    if out.len() == before && recognised {
        out.push(Statement::new("read-only", None, js.trim()));
    } else if out.len() == before && !code.trim().is_empty() {
        out.push(
            Statement::new("unknown", None, js.trim())
                .with_note("no recognisable database call in the script"),
        );
    }
}

pub(crate) fn mongo(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::MONGO);
    let mut sources = payload_sources(&args);
    sources.extend(
        positionals(&args)
            .into_iter()
            .filter(|p| p.ends_with(".js"))
            .map(Source::File),
    );
    let has_eval = has(&args, &["eval"]);
    if !has_eval && sources.is_empty() {
        sources.extend(stdin_source(call));
    }
    let db = positionals(&args)
        .into_iter()
        .find(|p| !p.ends_with(".js"))
        .map(|p| {
            // `mongodb://host/app?x` or `host/app` or `app`.
            let after_scheme = p.split_once("://").map_or(p, |(_, r)| r);
            let path = after_scheme.split_once('/').map_or(after_scheme, |(h, r)| {
                if p.contains("://") || h.contains(':') || h.contains('.') {
                    r
                } else {
                    after_scheme
                }
            });
            path.split(['?', '/']).next().unwrap_or_default().to_owned()
        })
        .filter(|d| !d.is_empty());
    let mut out = run_sources(call, sources, mongo_js);
    if let Some(db) = db {
        for st in &mut out {
            if st.kind == "drop-database" && st.target.is_none() {
                st.target = Some(db.clone());
            }
            st.database.get_or_insert_with(|| db.clone());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// curl → Elasticsearch / OpenSearch

/// Whether a URL looks like an Elasticsearch/OpenSearch endpoint: port 9200-9299 or 9243, a
/// host name mentioning elastic/opensearch, or a path using an ES API (`_all`, `_search`,
/// `_delete_by_query`, `_doc`, `_cat`, `_cluster`, …).
fn is_es(host: &str, port: Option<u16>, path: &str) -> bool {
    let port_es = port.is_some_and(|p| (9200..=9299).contains(&p) || p == 9243);
    let host = host.to_ascii_lowercase();
    let host_es = host.contains("elastic") || host.contains("opensearch");
    let path_es = path.split('/').any(|seg| {
        matches!(
            seg.split('?').next().unwrap_or_default(),
            "_all"
                | "_search"
                | "_delete_by_query"
                | "_update_by_query"
                | "_doc"
                | "_cat"
                | "_cluster"
                | "_snapshot"
                | "_index_template"
                | "_data_stream"
                | "_aliases"
                | "_bulk"
                | "_reindex"
                | "_settings"
                | "_mapping"
                | "_close"
                | "_open"
                | "_count"
                | "_nodes"
                | "_ilm"
                | "_security"
        )
    });
    port_es || host_es || path_es
}

fn split_url(url: &str) -> (String, Option<u16>, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.chars().all(|c| c.is_ascii_digit()) => {
            (h.to_owned(), p.parse().ok())
        }
        _ => (hostport.to_owned(), None),
    };
    (host, port, path.to_owned())
}

pub(crate) fn curl(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::CURL);
    let explicit = opt(&args, &["request"]).map(|m| m.to_ascii_uppercase());
    let has_data = has(
        &args,
        &[
            "data",
            "data-raw",
            "data-binary",
            "data-urlencode",
            "json",
            "form",
        ],
    );
    let method = explicit.clone().unwrap_or_else(|| {
        if has(&args, &["upload-file"]) {
            "PUT".to_owned()
        } else if has(&args, &["head"]) {
            "HEAD".to_owned()
        } else if has_data {
            "POST".to_owned()
        } else {
            "GET".to_owned()
        }
    });
    let mut urls: Vec<&str> = positionals(&args);
    urls.extend(args.iter().filter_map(|a| match a {
        Item::Opt {
            name,
            value: Some(v),
            ..
        } if name == "url" => Some(*v),
        _ => None,
    }));
    let mut out = Vec::new();
    for url in urls {
        let (host, port, path) = split_url(url);
        let es = is_es(&host, port, &path);
        let clean_path = path.split('?').next().unwrap_or_default();
        let segs: Vec<&str> = clean_path.split('/').filter(|s| !s.is_empty()).collect();
        let text = format!("{method} {url}");
        let first = segs.first().map(|s| (*s).to_owned());
        let st = match method.as_str() {
            "DELETE" if es => match segs.as_slice() {
                [] => Statement::new("delete-index", Some("_all".to_owned()), &text)
                    .with_note("DELETE on the cluster root"),
                [idx] if !idx.starts_with('_') || *idx == "_all" => {
                    Statement::new("delete-index", first, &text)
                }
                ["_data_stream", name, ..] => {
                    Statement::new("delete-index", Some((*name).to_owned()), &text)
                }
                [idx, "_doc" | "_create", ..] if !idx.starts_with('_') => {
                    Statement::new("delete", first, &text)
                }
                [idx, "_alias" | "_aliases", ..] if !idx.starts_with('_') => {
                    Statement::new("drop-other", first, &text)
                }
                ["_snapshot"
                | "_index_template"
                | "_template"
                | "_ingest"
                | "_ilm"
                | "_security"
                | "_component_template", ..] => {
                    Statement::new("drop-other", Some(clean_path.to_owned()), &text)
                }
                _ => Statement::new("delete-index", first, &text),
            },
            "DELETE" => Statement::new("http-delete", Some(url.to_owned()), &text),
            _ if !es => continue,
            _ if segs.contains(&"_delete_by_query") => {
                let target = segs
                    .first()
                    .filter(|s| !s.starts_with('_'))
                    .map(|s| (*s).to_owned());
                Statement::new("delete-by-query", target.or(Some("_all".to_owned())), &text)
            }
            "GET" | "HEAD" => Statement::new("read-only", first, &text),
            "POST"
                if segs.iter().any(|s| {
                    matches!(
                        *s,
                        "_search"
                            | "_count"
                            | "_msearch"
                            | "_validate"
                            | "_field_caps"
                            | "_mget"
                            | "_explain"
                            | "_analyze"
                            | "_refresh"
                            | "_flush"
                    )
                }) =>
            {
                Statement::new("read-only", first, &text)
            }
            "PUT" if segs.first() == Some(&"_cluster") => {
                Statement::new("config-set", Some(clean_path.to_owned()), &text)
            }
            _ if segs.contains(&"_close") => Statement::new("alter", first, &text),
            _ => Statement::new("write", first, &text),
        };
        out.push(st);
    }
    if out.is_empty() && explicit.as_deref() == Some("DELETE") {
        out.push(Statement::new("http-delete", None, "DELETE").with_note("no URL found"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// etcdctl, consul kv

pub(crate) fn etcdctl(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::ETCDCTL);
    let pos = positionals(&args);
    let text = format!("etcdctl {}", call.args.join(" "));
    let text = text.trim();
    let (kind, target): (&'static str, Option<String>) = match pos.as_slice() {
        ["del", key, ..] | ["rm", key, ..] => {
            if has(&args, &["prefix", "from-key"]) {
                ("delete-prefix", Some((*key).to_owned()))
            } else if pos.len() > 2 {
                ("delete-prefix", Some(format!("{key}..{}", pos[2])))
            } else {
                ("delete", Some((*key).to_owned()))
            }
        }
        ["del"] => ("delete", None),
        ["get", key, ..] => ("read-only", Some((*key).to_owned())),
        ["get"] | ["watch", ..] | ["version"] | ["check", ..] | ["endpoint", ..] => {
            ("read-only", None)
        }
        ["member", "list", ..]
        | ["alarm", "list", ..]
        | ["user", "list" | "get", ..]
        | ["role", "list" | "get", ..]
        | ["lease", "list" | "timetolive", ..]
        | ["snapshot", "save" | "status", ..]
        | ["auth", "status", ..] => ("read-only", None),
        ["user", "delete", name, ..] | ["role", "delete", name, ..] => {
            ("drop-role", Some((*name).to_owned()))
        }
        ["put", key, ..] => ("write", Some((*key).to_owned())),
        ["txn", ..] => ("unknown", None),
        [] => return Vec::new(),
        _ => ("write", None),
    };
    vec![Statement::new(kind, target, text)]
}

pub(crate) fn consul(call: &ClientCall<'_>) -> Vec<Statement> {
    let args = getopt(call.args, &clients::CONSUL);
    let pos = positionals(&args);
    let text = format!("consul {}", call.args.join(" "));
    let text = text.trim();
    let (kind, target): (&'static str, Option<String>) = match pos.as_slice() {
        ["kv", "delete", rest @ ..] => {
            let key = rest.first().map(|k| (*k).to_owned());
            if has(&args, &["recurse"]) {
                ("delete-prefix", key.or(Some(String::new())))
            } else {
                ("delete", key)
            }
        }
        ["kv", "get" | "export", rest @ ..] => ("read-only", rest.first().map(|k| (*k).to_owned())),
        ["kv", "put" | "import", rest @ ..] => ("write", rest.first().map(|k| (*k).to_owned())),
        ["kv", ..] => ("unknown", None),
        _ => return Vec::new(),
    };
    vec![Statement::new(kind, target, text)]
}
