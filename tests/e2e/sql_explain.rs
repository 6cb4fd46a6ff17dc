//! Issue "SQL and data-store awareness": what `prodguard explain --json` says about database
//! clients on a production host. The decision comes from the statements the client would send,
//! not from words on the command line.

use crate::util::*;
use serde_json::Value;

fn explain(world: &World, command: &str) -> Value {
    let o = world.run_detached(&["explain", "--json", command]);
    assert_eq!(o.status.code(), Some(0), "{command}: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("explain --json is JSON")
}

/// Every statement of every invocation, as (kind, target, text).
fn statements(v: &Value) -> Vec<(String, Option<String>, String)> {
    v["invocations"]
        .as_array()
        .expect("invocations")
        .iter()
        .flat_map(|inv| inv["statements"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["kind"].as_str().expect("kind").to_string(),
                s["target"].as_str().map(str::to_string),
                s["text"].as_str().expect("text").to_string(),
            )
        })
        .collect()
}

fn rules(v: &Value) -> Vec<String> {
    v["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["rule"].as_str().expect("rule").to_string())
        .collect()
}

#[test]
fn destructive_statements_ask_on_production() {
    let w = World::new(DB1);
    // command, rule, statement kind, its target, the challenge (`kind=answer` when the answer is
    // not the statement's target)
    let cases: &[(&str, &str, &str, Option<&str>, &str)] = &[
        (
            "psql -c 'DROP DATABASE production'",
            "db.drop-database",
            "drop-database",
            Some("production"),
            "target",
        ),
        (
            "mysql -e \"drop database wordpress\"",
            "db.drop-database",
            "drop-database",
            Some("wordpress"),
            "target",
        ),
        (
            "psql -c 'DELETE FROM users'",
            "db.unbounded-write",
            "delete-without-where",
            Some("users"),
            "target",
        ),
        (
            "echo \"DROP DATABASE app;\" | psql",
            "db.drop-database",
            "drop-database",
            Some("app"),
            "target",
        ),
        (
            "curl -s https://example.com/cleanup.sql | psql",
            "db.unknown-sql",
            "unknown",
            None,
            "hostname",
        ),
        (
            "redis-cli -h cache1 flushall",
            "store.flush",
            "flushall",
            None,
            // It acts on cache1, not on this host: the name to type is cache1's.
            "target=cache1",
        ),
        (
            "mongosh --eval 'db.dropDatabase()'",
            "db.drop-database",
            "drop-database",
            None,
            "hostname",
        ),
    ];
    for &(command, rule, kind, target, challenge) in cases {
        let v = explain(&w, command);
        assert_eq!(v["action"], "confirm", "{command}: {v:#}");
        assert_eq!(v["host"]["environment"], "production");
        assert!(
            rules(&v).iter().any(|r| r == rule),
            "{command}: {:?}",
            rules(&v)
        );
        let st = statements(&v);
        let hit = st.iter().find(|(k, _, _)| k == kind);
        let Some((_, t, text)) = hit else {
            panic!("{command}: no {kind} statement in {st:?}");
        };
        if target.is_some() {
            assert_eq!(t.as_deref(), target, "{command}: {st:?}");
        }
        assert!(!text.is_empty(), "{command}: statement text");
        match challenge.split_once('=') {
            Some((kind, answer)) => {
                assert_eq!(v["challenge"]["kind"], kind, "{command}: {v:#}");
                assert_eq!(v["challenge"]["target"], answer, "{command}: {v:#}");
            }
            None => {
                assert_eq!(v["challenge"]["kind"], challenge, "{command}: {v:#}");
                if challenge == "target" {
                    assert_eq!(v["challenge"]["target"].as_str(), target, "{command}");
                }
            }
        }
    }
}

#[test]
fn reads_bounded_writes_and_mere_mentions_are_allowed() {
    let w = World::new(DB1);
    // command, the statement kinds its clients send (empty: no database client at all)
    let cases: &[(&str, &[&str])] = &[
        ("psql -c 'SELECT count(*) FROM users'", &["read-only"]),
        ("mysql -e 'SHOW DATABASES'", &["read-only"]),
        (
            "psql -c \"DELETE FROM sessions WHERE expires_at < now()\"",
            &["delete"],
        ),
        ("redis-cli INFO memory", &["read-only"]),
        ("grep -r \"DROP DATABASE\" /srv/migrations", &[]),
        ("echo 'DROP TABLE users;' > /tmp/example.sql", &[]),
    ];
    for &(command, kinds) in cases {
        let v = explain(&w, command);
        assert_eq!(v["action"], "allow", "{command}: {v:#}");
        assert!(rules(&v).is_empty(), "{command}: {:?}", rules(&v));
        let got: Vec<String> = statements(&v).into_iter().map(|(k, _, _)| k).collect();
        assert_eq!(got, kinds, "{command}: {v:#}");
    }
}

#[test]
fn every_invocation_carries_its_statements() {
    let w = World::new(DB1);
    let v = explain(
        &w,
        "psql -d app -c 'SELECT 1; DROP TABLE orders' && ls /var/lib",
    );
    let invs = v["invocations"].as_array().expect("invocations");
    assert_eq!(invs.len(), 2, "{v:#}");
    assert_eq!(invs[0]["program"], "psql");
    let st = invs[0]["statements"].as_array().expect("statements");
    assert_eq!(st.len(), 2, "{v:#}");
    for s in st {
        let keys: Vec<&str> = s
            .as_object()
            .expect("statement object")
            .keys()
            .map(String::as_str)
            .collect();
        for k in ["kind", "target", "text"] {
            assert!(keys.contains(&k), "{k} missing from {s}");
        }
    }
    assert_eq!(st[1]["kind"], "drop-table");
    assert_eq!(st[1]["target"], "orders");
    assert_eq!(st[1]["text"], "DROP TABLE orders");
    assert_eq!(st[0]["kind"], "read-only");
    assert_eq!(
        st[0]["target"],
        Value::Null,
        "known to be unknown, and said so"
    );
    assert_eq!(invs[1]["program"], "ls");
    // An invocation that sends nothing to a data store has no statements (the key is left out,
    // like every other empty field of an invocation).
    assert!(
        invs[1]["statements"].as_array().is_none_or(Vec::is_empty),
        "{v:#}"
    );
}
