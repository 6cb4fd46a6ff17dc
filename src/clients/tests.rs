use super::*;

fn v(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// The tables of the clients whose payload, connection and secrets are described.
const CLIENTS: &[(&str, &ClientSpec)] = &[
    ("psql", &PSQL),
    ("dropdb", &PG_ADMIN),
    ("mysql", &MYSQL),
    ("mysqladmin", &MYSQLADMIN),
    ("redis-cli", &REDIS),
    ("mongosh", &MONGO),
    ("sqlite3", &SQLITE3),
    ("clickhouse-client", &CLICKHOUSE),
    ("cqlsh", &CQLSH),
    ("influx", &INFLUX1),
    ("influx", &INFLUX2),
    ("curl", &CURL),
    ("etcdctl", &ETCDCTL),
    ("consul", &CONSUL),
];

#[test]
fn roles_and_secrets_name_options_of_their_table() {
    for (program, spec) in CLIENTS {
        let names: BTreeSet<&str> = spec.names().collect();
        for table in spec.layers() {
            for (name, _) in table.roles {
                assert!(names.contains(name), "{program}: role for unknown `{name}`");
            }
            for name in table.secret {
                assert!(names.contains(name), "{program}: secret unknown `{name}`");
            }
        }
    }
}

#[test]
fn no_spelling_is_listed_twice() {
    for program in [
        "rm",
        "kubectl",
        "git",
        "psql",
        "mysql",
        "mysqladmin",
        "redis-cli",
        "mongosh",
        "curl",
        "vault",
        "tar",
    ] {
        let spec = spec_for(program);
        // A spelling of the base is not listed again in the program's own rows.
        let shorts: Vec<char> = spec
            .layers()
            .flat_map(|t| t.short.iter().map(|(c, _, _)| *c))
            .collect();
        let longs: Vec<&str> = spec
            .layers()
            .flat_map(|t| t.long.iter().map(|(n, _, _)| *n))
            .collect();
        assert_eq!(
            shorts.len(),
            shorts.iter().collect::<BTreeSet<_>>().len(),
            "{program}"
        );
        assert_eq!(
            longs.len(),
            longs.iter().collect::<BTreeSet<_>>().len(),
            "{program}"
        );
        let subs: BTreeSet<&str> = spec.subcommands.iter().copied().collect();
        assert_eq!(subs.len(), spec.subcommands.len(), "{program}");
    }
}

#[test]
fn short_and_long_spellings_meet_in_one_canonical_name() {
    // Every client's payload option, whichever way it is spelt, carries the payload role.
    for (program, spelling) in [
        ("psql", "-c"),
        ("psql", "--command"),
        ("mysql", "-e"),
        ("mysql", "--execute"),
        ("mariadb", "-e"),
        ("clickhouse-client", "-q"),
        ("clickhouse-client", "--query"),
        ("cqlsh", "-e"),
        ("mongosh", "--eval"),
        ("sqlite3", "-cmd"),
    ] {
        let args = v(&format!("{spelling} x"));
        let items = getopt(&args, spec_for(program));
        assert_eq!(
            by_role(&items, Role::Payload),
            Some("x"),
            "{program} {spelling}"
        );
        assert!(positionals(&items).is_empty(), "{program} {spelling}");
    }
    for (program, spelling) in [
        ("psql", "-f"),
        ("psql", "--file"),
        ("cqlsh", "-f"),
        ("mongosh", "-f"),
        ("sqlite3", "-init"),
        ("clickhouse-client", "--queries-file"),
        ("redis-cli", "--eval"),
    ] {
        let args = v(&format!("{spelling} x"));
        let items = getopt(&args, spec_for(program));
        assert_eq!(
            by_role(&items, Role::PayloadFile),
            Some("x"),
            "{program} {spelling}"
        );
    }
}

#[test]
fn connection_options_by_role() {
    let args = v("-h db1 -p 5433 -U app -d orders");
    let items = getopt(&args, &PSQL);
    assert_eq!(by_role(&items, Role::Host), Some("db1"));
    assert_eq!(by_role(&items, Role::Port), Some("5433"));
    assert_eq!(by_role(&items, Role::User), Some("app"));
    assert_eq!(by_role(&items, Role::Database), Some("orders"));
    let args = v("--socket=/run/mysqld.sock -uroot -Dshop");
    let items = getopt(&args, &MYSQL);
    assert_eq!(by_role(&items, Role::Socket), Some("/run/mysqld.sock"));
    assert_eq!(by_role(&items, Role::User), Some("root"));
    assert_eq!(by_role(&items, Role::Database), Some("shop"));
}

#[test]
fn redis_socket_is_an_option_not_the_command() {
    let args = v("-s /run/redis.sock -n 2 FLUSHALL");
    let items = getopt(&args, spec_for("redis-cli"));
    assert_eq!(by_role(&items, Role::Socket), Some("/run/redis.sock"));
    assert_eq!(by_role(&items, Role::Database), Some("2"));
    assert_eq!(positionals(&items), ["FLUSHALL"]);
}

#[test]
fn getopt_clusters_values_and_the_end_of_options() {
    let args: Vec<String> = [
        "-Xqc",
        "SELECT 1",
        "--command=x",
        "--command",
        "y",
        "db",
        "--",
        "-z",
    ]
    .map(str::to_owned)
    .to_vec();
    let got = getopt(&args, &PSQL);
    let names: Vec<(&str, Option<&str>)> = got
        .iter()
        .filter_map(|i| match i {
            Item::Opt { name, value, .. } => Some((name.as_str(), *value)),
            Item::Pos(_) => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            ("no-psqlrc", None),
            ("q", None),
            ("command", Some("SELECT 1")),
            ("command", Some("x")),
            ("command", Some("y")),
        ]
    );
    assert_eq!(positionals(&got), ["db", "-z"]);
}

#[test]
fn attached_only_values_and_stopping_at_the_command() {
    // `mysql -p wordpress`: -p asks for the password; wordpress is the database.
    let args = v("-psecret -p wordpress");
    let got = getopt(&args, &MYSQL);
    assert!(matches!(
        &got[0],
        Item::Opt {
            value: Some("secret"),
            ..
        }
    ));
    assert!(matches!(&got[1], Item::Opt { name, value: None, .. } if name == "password"));
    assert_eq!(opt(&got, &["password"]), Some("secret"));
    assert_eq!(positionals(&got), ["wordpress"]);
    // redis-cli stops reading options at the command.
    let args = v("-n 1 SET k -1");
    let got = getopt(&args, &REDIS);
    assert_eq!(positionals(&got), ["SET", "k", "-1"]);
}

#[test]
fn secrets_are_marked() {
    for (program, name) in [
        ("mysql", "password"),
        ("mariadb", "password"),
        ("redis-cli", "pass"),
        ("redis-cli", "uri"),
        ("mongosh", "password"),
        ("cqlsh", "password"),
        ("clickhouse-client", "password"),
        ("curl", "user"),
        ("etcdctl", "password"),
        ("consul", "token"),
    ] {
        assert!(secret_option(program, name), "{program} {name}");
    }
    for (program, name) in [("mysql", "user"), ("psql", "host"), ("rm", "force")] {
        assert!(!secret_option(program, name), "{program} {name}");
    }
}

#[test]
fn rule_names_for_flags_and_subcommands() {
    assert_eq!(rule_flag("rm", "recursive"), Some(RuleFlag::Known));
    assert_eq!(rule_flag("rm", "r"), Some(RuleFlag::Alias("recursive")));
    assert_eq!(rule_flag("rm", "recusive"), Some(RuleFlag::Unknown));
    assert_eq!(rule_flag("mytool", "x"), None);
    assert_eq!(rule_flag("redis-cli", "socket"), Some(RuleFlag::Known));
    let kubectl = rule_subcommands("kubectl").unwrap_or_default();
    assert!(kubectl.contains("delete") && kubectl.contains("drain"));
    assert!(!kubectl.contains("delte"));
    assert!(rule_subcommands("oc").is_some_and(|s| s.contains("adm")));
    assert!(rule_subcommands("terraform").is_some_and(|s| s.contains("state")));
    assert!(rule_subcommands("git").is_some_and(|s| s.contains("push")));
    assert!(rule_subcommands("systemctl").is_some_and(|s| s.contains("isolate")));
    assert!(rule_subcommands("docker-compose").is_some_and(|s| s.contains("down")));
    // A program without a fixed set takes any word; so does one without a table.
    assert_eq!(rule_subcommands("rm"), None);
    assert_eq!(rule_subcommands("mytool"), None);
}

#[test]
fn the_mysql_family_reads_its_shared_connection_options() {
    let args = v("-h db1 -P 3307 -S /run/mysqld.sock -uroot -psecret --ssl-mode=REQUIRED");
    for spec in [&MYSQL, &MYSQLADMIN] {
        let got = getopt(&args, spec);
        let role = |name: &str| {
            got.iter().find_map(|i| match i {
                Item::Opt {
                    name: n,
                    value,
                    role,
                } if n == name => Some((*value, *role)),
                _ => None,
            })
        };
        assert_eq!(role("host"), Some((Some("db1"), Some(Role::Host))));
        assert_eq!(role("port"), Some((Some("3307"), Some(Role::Port))));
        assert_eq!(
            role("socket"),
            Some((Some("/run/mysqld.sock"), Some(Role::Socket)))
        );
        assert_eq!(role("user"), Some((Some("root"), Some(Role::User))));
        assert_eq!(role("password"), Some((Some("secret"), None)));
        assert_eq!(role("ssl-mode"), Some((Some("REQUIRED"), None)));
        assert!(spec.is_secret("password"));
        assert!(got.iter().all(|i| !matches!(i, Item::Pos(_))), "{got:?}");
    }
    // Each keeps its own options: mysql's payload, mysqladmin's count.
    assert_eq!(MYSQL.role("execute"), Some(Role::Payload));
    assert_eq!(MYSQLADMIN.short_opt('c'), Some(("count", Value::Req)));
    assert_eq!(MYSQL.short_opt('c'), None);
}
