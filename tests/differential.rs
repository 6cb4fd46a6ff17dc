//! The guard against real bash: does it stop what bash would really run, and only that?
//!
//! Every base command below is a plain, literal command line: destructive ones (what must not
//! run unasked on a production database primary) and ordinary ones. Each technique rewrites
//! every base in a few shapes people and scripts really use (quoting, `$( )`, arrays, braces,
//! `IFS`, aliases, functions, `eval`, `xargs`, wrappers, heredocs to a shell, …).
//!
//! The oracle is bash itself: every variant runs in real bash in a private mount namespace
//! (`unshare -m`) where every program a base names is a stub that appends its argv to a log and
//! exits. The stubs are laid over `/usr/bin`, `/usr/sbin`, `/usr/local/bin` and `/usr/local/sbin`
//! with read-only overlays, so PATH lookups, `/bin/rm`, `/usr/bin/rm` and globs in the program
//! path all reach them, and the root filesystem is remounted read-only inside the namespace, so
//! nothing a variant does can change the machine. A variant is kept only when bash really ran
//! exactly its base: the stub log is byte for byte the log of the base.
//!
//! Each kept variant is then judged by the binary (`explain`, a production `db-primary` host,
//! the embedded packs only). Stopped means anything but `allow` or `warn`. Per technique the
//! test prints the share of destructive variants stopped and of ordinary ones falsely stopped,
//! and asserts destructive ≥ 99 % and ordinary ≤ 1 % wherever the payload is decidable. The
//! opaque techniques (base64 or rev into a shell) cannot be read, so asking there is right: only
//! the destructive bar applies to them.
//!
//! A technique that does not meet the bar today is named in [`KNOWN_GAPS`] with today's figures;
//! the test fails when it gets worse, and fails when it meets the bar (so the entry is removed).
//!
//! `cargo test --test differential -- --nocapture` prints the table. Needs root, `unshare`,
//! overlayfs and sudo; without them it is skipped (under `CI=true` it fails).

mod support;

use base64::Engine as _;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The production PostgreSQL primary every variant is judged on.
const HOST: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
[audit]
syslog = "none"
"#;

/// What must not run unasked on a production database primary. Each is one literal simple
/// command: program and arguments, exactly as the stub will log them.
const DESTRUCTIVE: &[&[&str]] = &[
    &["rm", "-rf", "/var/lib/postgresql/16/main"],
    &["rm", "-rf", "/var/lib/postgresql"],
    &["rm", "-r", "-f", "/var/lib/postgresql/16/main/pg_wal"],
    &["rm", "-fr", "/var/lib/mysql"],
    &["rm", "-rf", "/srv/app/uploads"],
    &["rm", "-rf", "/data/warehouse"],
    &["rm", "-rf", "/var/backups/postgresql"],
    &["rm", "-rf", "/var/lib/docker/volumes"],
    &["rm", "-rf", "/"],
    &["rm", "-rf", "/etc"],
    &["rm", "--recursive", "--force", "/var/lib/redis"],
    &[
        "shred",
        "-u",
        "/var/lib/postgresql/16/main/global/pg_control",
    ],
    &["chmod", "-R", "000", "/var/lib/postgresql"],
    &[
        "chown",
        "-R",
        "nobody:nogroup",
        "/var/lib/postgresql/16/main",
    ],
    &["chmod", "-R", "777", "/var/lib/mysql"],
    &["setfacl", "-R", "-m", "u:nobody:rwx", "/var/lib/postgresql"],
    &[
        "find",
        "/var/lib/postgresql/16/main",
        "-name",
        "*.log",
        "-delete",
    ],
    &[
        "find",
        "/var/lib/postgresql",
        "-type",
        "f",
        "-exec",
        "rm",
        "{}",
        ";",
    ],
    &["dd", "if=/dev/zero", "of=/dev/sda", "bs=1M"],
    &["dd", "if=/dev/urandom", "of=/dev/nvme0n1", "bs=4M"],
    &["wipefs", "-a", "/dev/sdb"],
    &["mkfs.ext4", "/dev/sdb1"],
    &["pvremove", "-ff", "/dev/sdc"],
    &[
        "truncate",
        "-s",
        "0",
        "/var/lib/postgresql/16/main/base/16384/2619",
    ],
    &["mv", "/var/lib/postgresql/16/main", "/tmp/main.old"],
    &[
        "rsync",
        "-a",
        "--delete",
        "/tmp/empty/",
        "/var/lib/postgresql/16/main/",
    ],
    &["psql", "-c", "DROP DATABASE gitlabhq_production"],
    &["psql", "-U", "postgres", "-c", "DROP TABLE users"],
    &["psql", "-d", "app", "-c", "TRUNCATE orders"],
    &["psql", "-c", "DELETE FROM accounts"],
    &["dropdb", "gitlabhq_production"],
    &["mysql", "-e", "DROP DATABASE shop"],
    &["redis-cli", "FLUSHALL"],
    &["kubectl", "delete", "namespace", "production"],
    &["kubectl", "delete", "ns", "payments"],
    &["kubectl", "delete", "pvc", "--all", "-n", "prod"],
    &["terraform", "destroy", "-auto-approve"],
    &["terraform", "destroy"],
    &["pkill", "-9", "postgres"],
    &["killall", "-9", "postgres"],
    &["systemctl", "stop", "postgresql"],
    &["pg_ctlcluster", "16", "main", "stop", "-m", "immediate"],
    &["userdel", "-r", "postgres"],
];

/// Ordinary work on the same host: none of it may be stopped.
const BENIGN: &[&[&str]] = &[
    &["ls", "-la", "/var/lib/postgresql/16/main"],
    &["du", "-sh", "/var/lib/postgresql"],
    &["df", "-h"],
    &["rm", "-rf", "/tmp/build"],
    &["rm", "-f", "/tmp/app.pid"],
    &["rm", "-rf", "./node_modules"],
    &["chmod", "644", "/tmp/report.txt"],
    &["chmod", "-R", "u+w", "/tmp/build"],
    &["chown", "app:app", "/home/app/report.txt"],
    &[
        "find",
        "/var/log/postgresql",
        "-name",
        "*.gz",
        "-mtime",
        "+30",
        "-print",
    ],
    &["find", "/tmp", "-name", "*.tmp", "-delete"],
    &[
        "dd",
        "if=/dev/zero",
        "of=/tmp/test.img",
        "bs=1M",
        "count=10",
    ],
    &["dd", "if=/dev/sda", "of=/dev/null", "bs=1M", "count=1"],
    &["psql", "-c", "SELECT count(*) FROM users"],
    &["psql", "-d", "app", "-c", "SELECT now()"],
    &["psql", "-l"],
    &["mysql", "-e", "SHOW DATABASES"],
    &["pg_dump", "-Fc", "-f", "/tmp/app.dump", "app"],
    &["pg_lsclusters"],
    &["redis-cli", "INFO"],
    &["kubectl", "get", "pods", "-n", "production"],
    &["kubectl", "describe", "ns", "payments"],
    &["kubectl", "logs", "deploy/api", "-n", "prod"],
    &["terraform", "plan"],
    &["terraform", "show"],
    &["terraform", "fmt", "-check"],
    &["pgrep", "-a", "postgres"],
    &["systemctl", "status", "postgresql"],
    &["git", "status"],
    &["git", "log", "--oneline", "-5"],
    &["docker", "ps"],
    &["cat", "/etc/hostname"],
    &[
        "tail",
        "-n",
        "100",
        "/var/log/postgresql/postgresql-16-main.log",
    ],
    &["grep", "-r", "ERROR", "/var/log/app"],
    &["stat", "/var/lib/postgresql/16/main/PG_VERSION"],
    &["mkdir", "-p", "/tmp/backup-check"],
    &["touch", "/tmp/marker"],
    &[
        "cp",
        "/etc/postgresql/16/main/postgresql.conf",
        "/tmp/postgresql.conf.bak",
    ],
    &["tar", "czf", "/tmp/logs.tgz", "/var/log/postgresql"],
    &["mv", "/tmp/a.txt", "/tmp/b.txt"],
    &["rsync", "-a", "/var/log/app/", "/tmp/app-logs/"],
    &["truncate", "-s", "10M", "/tmp/disk.img"],
    &["crontab", "-l"],
];

/// Programs of the bases that every Debian host has in the same place (coreutils, findutils,
/// util-linux, procps, grep, tar, e2fsprogs): only these get glob-in-the-program-path variants,
/// so that the variant set does not depend on what else is installed.
const CORE: &[&str] = &[
    "rm",
    "chmod",
    "chown",
    "find",
    "dd",
    "shred",
    "truncate",
    "mv",
    "wipefs",
    "mkfs.ext4",
    "ls",
    "du",
    "df",
    "cat",
    "tail",
    "grep",
    "stat",
    "mkdir",
    "touch",
    "cp",
    "tar",
    "pkill",
    "pgrep",
];

/// The directories the stubs are laid over, in PATH order.
const BIN_DIRS: &[&str] = &["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"];

/// Techniques that do not meet the bar today, with today's figures: destructive variants
/// stopped (%) and ordinary variants falsely stopped (%). The test fails when a figure gets
/// worse, and when the technique meets the bar (then its line goes).
/// Empty since the static evaluation of the shell analyser and the state pack: every decidable
/// technique meets the bar.
const KNOWN_GAPS: &[(&str, f64, f64)] = &[];

/// A figure may move by this much (in percentage points) before it counts as worse: the
/// recorded figures are rounded to one decimal.
const TOLERANCE: f64 = 0.1;

struct Base {
    words: Vec<String>,
    destructive: bool,
    /// Where the program is found inside the sandbox (and on this host, when `on_host`).
    dir: &'static str,
    /// Whether the program is in [`CORE`] and installed on this host in `dir`.
    glob_ok: bool,
}

impl Base {
    fn prog(&self) -> &str {
        &self.words[0]
    }
    fn line(&self) -> String {
        line(&self.words)
    }
    /// The arguments, quoted.
    fn rest(&self) -> String {
        line(&self.words[1..])
    }
    /// The command with the program word replaced by `p` (shell text).
    fn with_prog(&self, p: &str) -> String {
        let rest = self.rest();
        if rest.is_empty() {
            p.to_owned()
        } else {
            format!("{p} {rest}")
        }
    }
}

/// Shell-quotes one word: bare when it has only characters no shell treats specially.
fn q(w: &str) -> String {
    let bare = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./=:+@%^-".contains(&b));
    if bare {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Single-quotes always.
fn sq(w: &str) -> String {
    format!("'{}'", w.replace('\'', r"'\''"))
}

/// Double-quotes, escaping what is special inside double quotes.
fn dq(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

fn line(words: &[String]) -> String {
    words.iter().map(|w| q(w)).collect::<Vec<_>>().join(" ")
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("\\x{b:02x}")).collect()
}

fn oct(s: &str) -> String {
    s.bytes().map(|b| format!("\\{b:03o}")).collect()
}

/// How many entries of `dir` are `len` bytes long and start with `prefix`: what `dir/prefix?`
/// matches when `len` is one more than the prefix.
fn glob_matches(dir: &str, prefix: &str, len: usize) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.as_encoded_bytes();
                    name.len() == len && name.starts_with(prefix.as_bytes())
                })
                .count()
        })
        .unwrap_or(0)
}

/// `cmd` followed by a space and `rest` unless `rest` is empty.
fn join2(cmd: &str, rest: &str) -> String {
    if rest.is_empty() {
        cmd.to_owned()
    } else {
        format!("{cmd} {rest}")
    }
}

struct Technique {
    name: &'static str,
    /// The payload cannot be read statically (an encoding piped into a shell): asking is right,
    /// so only the destructive bar applies.
    opaque: bool,
    variants: fn(&Base) -> Vec<String>,
}

const TECHNIQUES: &[Technique] = &[
    Technique {
        name: "plain",
        opaque: false,
        variants: |b| vec![b.line()],
    },
    Technique {
        name: "quoting",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            vec![
                b.with_prog(&format!("'{p}'")),
                b.with_prog(&format!("\\{p}")),
                b.with_prog(&format!("{}''{}", &p[..1], &p[1..])),
                b.words.iter().map(|w| sq(w)).collect::<Vec<_>>().join(" "),
                b.words.iter().map(|w| dq(w)).collect::<Vec<_>>().join(" "),
            ]
        },
    },
    Technique {
        name: "program from $( )",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            vec![
                b.with_prog(&format!("$(echo {p})")),
                b.with_prog(&format!("\"$(echo {p})\"")),
                b.with_prog(&format!("$(printf %s {p})")),
                format!("$(echo {})", b.line()),
            ]
        },
    },
    Technique {
        name: "program from backticks",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            vec![
                b.with_prog(&format!("`echo {p}`")),
                b.with_prog(&format!("`printf {p}`")),
                b.with_prog(&format!("\"`printf %s {p}`\"")),
            ]
        },
    },
    Technique {
        name: "arrays",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("a=({l}); \"${{a[@]}}\""),
                format!("a=({l}); ${{a[@]}}"),
                format!("a=({}); {} \"${{a[@]}}\"", b.rest(), q(b.prog())),
                format!("declare -a a=({l}); \"${{a[0]}}\" \"${{a[@]:1}}\""),
            ]
        },
    },
    Technique {
        name: "brace expansion",
        opaque: false,
        variants: |b| {
            let words: Vec<String> = b.words.iter().map(|w| q(w)).collect();
            let mut v = vec![format!("{{{},}}", words.join(","))];
            if words.len() >= 2 {
                v.push(format!("{{{}}}", words.join(",")));
            }
            if words.len() >= 3 {
                v.push(format!("{} {{{}}}", words[0], words[1..].join(",")));
            }
            v.push(join2(&format!("{{{},}}", words[0]), &b.rest()));
            v
        },
    },
    Technique {
        name: "IFS",
        opaque: false,
        variants: |b| {
            let mut v = Vec::new();
            if b.words.iter().all(|w| !w.contains(char::is_whitespace)) {
                v.push(
                    b.words
                        .iter()
                        .map(|w| q(w))
                        .collect::<Vec<_>>()
                        .join("${IFS}"),
                );
            }
            v.push(format!("IFS=,; c={}; $c", q(&b.words.join(","))));
            v.push(format!("IFS=:; c={}; $c", q(&b.words.join(":"))));
            v.push(format!("IFS=$'\\n'; c=$(printf '%s\\n' {}); $c", b.line()));
            v
        },
    },
    Technique {
        name: "several words in a variable",
        opaque: false,
        variants: |b| {
            let mut v = vec![
                format!("C={}; $C", q(&b.words.join(" "))),
                format!("export C={}; $C", q(&b.words.join(" "))),
            ];
            if b.words.len() > 1 {
                let args = q(&b.words[1..].join(" "));
                v.push(format!("A={args}; {} $A", q(b.prog())));
                v.push(format!("P={} A={args}; $P $A", q(b.prog())));
            }
            v
        },
    },
    Technique {
        name: "alias, then use",
        opaque: false,
        variants: |b| {
            vec![
                join2(
                    &format!("shopt -s expand_aliases\nalias x={}\nx", q(b.prog())),
                    &b.rest(),
                ),
                format!("shopt -s expand_aliases\nalias x={}\nx", q(&b.line())),
                join2(
                    &format!("shopt -s expand_aliases; alias x={}\nx", q(b.prog())),
                    &b.rest(),
                ),
            ]
        },
    },
    Technique {
        name: "function, then call",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("f() {{ {l}; }}; f"),
                format!("f() {{ \"$@\"; }}; f {l}"),
                join2(&format!("f() {{ {} \"$@\"; }}; f", q(b.prog())), &b.rest()),
                format!("f() {{\n  {l}\n}}\nf"),
            ]
        },
    },
    Technique {
        name: "glob in the program path",
        opaque: false,
        variants: |b| {
            if !b.glob_ok {
                return Vec::new();
            }
            let p = b.prog();
            let d = b.dir;
            let n = p.len();
            let mut v = vec![
                b.with_prog(&format!("{d}/[{}]{}", &p[..1], &p[1..])),
                b.with_prog(&format!("{}?{}/{p}", &d[..2], &d[3..])),
            ];
            // `rm?` only where it names one program here: another match would run a real
            // program with the base's arguments.
            if glob_matches(d, &p[..n - 1], n) == 1 {
                v.push(b.with_prog(&format!("{d}/{}?", &p[..n - 1])));
            }
            v
        },
    },
    Technique {
        name: "printf escapes",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            vec![
                b.with_prog(&format!("$(printf '{}')", hex(p))),
                b.with_prog(&format!("$(printf '{}')", oct(p))),
                join2(&format!("printf -v p '{}'; \"$p\"", hex(p)), &b.rest()),
                format!("printf '{}\\n' | bash", hex(&b.line())),
            ]
        },
    },
    Technique {
        name: "eval of a string",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("eval {}", q(&l)),
                format!("eval {}", dq(&l)),
                format!("eval {l}"),
                format!("c={}; eval \"$c\"", q(&l)),
            ]
        },
    },
    Technique {
        name: "xargs with known input",
        opaque: false,
        variants: |b| {
            let mut v = vec![format!("printf '%s\\0' {} | xargs -0", b.line())];
            if b.words.len() > 1 {
                let last = q(&b.words[b.words.len() - 1]);
                let head = line(&b.words[..b.words.len() - 1]);
                v.push(format!(
                    "printf '%s\\0' {} | xargs -0 {}",
                    b.rest(),
                    q(b.prog())
                ));
                v.push(format!("printf '%s\\n' {last} | xargs -I{{}} {head} {{}}"));
                v.push(format!("echo {last} | xargs {head}"));
            }
            v
        },
    },
    Technique {
        name: "bash -c, nested quoting",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("bash -c {}", q(&l)),
                format!("sh -c {}", q(&l)),
                format!("bash -c {}", dq(&l)),
                format!("bash -c {}", q(&format!("bash -c {}", q(&l)))),
                format!("bash -c '\"$@\"' _ {l}"),
            ]
        },
    },
    Technique {
        name: "groups",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("( {l} )"),
                format!("{{ {l}; }}"),
                format!("( {{ {l}; }} )"),
                format!("({l})"),
            ]
        },
    },
    Technique {
        name: "env wrapper",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("env {l}"),
                format!("env -i {l}"),
                format!("env X=1 {l}"),
                format!("/usr/bin/env -- {l}"),
            ]
        },
    },
    Technique {
        name: "sudo wrapper",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("sudo {l}"),
                format!("sudo -u root {l}"),
                format!("sudo -n -- {l}"),
            ]
        },
    },
    Technique {
        name: "nohup, background",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("nohup {l}"),
                format!("nohup {l} &"),
                format!("{l} &"),
                format!("nohup {l} >/dev/null 2>&1 &"),
            ]
        },
    },
    Technique {
        name: "command, exec, time",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("command {l}"),
                format!("exec {l}"),
                format!("exec -a x {l}"),
                format!("time {l}"),
            ]
        },
    },
    Technique {
        name: "nice, timeout, setsid, ionice",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("nice -n 10 {l}"),
                format!("timeout 60 {l}"),
                format!("setsid {l}"),
                format!("ionice -c3 {l}"),
            ]
        },
    },
    Technique {
        name: "; && || | chains",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("true; {l}"),
                format!("true && {l}"),
                format!("false || {l}"),
                format!("true | {l}"),
            ]
        },
    },
    Technique {
        name: "if, for, while, case",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("if true; then {l}; fi"),
                format!("for i in 1; do {l}; done"),
                format!("while true; do {l}; break; done"),
                format!("case x in x) {l};; esac"),
            ]
        },
    },
    Technique {
        name: "redirections around it",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("</dev/null {l}"),
                format!("{l} 2>/dev/null"),
                format!(">/dev/null {l}"),
            ]
        },
    },
    Technique {
        name: "heredoc, here-string to a shell",
        opaque: false,
        variants: |b| {
            let l = b.line();
            vec![
                format!("bash <<'EOF'\n{l}\nEOF"),
                format!("bash <<EOF\n{l}\nEOF"),
                format!("sh -s <<'EOF'\n{l}\nEOF"),
                format!("bash <<< {}", q(&l)),
            ]
        },
    },
    Technique {
        name: "line continuation",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            vec![
                b.words
                    .iter()
                    .map(|w| q(w))
                    .collect::<Vec<_>>()
                    .join(" \\\n"),
                b.with_prog(&format!("{}\\\n{}", &p[..1], &p[1..])),
                format!("true \\\n&& {}", b.line()),
            ]
        },
    },
    Technique {
        name: "$'…'",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            vec![
                b.with_prog(&format!("$'{p}'")),
                b.with_prog(&format!("$'{}'", hex(p))),
                b.with_prog(&format!("$'{}'{}", oct(&p[..1]), &p[1..])),
                b.words
                    .iter()
                    .map(|w| format!("$'{}'", oct(w)))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        },
    },
    Technique {
        name: "program in a variable",
        opaque: false,
        variants: |b| {
            let p = q(b.prog());
            let r = b.rest();
            vec![
                join2(&format!("p={p}; $p"), &r),
                join2(&format!("p={p}; \"$p\""), &r),
                join2(&format!("p={p}; ${{p}}"), &r),
                join2(&format!("export p={p}; \"$p\""), &r),
            ]
        },
    },
    Technique {
        name: "parameter expansion",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            let r = b.rest();
            vec![
                join2(&format!("p=; ${{p:-{p}}}"), &r),
                join2(&format!("p=x{p}; ${{p#x}}"), &r),
                join2(&format!("p={}; ${{p,,}}", p.to_uppercase()), &r),
                join2(&format!("p={p}zz; ${{p%zz}}"), &r),
            ]
        },
    },
    Technique {
        name: "absolute path",
        opaque: false,
        variants: |b| {
            let p = b.prog();
            let mut v = vec![b.with_prog(&format!("{}/{p}", b.dir))];
            match b.dir {
                "/usr/bin" => v.push(b.with_prog(&format!("/bin/{p}"))),
                "/usr/sbin" => v.push(b.with_prog(&format!("/sbin/{p}"))),
                _ => {}
            }
            v
        },
    },
    Technique {
        name: "base64 into a shell",
        opaque: true,
        variants: |b| {
            let e = base64::engine::general_purpose::STANDARD.encode(b.line());
            vec![
                format!("echo {e} | base64 -d | bash"),
                format!("bash <<< \"$(echo {e} | base64 -d)\""),
                format!("eval \"$(base64 -d <<< {e})\""),
                format!("base64 -d <<< {e} | sh"),
            ]
        },
    },
    Technique {
        name: "rev into a shell",
        opaque: true,
        variants: |b| {
            let r = q(&b.line().chars().rev().collect::<String>());
            vec![
                format!("echo {r} | rev | bash"),
                format!("bash -c \"$(rev <<< {r})\""),
                format!("eval \"$(echo {r} | rev)\""),
            ]
        },
    },
];

/// The stub log of one run of `words`: `argc NUL name NUL arg NUL …`.
fn frame(words: &[String]) -> Vec<u8> {
    let mut o = Vec::new();
    o.extend_from_slice((words.len() - 1).to_string().as_bytes());
    o.push(0);
    for w in words {
        o.extend_from_slice(w.as_bytes());
        o.push(0);
    }
    o
}

/// Where `prog` is installed on this host, among [`BIN_DIRS`].
fn host_dir(prog: &str) -> Option<&'static str> {
    BIN_DIRS
        .iter()
        .copied()
        .find(|d| Path::new(d).join(prog).is_file())
}

fn tool_on_path(name: &str) -> bool {
    host_dir(name).is_some() || Path::new("/bin").join(name).is_file()
}

/// What the sandbox needs, or why it cannot run here.
fn missing() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("the differential test needs root (mount namespace, overlays)".into());
    }
    for t in [
        "unshare", "mount", "bash", "sh", "sudo", "timeout", "xargs", "base64", "rev", "nohup",
        "setsid", "ionice", "nice", "env",
    ] {
        if !tool_on_path(t) {
            return Some(format!("the differential test needs `{t}`"));
        }
    }
    let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !fs.lines().any(|l| l.trim_end().ends_with("overlay")) {
        return Some("the differential test needs overlayfs (modprobe overlay)".into());
    }
    None
}

/// The script every namespace runs: a tmpfs for the stubs' pointer file and the variants' cwd,
/// the stub overlays, `/` read-only, then each variant in turn.
const DRIVER: &str = r#"set -u
T=$1 LIST=$2
mount -t tmpfs -o size=32m,mode=0755 tmpfs "$T/scratch" || exit 91
mkdir "$T/scratch/cwd" "$T/scratch/tmp" "$T/scratch/dev" || exit 92
# A /dev with only the harmless devices: a variant that reaches a real program by mistake
# finds no disk to write to.
for n in null zero full random urandom tty; do
  [ -e "/dev/$n" ] || continue
  : > "$T/scratch/dev/$n" && mount --bind "/dev/$n" "$T/scratch/dev/$n" || exit 97
done
ln -s /proc/self/fd "$T/scratch/dev/fd"
ln -s /proc/self/fd/0 "$T/scratch/dev/stdin"
ln -s /proc/self/fd/1 "$T/scratch/dev/stdout"
ln -s /proc/self/fd/2 "$T/scratch/dev/stderr"
mount --rbind "$T/scratch/dev" /dev || exit 98
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin; do
  mount -t overlay overlay -o "lowerdir=$T/stubs$d:$d" "$d" || exit 93
done
mount --bind "$T/out" "$T/out" || exit 94
mount -o remount,bind,ro / || exit 95
cd "$T/scratch/cwd" || exit 96
export TMPDIR="$T/scratch/tmp"
while IFS= read -r -d '' id; do
  printf '%s\n' "$T/out/$id.log" > "$T/scratch/current"
  : > "$T/out/$id.log"
  # fd 9 is a pipe every process of the variant inherits (its own redirections leave it
  # alone): reading it to its end waits for whatever the variant left in the background.
  bash "$T/scripts/$id.sh" 9>&1 </dev/null >/dev/null 2>&1 | while IFS= read -r _; do :; done
done < "$LIST"
"#;

struct Variant {
    technique: usize,
    base: usize,
    script: String,
}

/// How long all variants may take in the sandbox together (they take seconds).
const SANDBOX_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs every variant in real bash in the sandbox; returns what the stubs logged for each.
fn oracle(root: &Path, bases: &[Base], variants: &[Variant]) -> Vec<Vec<u8>> {
    let stubs = root.join("stubs");
    for d in BIN_DIRS {
        std::fs::create_dir_all(stubs.join(&d[1..])).expect("stub dir");
    }
    for b in bases {
        let path = stubs.join(&b.dir[1..]).join(b.prog());
        // sh (dash) starts in a fraction of bash's time, and there are thousands of runs.
        let stub = format!(
            "#!/bin/sh\nIFS= read -r log < {}/scratch/current || exit 0\nprintf '%s\\000' \"$#\" {} \"$@\" >> \"$log\"\nexit 0\n",
            root.display(),
            q(b.prog())
        );
        std::fs::write(&path, stub).expect("write stub");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    for sub in ["scripts", "out", "scratch"] {
        std::fs::create_dir_all(root.join(sub)).expect("dir");
    }
    for (i, v) in variants.iter().enumerate() {
        std::fs::write(root.join(format!("scripts/{i}.sh")), &v.script).expect("script");
    }
    std::fs::write(root.join("driver.sh"), DRIVER).expect("driver");
    // Two namespaces side by side (two cores); each mounts its own tmpfs at the same path.
    let lanes = 2;
    let mut children = Vec::new();
    for lane in 0..lanes {
        let mut list = Vec::new();
        for i in (lane..variants.len()).step_by(lanes) {
            list.extend_from_slice(i.to_string().as_bytes());
            list.push(0);
        }
        let list_path = root.join(format!("list{lane}"));
        std::fs::write(&list_path, list).expect("list");
        let child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "bash"])
            .arg(root.join("driver.sh"))
            .arg(root)
            .arg(&list_path)
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its own process group, so that a hung variant can be stopped with everything
            // it started.
            .process_group(0)
            .spawn()
            .expect("start unshare");
        children.push(child);
    }
    let deadline = std::time::Instant::now() + SANDBOX_DEADLINE;
    for (lane, c) in children.iter_mut().enumerate() {
        loop {
            match c.try_wait().expect("wait for the sandbox") {
                Some(st) => {
                    assert!(st.success(), "the sandbox failed: {st}");
                    break;
                }
                None if std::time::Instant::now() > deadline => {
                    let pgid = nix::unistd::Pid::from_raw(c.id() as i32);
                    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
                    let _ = c.wait();
                    let last = (lane..variants.len())
                        .step_by(lanes)
                        .take_while(|i| root.join(format!("out/{i}.log")).exists())
                        .last();
                    panic!(
                        "the sandbox took longer than {SANDBOX_DEADLINE:?}; the last variant started: {:?}",
                        last.map(|i| &variants[i].script)
                    );
                }
                None => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
    variants
        .iter()
        .enumerate()
        .map(|(i, _)| std::fs::read(root.join(format!("out/{i}.log"))).unwrap_or_default())
        .collect()
}

/// Whether the guard stops `script`: its action is neither `allow` nor `warn`.
fn stopped(action: &serde_json::Value) -> bool {
    !matches!(action.as_str(), Some("allow" | "warn"))
}

/// Judges every script with the binary; true where it is stopped.
fn judge(root: &Path, scripts: &[&str]) -> Vec<bool> {
    let host = root.join("host.toml");
    std::fs::write(&host, HOST).expect("host.toml");
    let policies = root.join("policies.d");
    std::fs::create_dir_all(&policies).expect("policy dir");
    let run_dir = root.join("run");
    std::fs::create_dir_all(&run_dir).expect("run dir");
    let cwd = root.join("cwd");
    std::fs::create_dir_all(&cwd).expect("cwd");
    let command = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_prodguard"));
        c.arg("--host-file")
            .arg(&host)
            .arg("--policy-dir")
            .arg(&policies)
            .args(args)
            .current_dir(&cwd)
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .env("XDG_RUNTIME_DIR", &run_dir);
        c
    };
    let mut result = vec![false; scripts.len()];
    // One-line scripts: one process, one line each.
    let single: Vec<usize> = (0..scripts.len())
        .filter(|&i| !scripts[i].contains('\n'))
        .collect();
    let multi: Vec<usize> = (0..scripts.len())
        .filter(|&i| scripts[i].contains('\n'))
        .collect();
    std::thread::scope(|s| {
        let multi_worker = s.spawn(|| {
            multi
                .iter()
                .map(|&i| {
                    let out = command(&["explain", "--json", scripts[i]])
                        .stdin(Stdio::null())
                        .output()
                        .expect("run explain");
                    let v: serde_json::Value =
                        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                            panic!(
                                "explain --json {:?}: {e}: {}",
                                scripts[i],
                                String::from_utf8_lossy(&out.stderr)
                            )
                        });
                    (i, stopped(&v["action"]))
                })
                .collect::<Vec<_>>()
        });
        let mut child = command(&["explain", "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start explain --stdin");
        let mut stdin = child.stdin.take().expect("stdin");
        let input: String = single
            .iter()
            .map(|&i| format!("{}\n", scripts[i]))
            .collect();
        let writer = s.spawn(move || {
            stdin.write_all(input.as_bytes()).expect("feed explain");
        });
        let reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut n = 0;
        for (k, l) in reader.lines().enumerate() {
            let l = l.expect("read explain");
            let v: serde_json::Value = serde_json::from_str(&l).expect("explain JSON line");
            let i = single[k];
            assert_eq!(v["command"].as_str(), Some(scripts[i]), "explain order");
            result[i] = stopped(&v["action"]);
            n += 1;
        }
        writer.join().expect("writer");
        assert!(
            child.wait().expect("explain").success(),
            "explain --stdin failed"
        );
        assert_eq!(n, single.len(), "explain --stdin answered every line");
        for (i, s) in multi_worker.join().expect("multi-line judge") {
            result[i] = s;
        }
    });
    result
}

#[derive(Default)]
struct Tally {
    generated: usize,
    destructive: usize,
    destructive_stopped: usize,
    benign: usize,
    benign_stopped: usize,
    missed: Vec<String>,
    false_stops: Vec<String>,
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}

#[test]
fn guard_stops_what_bash_runs() {
    if let Some(why) = missing() {
        support::skip(&why);
        return;
    }
    let started = std::time::Instant::now();
    let bases: Vec<Base> = DESTRUCTIVE
        .iter()
        .map(|w| (w, true))
        .chain(BENIGN.iter().map(|w| (w, false)))
        .map(|(w, destructive)| {
            let prog = w[0];
            let installed = host_dir(prog);
            Base {
                words: w.iter().map(|s| (*s).to_owned()).collect(),
                destructive,
                dir: installed.unwrap_or("/usr/local/sbin"),
                glob_ok: installed.is_some() && CORE.contains(&prog),
            }
        })
        .collect();
    // A program the sandbox stubs must not be one the techniques themselves run.
    for b in &bases {
        assert!(
            ![
                "bash", "sh", "env", "sudo", "xargs", "timeout", "nohup", "setsid", "nice",
                "ionice", "base64", "rev", "printf", "echo"
            ]
            .contains(&b.prog()),
            "{} is used by the techniques",
            b.prog()
        );
    }
    // For working on one technique: PRODGUARD_DIFF_ONLY=NAME runs the techniques whose name
    // contains NAME (and `plain`).
    let only = std::env::var("PRODGUARD_DIFF_ONLY").ok();
    let mut variants = Vec::new();
    for (t, tech) in TECHNIQUES.iter().enumerate() {
        if t > 0 && only.as_deref().is_some_and(|o| !tech.name.contains(o)) {
            continue;
        }
        for (i, b) in bases.iter().enumerate() {
            for script in (tech.variants)(b) {
                variants.push(Variant {
                    technique: t,
                    base: i,
                    script,
                });
            }
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = oracle(dir.path(), &bases, &variants);
    let kept: Vec<bool> = variants
        .iter()
        .zip(&logs)
        .map(|(v, log)| *log == frame(&bases[v.base].words))
        .collect();
    let oracle_time = started.elapsed();
    if std::env::var_os("PRODGUARD_DIFF_DROPPED").is_some() {
        for ((v, log), k) in variants.iter().zip(&logs).zip(&kept) {
            if !k {
                println!(
                    "DROPPED\t{}\t{:?}\t{:?}",
                    TECHNIQUES[v.technique].name,
                    v.script,
                    String::from_utf8_lossy(log).replace('\0', " ")
                );
            }
        }
    }

    // The sandbox itself works: every base, as written, ran exactly itself.
    for (v, k) in variants.iter().zip(&kept) {
        if v.technique == 0 {
            assert!(
                *k,
                "the base `{}` did not log itself in the sandbox",
                v.script
            );
        }
    }
    let kept_idx: Vec<usize> = (0..variants.len()).filter(|&i| kept[i]).collect();
    let scripts: Vec<&str> = kept_idx
        .iter()
        .map(|&i| variants[i].script.as_str())
        .collect();
    let verdicts = judge(dir.path(), &scripts);

    let mut tally: Vec<Tally> = TECHNIQUES.iter().map(|_| Tally::default()).collect();
    for v in &variants {
        tally[v.technique].generated += 1;
    }
    for (&i, &stop) in kept_idx.iter().zip(&verdicts) {
        let v = &variants[i];
        let t = &mut tally[v.technique];
        if bases[v.base].destructive {
            t.destructive += 1;
            if stop {
                t.destructive_stopped += 1;
            } else {
                t.missed.push(v.script.clone());
            }
        } else {
            t.benign += 1;
            if stop {
                t.benign_stopped += 1;
                t.false_stops.push(v.script.clone());
            }
        }
    }

    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<34} {:>5} {:>5} {:>8} {:>5} {:>8}",
        "technique", "gen", "d.ok", "d.stop%", "b.ok", "b.stop%"
    );
    let gaps: BTreeMap<&str, (f64, f64)> =
        KNOWN_GAPS.iter().map(|&(n, d, b)| (n, (d, b))).collect();
    let mut failures = Vec::new();
    let mut totals = Tally::default();
    for (k, (tech, t)) in TECHNIQUES.iter().zip(&tally).enumerate() {
        if k > 0 && only.as_deref().is_some_and(|o| !tech.name.contains(o)) {
            continue;
        }
        let d = pct(t.destructive_stopped, t.destructive);
        let b = pct(t.benign_stopped, t.benign);
        let _ = writeln!(
            table,
            "{:<34} {:>5} {:>5} {:>7.1}% {:>5} {:>7.1}%{}",
            tech.name,
            t.generated,
            t.destructive,
            d,
            t.benign,
            b,
            if tech.opaque { "  (opaque)" } else { "" }
        );
        totals.generated += t.generated;
        totals.destructive += t.destructive;
        totals.destructive_stopped += t.destructive_stopped;
        totals.benign += t.benign;
        totals.benign_stopped += t.benign_stopped;

        // The oracle kept enough of this technique for the figure to mean something.
        if t.destructive < 10 || (!tech.opaque && t.benign < 10) {
            failures.push(format!(
                "{}: bash ran too few variants as their base ({} destructive, {} ordinary): is the sandbox broken?",
                tech.name, t.destructive, t.benign
            ));
            continue;
        }
        let meets = d >= 99.0 && (tech.opaque || b <= 1.0);
        match (meets, gaps.get(tech.name)) {
            (true, Some(_)) => failures.push(format!(
                "{}: meets the bar now ({d:.1}% stopped, {b:.1}% falsely stopped): remove it from KNOWN_GAPS",
                tech.name
            )),
            (true, None) => {}
            (false, None) => failures.push(format!(
                "{}: {d:.1}% of destructive variants stopped, {b:.1}% of ordinary ones falsely stopped (bar: ≥ 99%, ≤ 1%); missed: {:?}; falsely stopped: {:?}",
                tech.name,
                &t.missed[..t.missed.len().min(5)],
                &t.false_stops[..t.false_stops.len().min(5)]
            )),
            (false, Some(&(gd, gb))) => {
                if d + TOLERANCE < gd || (!tech.opaque && b > gb + TOLERANCE) {
                    failures.push(format!(
                        "{}: worse than recorded in KNOWN_GAPS: {d:.1}% stopped (was {gd:.1}%), {b:.1}% falsely stopped (was {gb:.1}%); missed: {:?}; falsely stopped: {:?}",
                        tech.name,
                        &t.missed[..t.missed.len().min(5)],
                        &t.false_stops[..t.false_stops.len().min(5)]
                    ));
                } else if d > gd + TOLERANCE || b + TOLERANCE < gb {
                    let _ = writeln!(
                        table,
                        "    better than KNOWN_GAPS ({gd:.1}%, {gb:.1}%): tighten the entry"
                    );
                }
            }
        }
    }
    let _ = writeln!(
        table,
        "{:<34} {:>5} {:>5} {:>7.1}% {:>5} {:>7.1}%",
        "all",
        totals.generated,
        totals.destructive,
        pct(totals.destructive_stopped, totals.destructive),
        totals.benign,
        pct(totals.benign_stopped, totals.benign)
    );
    for name in gaps.keys() {
        if !TECHNIQUES.iter().any(|t| t.name == *name) {
            failures.push(format!("KNOWN_GAPS names no technique: {name}"));
        }
    }
    println!(
        "differential test against bash: {} variants generated, {} ran exactly their base; oracle {:.1}s, total {:.1}s\n{table}",
        variants.len(),
        kept_idx.len(),
        oracle_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if std::env::var_os("PRODGUARD_DIFF_MISSES").is_some() {
        for (tech, t) in TECHNIQUES.iter().zip(&tally) {
            for m in &t.missed {
                println!("MISSED\t{}\t{m:?}", tech.name);
            }
            for m in &t.false_stops {
                println!("FALSE\t{}\t{m:?}", tech.name);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn quoting_round_trips_in_bash() {
    // The quoting helpers the generator relies on: what bash makes of q() and dq() is the word.
    if !tool_on_path("bash") {
        support::skip("bash is missing");
        return;
    }
    let words = [
        "DROP DATABASE \"x\"",
        "it's",
        "a$b`c`\\d",
        "*.log",
        "{}",
        ";",
        "nobody:nogroup",
        "-rf",
    ];
    let mut script = String::from("printf '%s\\0'");
    for w in words {
        script.push(' ');
        script.push_str(&q(w));
        script.push(' ');
        script.push_str(&dq(w));
        script.push(' ');
        script.push_str(&format!("$'{}'", oct(w)));
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run bash");
    let got: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .collect();
    let want: Vec<&[u8]> = words
        .iter()
        .flat_map(|w| [w.as_bytes(), w.as_bytes(), w.as_bytes()])
        .collect();
    assert_eq!(got, want);
}
