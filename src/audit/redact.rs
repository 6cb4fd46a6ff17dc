//! Redaction of secrets from command text and argv words, before anything is written.
//!
//! Redaction is by meaning first, by shape second. Both passes are pure:
//!
//! 1. **Word rules**, which need to know the program. [`PROGRAMS`] is a table, one entry per
//!    family of programs: which options carry a secret (`mysql -pX`, `sshpass -p X`,
//!    `docker login -p X`, `openssl -passout pass:X`, `ldapsearch -w X`, `smbclient -U u%X`,
//!    `kubectl create secret --from-literal=k=X` …), in which form (the whole value,
//!    `user:secret`, `user%secret`, `pass:secret`, `key=secret`), whether they count only after
//!    a subcommand (`docker run -p 80:80` is a port, `docker login -p x` a password), and which
//!    positions are secrets (`htpasswd -b file user X`, `vault login TOKEN`,
//!    `redis-cli auth X`, `aws configure set aws_secret_access_key X`). Long options named like
//!    a secret (`--password`, `--token`, `--client-secret` …) are secrets for every program.
//!    A program that reads a password on its standard input (`sudo -S`, `passwd --stdin`,
//!    `chpasswd`, `… login --password-stdin`) has what feeds it hidden: the arguments of an
//!    `echo`/`printf` piped into it, a here-string, a here-document's body.
//!
//!    Command text is split into words the way a shell would (quotes, backslashes, `;`, `|`,
//!    `&&`, `(`, `)`, redirections); quoted words that contain a whole command (`bash -c '…'`,
//!    `ssh host "…"`) are redacted recursively.
//! 2. **Patterns** over the text and every word: `scheme://user:pass@`, `Authorization:` and
//!    other credential headers, assignments whose name says secret (`NAME=value` where a part
//!    of NAME is or contains PASS, PASSWORD, PASSWD, PWD, PASSPHRASE, SECRET, TOKEN, KEY or
//!    CREDENTIAL — see [`secret_name`] for the words that only look like one), SQL password
//!    clauses (`PASSWORD 'x'`, `IDENTIFIED BY 'x'`, `SET PASSWORD = 'x'`, `requirepass x`),
//!    `"password":"…"` / `pwd: '…'` in JSON and JavaScript payloads, AWS access key ids
//!    (`AKIA…`), GitHub, GitLab, Slack, Stripe and Vault token shapes, and the policy's own
//!    patterns. A policy pattern with a capture group named `secret` has only that group
//!    replaced; otherwise the whole match is.
//!
//! Every secret becomes `***`. Redaction errs towards removing too much. What was removed is
//! named by kind ([`Redacted::kinds`]), never by value; the values found are returned too, so
//! that the caller can scrub the same secret from the record's other fields.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Nesting depth up to which quoted commands inside commands are redacted recursively.
const MAX_DEPTH: usize = 4;

/// Kinds of redaction, as named in the record's `redactions` member.
pub mod kind {
    /// The value of a secret-bearing option (`-pX`, `--password X`, `-U user%X`).
    pub const OPTION: &str = "option";
    /// A secret in a known position (`htpasswd -b f u X`, `vault login X`).
    pub const ARGUMENT: &str = "argument";
    /// What feeds a program that reads a password on its standard input.
    pub const STDIN: &str = "stdin";
    /// The password of a `scheme://user:pass@host` URL.
    pub const URL: &str = "url";
    /// An `Authorization:` or other credential header.
    pub const HEADER: &str = "header";
    /// `NAME=value` where NAME names a secret.
    pub const ASSIGNMENT: &str = "assignment";
    /// A SQL (or Redis) password clause.
    pub const SQL: &str = "sql";
    /// A `"password": "…"` member of a JSON or JavaScript payload.
    pub const JSON: &str = "json";
    /// A recognisable token or key id (`AKIA…`, `ghp_…`).
    pub const TOKEN: &str = "token";
    /// A pattern of the policy's `[redact]` table.
    pub const POLICY: &str = "policy";
}

/// The result of redacting one text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redacted {
    /// The text with every secret replaced by [`MASK`].
    pub text: String,
    /// The kinds of what was removed, sorted, each once (see [`kind`]).
    pub kinds: BTreeSet<&'static str>,
    /// The secret values removed. Never written anywhere; for scrubbing other fields.
    pub secrets: BTreeSet<String>,
}

impl Redacted {
    /// Whether anything was removed.
    pub fn changed(&self) -> bool {
        !self.kinds.is_empty()
    }
}

/// What one redaction pass found.
#[derive(Debug, Default)]
struct Found {
    kinds: BTreeSet<&'static str>,
    secrets: BTreeSet<String>,
}

impl Found {
    fn add(&mut self, kind: &'static str, secret: &str) {
        if secret == MASK || secret.is_empty() {
            return;
        }
        self.kinds.insert(kind);
        self.secrets.insert(secret.to_string());
    }
}

/// Redact a command line: the text, what kinds of secret were removed, and their values.
pub fn redact(text: &str, extra: &[Regex]) -> Redacted {
    let mut found = Found::default();
    let out = redact_text_at(text, extra, 0, &mut found);
    if out == text {
        // A mask that was there before (already redacted text) is no finding.
        found = Found::default();
    }
    Redacted {
        text: out,
        kinds: found.kinds,
        secrets: found.secrets,
    }
}

/// Redact a command line. Returns the text and whether anything was removed.
pub fn redact_text(text: &str, extra: &[Regex]) -> (String, bool) {
    let r = redact(text, extra);
    let changed = r.text != text;
    (r.text, changed)
}

/// Redact each word of an argv (one command). Returns the words, the kinds removed and the
/// values found.
pub fn redact_words(argv: &[String], extra: &[Regex]) -> (Vec<String>, Redacted) {
    let mut found = Found::default();
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let actions = word_actions(&words, &mut found);
    let out: Vec<String> = argv
        .iter()
        .zip(actions)
        .map(|(w, a)| {
            let r = match a {
                WordAction::Keep => Cow::Borrowed(w.as_str()),
                WordAction::Whole => Cow::Borrowed(MASK),
                WordAction::After(n) => Cow::Owned(format!("{}{MASK}", &w[..n])),
            };
            if r.contains(char::is_whitespace) {
                redact_text_at(&r, extra, 1, &mut found)
            } else {
                apply_patterns_found(&r, extra, &mut found)
            }
        })
        .collect();
    if out == argv {
        found = Found::default();
    }
    (
        out,
        Redacted {
            text: String::new(),
            kinds: found.kinds,
            secrets: found.secrets,
        },
    )
}

/// Redact each word of an argv (one command). Returns the words and whether anything was
/// removed.
pub fn redact_argv(argv: &[String], extra: &[Regex]) -> (Vec<String>, bool) {
    let (out, _) = redact_words(argv, extra);
    let changed = out != argv;
    (out, changed)
}

/// Redact a free-text field (a reason, a ticket): patterns only.
pub fn redact_free_text(text: &str, extra: &[Regex]) -> (String, bool) {
    redact_text(text, extra)
}

/// Replace every occurrence of a known secret value in `text` (values of 4 bytes or more, so
/// that a one-letter password does not eat the text). Returns whether anything was replaced.
pub fn scrub(text: &mut String, secrets: &BTreeSet<String>) -> bool {
    let mut changed = false;
    for s in secrets {
        if s.len() >= 4 && s != MASK && text.contains(s.as_str()) {
            *text = text.replace(s.as_str(), MASK);
            changed = true;
        }
    }
    changed
}

/// One parsed segment of command text: the tokens of one simple command (between
/// separators), and the separator characters before it.
struct Segment {
    /// Token index range `[start, end)` of the words and blanks.
    start: usize,
    end: usize,
    /// The separator characters before this segment (`|`, `;`, `<<<`, `\n` …), blanks removed.
    before: String,
}

fn redact_text_at(text: &str, extra: &[Regex], depth: usize, found: &mut Found) -> String {
    let toks = lex(text);
    // Split into segments: the words between separators, each with the separators before it.
    let mut segs: Vec<Segment> = Vec::new();
    let mut cur = Segment {
        start: 0,
        end: 0,
        before: String::new(),
    };
    let mut has_word = false;
    for (ti, t) in toks.iter().enumerate() {
        match t.kind {
            Kind::Sep => {
                if has_word {
                    cur.end = ti;
                    segs.push(std::mem::replace(
                        &mut cur,
                        Segment {
                            start: ti + 1,
                            end: ti + 1,
                            before: String::new(),
                        },
                    ));
                    has_word = false;
                } else {
                    cur.start = ti + 1;
                }
                cur.before.push_str(&text[t.start..t.end]);
            }
            Kind::Word => has_word = true,
            Kind::Space => {}
        }
    }
    if has_word {
        cur.end = toks.len();
        segs.push(cur);
    }
    // Word rules per segment.
    let words_of = |s: &Segment| -> Vec<usize> {
        (s.start..s.end)
            .filter(|&t| matches!(toks[t].kind, Kind::Word))
            .collect()
    };
    let mut actions: Vec<WordAction> = vec![WordAction::Keep; toks.len()];
    let seg_words: Vec<Vec<usize>> = segs.iter().map(words_of).collect();
    for idx in &seg_words {
        let words: Vec<&str> = idx.iter().map(|&t| toks[t].unquoted.as_str()).collect();
        let acts = word_actions(&words, found);
        for (&t, a) in idx.iter().zip(acts) {
            actions[t] = a;
        }
    }
    // Secrets fed to a program that reads a password on its standard input.
    // A here-document fed to a password reader: its delimiter, and whether its body began.
    let mut heredoc: Option<(String, bool)> = None;
    for si in 0..segs.len() {
        let idx = &seg_words[si];
        let words: Vec<&str> = idx.iter().map(|&t| toks[t].unquoted.as_str()).collect();
        if let Some((delim, started)) = heredoc.as_mut() {
            let new_line = segs[si].before.contains('\n');
            if !*started && !new_line {
                // The rest of the command line before the body.
                continue;
            }
            *started = true;
            if new_line && words.len() == 1 && words[0] == delim.as_str() {
                heredoc = None;
                continue;
            }
            for &t in idx {
                actions[t] = WordAction::Whole;
                found.add(kind::STDIN, &toks[t].unquoted);
            }
            continue;
        }
        if !reads_password_on_stdin(&words) {
            continue;
        }
        // `echo X | consumer`, `printf 'X\n' | consumer`.
        if si > 0 && matches!(segs[si].before.as_str(), "|" | "|&") {
            let prev = &seg_words[si - 1];
            let pw: Vec<&str> = prev.iter().map(|&t| toks[t].unquoted.as_str()).collect();
            if let Some(from) = producer_args(&pw) {
                for &t in &prev[from..] {
                    actions[t] = WordAction::Whole;
                    found.add(kind::STDIN, &toks[t].unquoted);
                }
            }
        }
        // `consumer <<< X` and `consumer <<EOF … EOF` (the redirection may come later in the
        // same command: `sudo -S cmd arg <<< X`).
        let mut sj = si + 1;
        while sj < segs.len() {
            let b = segs[sj].before.as_str();
            if b == "<<<" {
                if let Some(&t) = seg_words[sj].first() {
                    actions[t] = WordAction::Whole;
                    found.add(kind::STDIN, &toks[t].unquoted);
                }
            } else if b == "<<" || b == "<<-" {
                if let Some(&t) = seg_words[sj].first() {
                    let d = toks[t].unquoted.trim_start_matches('-').to_string();
                    heredoc = Some((d, false));
                }
            } else if b.starts_with('<') || b.starts_with('>') || b.ends_with('>') {
                // Another redirection of the same command: keep looking.
            } else {
                break;
            }
            sj += 1;
        }
    }
    // Emit.
    let mut out = String::with_capacity(text.len());
    for (ti, t) in toks.iter().enumerate() {
        let raw = &text[t.start..t.end];
        match t.kind {
            Kind::Word => match actions[ti] {
                WordAction::Keep => {
                    if depth < MAX_DEPTH && !t.quoted.is_empty() {
                        out.push_str(&redact_quoted(text, t, extra, depth, found));
                    } else {
                        out.push_str(raw);
                    }
                }
                WordAction::Whole => out.push_str(MASK),
                WordAction::After(n) => {
                    let prefix = &t.unquoted[..n];
                    if raw.starts_with(prefix) {
                        out.push_str(prefix);
                    }
                    out.push_str(MASK);
                }
            },
            _ => out.push_str(raw),
        }
    }
    apply_patterns_found(&out, extra, found)
}

/// A word with quoted parts: redact the inside of each quoted part as a command of its own.
fn redact_quoted(text: &str, t: &Tok, extra: &[Regex], depth: usize, found: &mut Found) -> String {
    let mut s = String::new();
    let mut at = t.start;
    for &(a, b) in &t.quoted {
        s.push_str(&text[at..a]);
        s.push_str(&redact_text_at(&text[a..b], extra, depth + 1, found));
        at = b;
    }
    s.push_str(&text[at..t.end]);
    s
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordAction {
    Keep,
    /// Replace the whole word.
    Whole,
    /// Keep the first n bytes (an option or `NAME=`), replace the rest.
    After(usize),
}

/// Long options whose value is a secret for every program (`--password x`, `--password=x`).
const SECRET_LONG: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "passphrase",
    "token",
    "secret",
    "api-key",
    "apikey",
    "api-token",
    "access-token",
    "auth-token",
    "bearer-token",
    "client-secret",
    "secret-key",
    "secret-access-key",
    "http-password",
    "proxy-password",
    "ftp-password",
    "docker-password",
    "registry-password",
    "oauth2-bearer",
    "account-key",
    "sas-token",
    "storepass",
    "keypass",
    "auth",
];

/// Single-dash long options whose value is a secret for every program (`-password x`, Go and
/// Java style). Only names that cannot be a cluster of one-letter flags in practice.
const SECRET_SINGLE_DASH: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "token",
    "secret",
    "apikey",
    "api-key",
    "storepass",
    "keypass",
    "srcstorepass",
    "deststorepass",
    "srckeypass",
    "destkeypass",
];

/// The form of a secret-bearing option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// The whole value is the secret.
    Secret,
    /// `user:secret` (`curl -u`): what follows the first `:`; a value without one is a user.
    AfterColon,
    /// `user%secret` (`smbclient -U`): what follows the first `%`.
    AfterPercent,
    /// `user,secret` (`lftp -u`): what follows the first `,`.
    AfterComma,
    /// `key=secret` (`kubectl --from-literal`): what follows the first `=`.
    AfterEquals,
    /// An OpenSSL pass phrase argument: `pass:secret` hides the secret; `env:`, `file:`,
    /// `fd:` and `stdin` name where it is and are kept.
    OpensslPass,
}

/// One secret-bearing option of a program.
#[derive(Debug, Clone, Copy)]
pub struct SecretOption {
    /// The option as written: `-p`, `--password`, `-passout`.
    pub name: &'static str,
    /// The form of its value.
    pub value: Value,
    /// The value may be the next word (`-p X`, `--password X`).
    pub separate: bool,
    /// The value may be attached (`-pX`; `--password=X` for names starting with `--`).
    pub attached: bool,
}

/// A position that holds a secret.
#[derive(Debug, Clone, Copy)]
pub enum Position {
    /// After the word `word` (any case), skip `skip` operands, then the next operand is a
    /// secret (`rabbitmqctl add_user NAME SECRET`: `("add_user", 1)`). With `rest`, every
    /// operand after it is one too (`redis-cli auth [user] secret`).
    After {
        word: &'static str,
        skip: usize,
        rest: bool,
    },
    /// The n-th operand (from 0) of the program (`wpa_passphrase SSID SECRET`: 1).
    Operand(usize),
    /// After this word, the value of every `key=value` operand (`vault kv put path k=v`).
    ValuesAfter(&'static str),
    /// `htpasswd -b`: the last operand, when the `b` flag is given.
    HtpasswdBatch,
}

/// How a program reads a password on its standard input.
#[derive(Debug, Clone, Copy)]
pub enum Stdin {
    /// Never (as far as this table knows).
    No,
    /// Always (`chpasswd`).
    Always,
    /// When one of these words follows the program (`sudo -S`, `passwd --stdin`).
    With(&'static [&'static str]),
}

/// What is secret in the command lines of one family of programs.
#[derive(Debug, Clone, Copy)]
pub struct ProgramSecrets {
    /// Program basenames; a trailing `*` matches a prefix (`mysql*`, `ldap*`).
    pub programs: &'static [&'static str],
    /// The options and positions count only after one of these words (`login`); empty:
    /// always.
    pub after: &'static [&'static str],
    /// Secret-bearing options.
    pub options: &'static [SecretOption],
    /// Secret-bearing positions.
    pub positions: &'static [Position],
    /// Whether the program reads a password on standard input.
    pub stdin: Stdin,
}

const fn opt(name: &'static str, value: Value, separate: bool, attached: bool) -> SecretOption {
    SecretOption {
        name,
        value,
        separate,
        attached,
    }
}

const fn both(name: &'static str) -> SecretOption {
    opt(name, Value::Secret, true, true)
}

const fn prog(programs: &'static [&'static str]) -> ProgramSecrets {
    ProgramSecrets {
        programs,
        after: &[],
        options: &[],
        positions: &[],
        stdin: Stdin::No,
    }
}

use Value::{AfterColon, AfterComma, AfterEquals, AfterPercent, OpensslPass};

/// The per-program table. Kept as data so that it can be read, tested and extended without
/// touching the logic that applies it.
pub const PROGRAMS: &[ProgramSecrets] = &[
    // MySQL and MariaDB attach the password: `-pX`; `-p db` prompts, and `db` is a database.
    ProgramSecrets {
        options: &[
            opt("-p", Value::Secret, false, true),
            opt("--password", Value::Secret, false, true),
        ],
        positions: &[Position::After {
            word: "password",
            skip: 0,
            rest: false,
        }],
        ..prog(&["mysql*", "mariadb*"])
    },
    ProgramSecrets {
        options: &[both("-p")],
        ..prog(&["sshpass"])
    },
    ProgramSecrets {
        options: &[opt("-a", Value::Secret, true, false), both("--pass")],
        positions: &[
            Position::After {
                word: "auth",
                skip: 0,
                rest: true,
            },
            Position::After {
                word: "requirepass",
                skip: 0,
                rest: false,
            },
            Position::After {
                word: "masterauth",
                skip: 0,
                rest: false,
            },
        ],
        ..prog(&["redis-cli", "valkey-cli", "keydb-cli"])
    },
    ProgramSecrets {
        options: &[
            opt("-u", AfterColon, true, true),
            opt("--user", AfterColon, true, true),
            opt("-U", AfterColon, true, true),
            opt("--proxy-user", AfterColon, true, true),
            opt("-E", AfterColon, true, true),
            opt("--cert", AfterColon, true, true),
            both("--oauth2-bearer"),
        ],
        ..prog(&["curl"])
    },
    ProgramSecrets {
        options: &[both("-p"), both("--password")],
        ..prog(&[
            "mongo",
            "mongosh",
            "mongodump",
            "mongorestore",
            "mongoexport",
            "mongoimport",
            "mongostat",
            "mongotop",
        ])
    },
    ProgramSecrets {
        positions: &[Position::HtpasswdBatch],
        stdin: Stdin::With(&["-i"]),
        ..prog(&["htpasswd"])
    },
    ProgramSecrets {
        positions: &[
            Position::After {
                word: "login",
                skip: 0,
                rest: false,
            },
            Position::After {
                word: "unseal",
                skip: 0,
                rest: false,
            },
        ],
        options: &[both("-token"), both("-password")],
        ..prog(&["vault", "bao"])
    },
    // Registry logins: `-p` is a password only after `login` (`docker run -p 80:80` is a port).
    ProgramSecrets {
        after: &["login"],
        // `-p` separate only: `-password-stdin` (crane) is not `-p` with a value.
        options: &[opt("-p", Value::Secret, true, false), both("--password")],
        stdin: Stdin::With(&["--password-stdin"]),
        ..prog(&[
            "docker", "podman", "nerdctl", "buildah", "skopeo", "helm", "oras", "crane", "regctl",
        ])
    },
    ProgramSecrets {
        options: &[
            opt("--from-literal", AfterEquals, true, true),
            both("--docker-password"),
        ],
        ..prog(&["kubectl", "oc", "k3s", "microk8s.kubectl"])
    },
    ProgramSecrets {
        options: &[
            opt("-pass", OpensslPass, true, false),
            opt("-passin", OpensslPass, true, false),
            opt("-passout", OpensslPass, true, false),
            opt("-password", OpensslPass, true, false),
            opt("-k", Value::Secret, true, false),
            opt("-K", Value::Secret, true, false),
        ],
        stdin: Stdin::With(&["stdin"]),
        ..prog(&["openssl"])
    },
    ProgramSecrets {
        options: &[both("-w")],
        ..prog(&["ldap*"])
    },
    ProgramSecrets {
        options: &[both("-s"), both("-a")],
        ..prog(&["ldappasswd"])
    },
    ProgramSecrets {
        options: &[
            opt("-U", AfterPercent, true, true),
            opt("--user", AfterPercent, true, true),
        ],
        ..prog(&[
            "smbclient",
            "rpcclient",
            "smbcacls",
            "smbget",
            "smbtree",
            "smbcquotas",
            "net",
            "wbinfo",
        ])
    },
    ProgramSecrets {
        stdin: Stdin::With(&["-s"]),
        ..prog(&["smbpasswd"])
    },
    ProgramSecrets {
        options: &[both("-p")],
        ..prog(&["smbmap"])
    },
    ProgramSecrets {
        positions: &[
            Position::After {
                word: "aws_secret_access_key",
                skip: 0,
                rest: false,
            },
            Position::After {
                word: "aws_session_token",
                skip: 0,
                rest: false,
            },
        ],
        ..prog(&["aws"])
    },
    ProgramSecrets {
        positions: &[Position::After {
            word: "proxy/password",
            skip: 0,
            rest: false,
        }],
        ..prog(&["gcloud"])
    },
    ProgramSecrets {
        after: &["login"],
        options: &[both("-p"), both("--federated-token")],
        ..prog(&["az"])
    },
    ProgramSecrets {
        after: &["secret"],
        options: &[both("--value")],
        ..prog(&["az"])
    },
    ProgramSecrets {
        options: &[both("--account-key"), both("--sas-token")],
        ..prog(&["az"])
    },
    ProgramSecrets {
        after: &["secret"],
        options: &[both("-b"), both("--body")],
        stdin: Stdin::With(&["--with-token"]),
        ..prog(&["gh"])
    },
    ProgramSecrets {
        stdin: Stdin::With(&["-S", "--stdin"]),
        ..prog(&["sudo"])
    },
    ProgramSecrets {
        stdin: Stdin::With(&["--stdin"]),
        ..prog(&["passwd"])
    },
    ProgramSecrets {
        stdin: Stdin::Always,
        ..prog(&["chpasswd", "chgpasswd", "cryptsetup"])
    },
    ProgramSecrets {
        stdin: Stdin::With(&["--passphrase-fd"]),
        ..prog(&["gpg", "gpg2"])
    },
    ProgramSecrets {
        options: &[both("-p")],
        ..prog(&["useradd", "usermod", "adduser"])
    },
    ProgramSecrets {
        options: &[both("-P")],
        ..prog(&[
            "sqlcmd",
            "bcp",
            "ipmitool",
            "mosquitto_pub",
            "mosquitto_sub",
            "zip",
            "unzip",
            "zipcloak",
        ])
    },
    ProgramSecrets {
        options: &[opt("-p", Value::Secret, false, true)],
        ..prog(&["7z", "7za", "7zz", "7zr"])
    },
    ProgramSecrets {
        options: &[opt("-u", AfterComma, true, true)],
        ..prog(&["lftp"])
    },
    ProgramSecrets {
        positions: &[
            Position::After {
                word: "add_user",
                skip: 1,
                rest: false,
            },
            Position::After {
                word: "change_password",
                skip: 1,
                rest: false,
            },
        ],
        ..prog(&["rabbitmqctl"])
    },
    ProgramSecrets {
        positions: &[Position::After {
            word: "password",
            skip: 0,
            rest: false,
        }],
        ..prog(&["nmcli"])
    },
    ProgramSecrets {
        positions: &[Position::Operand(1)],
        ..prog(&["wpa_passphrase"])
    },
    ProgramSecrets {
        options: &[
            opt("-a", AfterColon, true, true),
            opt("--auth", AfterColon, true, true),
        ],
        ..prog(&["http", "https", "xh", "xhs", "http-prompt"])
    },
    // `pulumi config set [--secret] KEY VALUE`: `--secret` is a flag, the value the secret;
    // `pulumi env set ENV KEY VALUE`.
    ProgramSecrets {
        after: &["config"],
        options: &[opt("--secret", Value::Secret, false, false)],
        positions: &[Position::After {
            word: "set",
            skip: 1,
            rest: false,
        }],
        ..prog(&["pulumi"])
    },
    ProgramSecrets {
        after: &["env"],
        options: &[opt("--secret", Value::Secret, false, false)],
        positions: &[Position::After {
            word: "set",
            skip: 2,
            rest: false,
        }],
        ..prog(&["pulumi"])
    },
    // Secret stores: every `key=value` operand after the verb is a secret.
    ProgramSecrets {
        positions: &[
            Position::ValuesAfter("put"),
            Position::ValuesAfter("patch"),
            Position::ValuesAfter("write"),
        ],
        ..prog(&["vault", "bao"])
    },
    ProgramSecrets {
        positions: &[Position::ValuesAfter("set")],
        ..prog(&["k8sec", "safe"])
    },
];

fn base(word: &str) -> &str {
    let w = word.trim_start_matches('\\');
    w.rsplit('/').next().unwrap_or(w)
}

fn names_program(spec: &ProgramSecrets, b: &str) -> bool {
    spec.programs.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => b.starts_with(prefix),
        None => b == *p,
    })
}

/// The specs that name program `b`.
fn specs_for(b: &str) -> impl Iterator<Item = &'static ProgramSecrets> + '_ {
    PROGRAMS.iter().filter(move |s| names_program(s, b))
}

/// Whether these words (one simple command) run a program that reads a password on stdin.
fn reads_password_on_stdin(words: &[&str]) -> bool {
    if words.contains(&"--password-stdin") {
        return true;
    }
    for (i, w) in words.iter().enumerate() {
        let b = base(w);
        if b.starts_with('-') {
            continue;
        }
        for spec in specs_for(b) {
            match spec.stdin {
                Stdin::No => {}
                Stdin::Always => return true,
                Stdin::With(flags) => {
                    let rest = &words[i + 1..];
                    if rest
                        .iter()
                        .any(|r| flags.contains(r) || short_cluster_has(r, flags))
                    {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Whether `w` is a cluster of one-letter flags (`-kS`) holding one of `flags` (`-S`).
fn short_cluster_has(w: &str, flags: &[&str]) -> bool {
    let Some(letters) = w.strip_prefix('-') else {
        return false;
    };
    if letters.starts_with('-')
        || letters.is_empty()
        || !letters.chars().all(|c| c.is_ascii_alphabetic())
    {
        return false;
    }
    flags
        .iter()
        .filter(|f| f.len() == 2)
        .filter_map(|f| f.strip_prefix('-').and_then(|l| l.chars().next()))
        .any(|c| letters.contains(c))
}

/// Index of the first word that is a secret fed on stdin, when `words` are an `echo` or
/// `printf` (after `sudo`, `env`, …): every argument after echo's options; every argument of
/// printf (the format may hold the secret).
fn producer_args(words: &[&str]) -> Option<usize> {
    let i = words
        .iter()
        .position(|w| matches!(base(w), "echo" | "printf" | "cat"))?;
    match base(words[i]) {
        "echo" => {
            let mut j = i + 1;
            while j < words.len() && matches!(words[j], "-n" | "-e" | "-E" | "-ne" | "-en") {
                j += 1;
            }
            Some(j)
        }
        "printf" => {
            let mut j = i + 1;
            if words.get(j) == Some(&"--") {
                j += 1;
            }
            Some(j)
        }
        // `cat file | chpasswd`: a file name, not a secret.
        _ => None,
    }
}

/// Per active program spec: what has been seen since its program word.
struct Active {
    spec: &'static ProgramSecrets,
    /// Whether one of `spec.after` was seen (or it has none).
    armed: bool,
    /// Indices of the operands seen (non-option words).
    operands: Vec<usize>,
    /// One-letter flags seen (`-bc` gives `b`, `c`).
    flags: String,
    /// A pending position: (operands still to skip, rest).
    pending: Option<(usize, bool)>,
    /// The rest of the operands are secrets.
    all_rest: bool,
    /// The values of the rest of the `key=value` operands are secrets.
    values_rest: bool,
}

/// How the value of a secret option is hidden.
fn value_action(value: Value, v: &str, prefix: usize) -> Option<(WordAction, String)> {
    if v.is_empty() {
        return None;
    }
    let at = |sep: char| v.find(sep).map(|c| (c + 1, v[c + 1..].to_string()));
    let (skip, secret) = match value {
        Value::Secret => (0, v.to_string()),
        Value::AfterColon => at(':')?,
        Value::AfterPercent => at('%')?,
        Value::AfterComma => at(',')?,
        Value::AfterEquals => at('=')?,
        Value::OpensslPass => {
            let rest = v.strip_prefix("pass:")?;
            (5, rest.to_string())
        }
    };
    if secret.is_empty() {
        return None;
    }
    let n = prefix + skip;
    Some((
        if n == 0 {
            WordAction::Whole
        } else {
            WordAction::After(n)
        },
        secret,
    ))
}

/// What the option word `w` means for a program: `Some((_, None))` the next word is its value,
/// `Some((_, Some(n)))` its value is attached after `n` bytes (none when `n` is the length),
/// `None` not one of its secret options.
fn match_option(options: &[SecretOption], w: &str) -> Option<(Value, Option<usize>)> {
    for o in options {
        if w == o.name {
            if o.separate {
                return Some((o.value, None));
            }
            // Known, and takes no separate value (`mysql --password` prompts).
            return Some((o.value, Some(w.len())));
        }
        if !o.attached {
            continue;
        }
        if o.name.starts_with("--") || o.name.len() > 2 {
            if let Some(rest) = w.strip_prefix(o.name) {
                if rest.starts_with('=') {
                    return Some((o.value, Some(o.name.len() + 1)));
                }
            }
        } else if w.len() > o.name.len() && w.starts_with(o.name) && !w.starts_with("--") {
            return Some((o.value, Some(o.name.len())));
        }
    }
    None
}

/// Decide, for each word of one simple command, what to hide.
fn word_actions(words: &[&str], found: &mut Found) -> Vec<WordAction> {
    let mut actions = vec![WordAction::Keep; words.len()];
    let mut active: Vec<Active> = Vec::new();
    // The next word is the value of a secret option, in this form.
    let mut next: Option<Value> = None;
    for (i, w) in words.iter().enumerate() {
        if let Some(value) = next.take() {
            if let Some((a, s)) = value_action(value, w, 0) {
                actions[i] = a;
                found.add(kind::OPTION, &s);
            }
            continue;
        }
        let b = base(w);
        // Program-specific options.
        let mut handled = false;
        for a in active.iter().filter(|a| a.armed) {
            if let Some((value, attached)) = match_option(a.spec.options, w) {
                match attached {
                    None => {
                        if words.get(i + 1).is_some() {
                            next = Some(value);
                        }
                    }
                    Some(n) => {
                        if let Some((act, s)) = value_action(value, &w[n..], n) {
                            actions[i] = act;
                            found.add(kind::OPTION, &s);
                        }
                    }
                }
                handled = true;
                break;
            }
        }
        if handled {
            continue;
        }
        // Long options named like a secret, for every program.
        if let Some(opt) = w.strip_prefix("--") {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (opt, None),
            };
            let lname = name.to_ascii_lowercase();
            if SECRET_LONG.contains(&lname.as_str()) || secret_name(&lname) {
                match value {
                    Some(v) if !v.is_empty() => {
                        actions[i] = WordAction::After(name.len() + 3);
                        found.add(kind::OPTION, v);
                    }
                    Some(_) => {}
                    None if words.get(i + 1).is_some_and(|n| !n.starts_with('-')) => {
                        next = Some(Value::Secret);
                    }
                    None => {}
                }
            }
            continue;
        }
        if let Some(opt) = w.strip_prefix('-') {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (opt, None),
            };
            if SECRET_SINGLE_DASH.contains(&name.to_ascii_lowercase().as_str()) {
                match value {
                    Some(v) if !v.is_empty() => {
                        actions[i] = WordAction::After(name.len() + 2);
                        found.add(kind::OPTION, v);
                    }
                    Some(_) => {}
                    None if words.get(i + 1).is_some() => next = Some(Value::Secret),
                    None => {}
                }
                continue;
            }
            for a in &mut active {
                if !opt.starts_with('-') && opt.chars().all(|c| c.is_ascii_alphanumeric()) {
                    a.flags.push_str(opt);
                }
            }
            continue;
        }
        // An operand: a program word, a subcommand, a position.
        let mut masked = false;
        for a in &mut active {
            if !a.armed && a.spec.after.iter().any(|s| s.eq_ignore_ascii_case(w)) {
                a.armed = true;
            }
            a.operands.push(i);
            if masked || !a.armed {
                continue;
            }
            if a.all_rest {
                actions[i] = WordAction::Whole;
                found.add(kind::ARGUMENT, w);
                masked = true;
                continue;
            }
            if a.values_rest {
                if let Some((k, v)) = w.split_once('=') {
                    if !v.is_empty() && v != MASK {
                        actions[i] = WordAction::After(k.len() + 1);
                        found.add(kind::ARGUMENT, v);
                        masked = true;
                    }
                }
                continue;
            }
            if let Some((skip, rest)) = a.pending {
                if skip == 0 {
                    a.pending = None;
                    if !w.contains('=') {
                        actions[i] = WordAction::Whole;
                        found.add(kind::ARGUMENT, w);
                        masked = true;
                        a.all_rest = rest;
                    }
                } else {
                    a.pending = Some((skip - 1, rest));
                }
                continue;
            }
            for p in a.spec.positions {
                match *p {
                    Position::After { word, skip, rest } if word.eq_ignore_ascii_case(w) => {
                        a.pending = Some((skip, rest));
                    }
                    Position::ValuesAfter(word) if word.eq_ignore_ascii_case(w) => {
                        a.values_rest = true;
                    }
                    Position::Operand(n) if a.operands.len() == n + 2 => {
                        // operands[0] is the program word itself.
                        actions[i] = WordAction::Whole;
                        found.add(kind::ARGUMENT, w);
                        masked = true;
                    }
                    _ => {}
                }
            }
        }
        let specs: Vec<&'static ProgramSecrets> = specs_for(b).collect();
        for spec in specs {
            active.push(Active {
                spec,
                armed: spec.after.is_empty(),
                operands: vec![i],
                flags: String::new(),
                pending: None,
                all_rest: false,
                values_rest: false,
            });
        }
    }
    // `htpasswd -b [-c] FILE USER SECRET` and `htpasswd -nb USER SECRET`: the last operand.
    for a in &active {
        if a.spec
            .positions
            .iter()
            .any(|p| matches!(p, Position::HtpasswdBatch))
            && a.flags.contains('b')
            && a.operands.len() >= 3
        {
            if let Some(&last) = a.operands.last() {
                actions[last] = WordAction::Whole;
                found.add(kind::ARGUMENT, words[last]);
            }
        }
    }
    actions
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    Space,
    Sep,
}

#[derive(Debug)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    /// The word after quote removal (words only).
    unquoted: String,
    /// Byte ranges of the insides of quoted parts of the word.
    quoted: Vec<(usize, usize)>,
}

fn is_sep(c: char) -> bool {
    matches!(c, ';' | '&' | '|' | '(' | ')' | '\n' | '`' | '<' | '>')
}

/// Split shell text into words, separators and blanks (bash-like, no expansion).
fn lex(text: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(start, c)) = it.peek() {
        if is_sep(c) {
            it.next();
            toks.push(Tok {
                kind: Kind::Sep,
                start,
                end: start + c.len_utf8(),
                unquoted: String::new(),
                quoted: Vec::new(),
            });
        } else if c.is_whitespace() {
            let mut end = start;
            while let Some(&(i, c)) = it.peek() {
                if !c.is_whitespace() || c == '\n' {
                    break;
                }
                end = i + c.len_utf8();
                it.next();
            }
            toks.push(Tok {
                kind: Kind::Space,
                start,
                end,
                unquoted: String::new(),
                quoted: Vec::new(),
            });
        } else {
            let mut unquoted = String::new();
            let mut quoted = Vec::new();
            let mut end = start;
            while let Some(&(i, c)) = it.peek() {
                if c.is_whitespace() || is_sep(c) {
                    break;
                }
                it.next();
                end = i + c.len_utf8();
                match c {
                    '\\' => {
                        if let Some((j, d)) = it.next() {
                            unquoted.push(d);
                            end = j + d.len_utf8();
                        }
                    }
                    '\'' | '"' => {
                        let q = c;
                        let inner = end;
                        let mut inner_end = text.len();
                        end = text.len();
                        while let Some((j, d)) = it.next() {
                            if d == q {
                                inner_end = j;
                                end = j + 1;
                                break;
                            }
                            if q == '"' && d == '\\' {
                                if let Some((k, e)) = it.next() {
                                    if !matches!(e, '"' | '\\' | '$' | '`') {
                                        unquoted.push('\\');
                                    }
                                    unquoted.push(e);
                                    let _ = k;
                                }
                                continue;
                            }
                            unquoted.push(d);
                        }
                        quoted.push((inner, inner_end));
                    }
                    _ => unquoted.push(c),
                }
            }
            toks.push(Tok {
                kind: Kind::Word,
                start,
                end,
                unquoted,
                quoted,
            });
        }
    }
    toks
}

/// A built-in pattern, compiled on first use, and the lowercase substrings without which it
/// cannot match: most commands hold none of them, and compiling these case-insensitive
/// patterns costs more than the rest of a check.
struct Lazy {
    source: &'static str,
    triggers: &'static [&'static str],
    cell: OnceLock<Regex>,
}

impl Lazy {
    const fn new(source: &'static str, triggers: &'static [&'static str]) -> Lazy {
        Lazy {
            source,
            triggers,
            cell: OnceLock::new(),
        }
    }

    /// The regex, when `lower` (the text, lowercased) could hold a match.
    fn get(&self, lower: &str) -> Option<&Regex> {
        if !self.triggers.iter().any(|t| lower.contains(t)) {
            return None;
        }
        // These are constant and covered by the tests below, so they always compile.
        Some(self.cell.get_or_init(|| {
            Regex::new(self.source)
                .unwrap_or_else(|e| panic!("built-in pattern {}: {e}", self.source))
        }))
    }
}

static URL: Lazy = Lazy::new(
    r#"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:'"]*):([^\s/@'"]+)@"#,
    &["://"],
);
static AUTHORIZATION: Lazy = Lazy::new(
    r#"(?i)\b((?:proxy-)?authorization\s*:\s*)(?:(bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256)\s+)?([^\s'"]+)"#,
    &["authorization"],
);
static HEADER: Lazy = Lazy::new(
    r#"(?i)\b((?:x-api-key|api-key|x-auth-token|private-token|job-token|x-vault-token|x-goog-api-key|x-amz-security-token|cookie|set-cookie)\s*:\s*)([^'"\r\n]+)"#,
    &["api-key", "token", "cookie"],
);
/// `NAME=value`; whether NAME names a secret is [`secret_name`]'s to say.
static ASSIGNMENT: Lazy = Lazy::new(
    r#"(?i)(^|[^a-z0-9_.])([a-z_][a-z0-9_.]*)=('[^']*'?|"(?:[^"\\]|\\.)*"?|[^\s&'";|]*)"#,
    &["pass", "pwd", "secret", "token", "key", "credential"],
);
/// SQL password clauses: `PASSWORD 'x'`, `PASSWORD = 'x'`, `PASSWORD('x')`,
/// `SET PASSWORD FOR u = 'x'`, `IDENTIFIED [WITH plugin] BY [PASSWORD] 'x'`; and Redis'
/// `requirepass x` / `masterauth x`.
static SQL: Lazy = Lazy::new(
    r#"(?i)(?:^|[^-+\w])(password|identified\s+(?:with\s+['"`]?[a-z0-9_]+['"`]?\s+)?by(?:\s+password)?)(\s*=\s*(?:password\s*\(\s*)?|\s*\(\s*|\s+for\s+[^=;]+?=\s*(?:password\s*\(\s*)?|\s+)('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|\$\$[^$]*\$\$)|\b(requirepass|masterauth)(\s+)("[^"]*"|'[^']*'|[^\s'";|]+)"#,
    &["password", "identified", "requirepass", "masterauth"],
);
/// `"password": "…"` (JSON) and `pwd: '…'` (JavaScript, mongosh).
static JSON: Lazy = Lazy::new(
    r#"(?i)(["']?\b(?:password|passwd|pwd|secret|token|api_?key|access_token|refresh_token|auth_token|client_secret|private_key|secret_key)["']?\s*:\s*)(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"#,
    &["pass", "pwd", "secret", "token", "key"],
);
static AWS_ID: Lazy = Lazy::new(
    r"\b(?:AKIA|ASIA|AIDA|AROA|ANPA|AGPA)[A-Z0-9]{16}\b",
    &["akia", "asia", "aida", "aroa", "anpa", "agpa"],
);
static TOKENS: Lazy = Lazy::new(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}|glpat-[A-Za-z0-9_-]{20,}|xox[baprs]-[A-Za-z0-9-]{10,}|[sr]k_live_[A-Za-z0-9]{16,}|hv[sbr]\.[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36})",
    &[
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xox",
        "k_live_",
        "hvs.",
        "hvb.",
        "hvr.",
        "aiza",
        "npm_",
    ],
);

/// Whether an assignment's NAME (or a long option's name) names a secret. One of its parts
/// (split at `_`, `.` and `-`, compared without case) contains PASSWORD, PASSWD, PASSPHRASE
/// or CREDENTIAL; ends with PASS, PWD, TOKEN or SECRET; or starts with SECRET. KEY counts in
/// an environment-style name (all capitals: `STRIPE_KEY`, `KEY`) or after a word that makes
/// it a credential (`api_key`, `accessKey`, `client-key`), not in `label_key`, `partition_key`
/// or `Key=` (AWS tags) — keys that are names, not secrets. Words that only look like one are
/// not secrets (`BYPASS`, `COMPASS`, `TOKENIZERS`, `KEYBOARD`), nor are the shell's own `PWD`
/// and `OLDPWD`, nor names whose last part says the value is where the secret is or how it is
/// read, not the secret (`…_FILE`, `…_PATH`, `…_DIR`, `…_ID`, `…_URL`, `…-stdin`, `…-fd`).
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if matches!(upper.as_str(), "PWD" | "OLDPWD") {
        return false;
    }
    let env_style = !name.bytes().any(|c| c.is_ascii_lowercase());
    let parts: Vec<&str> = upper
        .split(['_', '.', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(last) = parts.last() {
        if parts.len() > 1
            && matches!(
                *last,
                "FILE"
                    | "PATH"
                    | "DIR"
                    | "ID"
                    | "URL"
                    | "URI"
                    | "TYPE"
                    | "NAME"
                    | "LENGTH"
                    | "SIZE"
                    | "STDIN"
                    | "FD"
                    | "ENV"
                    | "PROMPT"
                    | "COMMAND"
                    | "CMD"
                    | "HELPER"
                    | "PROVIDER"
                    | "ALIAS"
                    | "ARN"
            )
        {
            return false;
        }
    }
    const NOT_PASS: &[&str] = &[
        "BYPASS",
        "COMPASS",
        "SURPASS",
        "TRESPASS",
        "OVERPASS",
        "UNDERPASS",
        "MULTIPASS",
        "SINGLEPASS",
        "ONEPASS",
        "TWOPASS",
    ];
    /// Words that make a following KEY a credential.
    const KEY_OF: &[&str] = &[
        "API",
        "ACCESS",
        "SECRET",
        "PRIVATE",
        "MASTER",
        "ENCRYPTION",
        "SIGNING",
        "LICENSE",
        "AUTH",
        "CLIENT",
        "ACCOUNT",
        "SERVICE",
        "APP",
        "SHARED",
        "STORAGE",
        "ADMIN",
        "DEPLOY",
        "WEBHOOK",
    ];
    parts.iter().enumerate().any(|(i, p)| {
        let key = || {
            let Some(before) = p.strip_suffix("KEY") else {
                return false;
            };
            if before.is_empty() {
                env_style || (i > 0 && KEY_OF.contains(&parts[i - 1]))
            } else {
                KEY_OF.contains(&before)
                    || (env_style && KEY_OF.iter().any(|k| before.ends_with(k)))
            }
        };
        p.contains("PASSWORD")
            || p.contains("PASSWD")
            || p.contains("PASSPHRASE")
            || p.contains("CREDENTIAL")
            || (p.ends_with("PASS") && !NOT_PASS.contains(p))
            || p.ends_with("PWD")
            || p.ends_with("TOKEN")
            || p.ends_with("SECRET")
            || p.ends_with("SECRETS")
            || (p.starts_with("SECRET") && !p.starts_with("SECRETAR"))
            || key()
    })
}

/// Values that are settings, not secrets: `VisualHostKey=yes`, `USE_TOKEN=1`.
fn is_setting(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "yes" | "no" | "true" | "false" | "on" | "off" | "0" | "1" | "none" | "null"
    )
}

fn assignments(text: &str, re: &Regex, found: &mut Found, depth: usize) -> String {
    re.replace_all(text, |c: &Captures<'_>| {
        let (pre, name, value) = (&c[1], &c[2], &c[3]);
        if secret_name(name) {
            let inner = value.trim_matches(|q| q == '\'' || q == '"');
            if inner.is_empty() || inner == MASK || is_setting(inner) {
                return c[0].to_string();
            }
            found.add(kind::ASSIGNMENT, inner);
            format!("{pre}{name}={MASK}")
        } else if value.contains('=') && depth < MAX_DEPTH {
            // `--from-literal=password=x`, `-o user=u,password=x`.
            format!("{pre}{name}={}", assignments(value, re, found, depth + 1))
        } else {
            c[0].to_string()
        }
    })
    .into_owned()
}

/// Apply the pattern pass to one piece of text.
pub fn apply_patterns(text: &str, extra: &[Regex]) -> String {
    apply_patterns_found(text, extra, &mut Found::default())
}

fn apply_patterns_found(text: &str, extra: &[Regex], found: &mut Found) -> String {
    let lower = text.to_ascii_lowercase();
    let mut s: Cow<'_, str> = Cow::Borrowed(text);
    if let Some(re) = URL.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| {
                if &c[2] == MASK {
                    c[0].to_string()
                } else {
                    found.add(kind::URL, &c[2]);
                    format!("{}:{MASK}@", &c[1])
                }
            })
            .into_owned(),
        );
    }
    if let Some(re) = AUTHORIZATION.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| {
                found.add(kind::HEADER, &c[3]);
                match c.get(2) {
                    Some(scheme) => format!("{}{} {MASK}", &c[1], scheme.as_str()),
                    None => format!("{}{MASK}", &c[1]),
                }
            })
            .into_owned(),
        );
    }
    if let Some(re) = HEADER.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| {
                found.add(kind::HEADER, c[2].trim());
                format!("{}{MASK}", &c[1])
            })
            .into_owned(),
        );
    }
    if lower.contains('=') {
        if let Some(re) = ASSIGNMENT.get(&lower) {
            s = Cow::Owned(assignments(&s, re, found, 0));
        }
    }
    // A SQL password clause needs a statement about a user or role around it.
    let sql_context = [
        "user",
        "role",
        "identified",
        "set password",
        "requirepass",
        "masterauth",
    ]
    .iter()
    .any(|k| lower.contains(k));
    if let Some(re) = SQL.get(&lower).filter(|_| sql_context) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| {
                if let Some(lit) = c.get(3) {
                    let lit = lit.as_str();
                    let (open, close) = if lit.starts_with("$$") {
                        ("$$", "$$")
                    } else {
                        (&lit[..1], &lit[..1])
                    };
                    let inner = &lit[open.len()..lit.len() - close.len()];
                    if inner == MASK || inner.is_empty() {
                        return c[0].to_string();
                    }
                    found.add(kind::SQL, inner);
                    // The character before the keyword was matched too: keep it.
                    let whole = c.get(0).map_or(0, |m| m.start());
                    let kw = c.get(1).map_or(whole, |m| m.start());
                    format!(
                        "{}{}{}{open}{MASK}{close}",
                        &c[0][..kw - whole],
                        &c[1],
                        &c[2]
                    )
                } else {
                    let v = c.get(6).map_or("", |m| m.as_str());
                    let inner = v.trim_matches(|q| q == '\'' || q == '"');
                    if inner == MASK || inner.is_empty() {
                        return c[0].to_string();
                    }
                    found.add(kind::SQL, inner);
                    format!(
                        "{}{}{MASK}",
                        c.get(4).map_or("", |m| m.as_str()),
                        c.get(5).map_or("", |m| m.as_str())
                    )
                }
            })
            .into_owned(),
        );
    }
    // The JSON form needs a quote and a colon.
    if lower.contains(':') && (lower.contains('"') || lower.contains('\'')) {
        if let Some(re) = JSON.get(&lower) {
            s = Cow::Owned(
                re.replace_all(&s, |c: &Captures<'_>| {
                    let (q, inner) = match (c.get(2), c.get(3)) {
                        (Some(m), _) => ('"', m.as_str()),
                        (None, Some(m)) => ('\'', m.as_str()),
                        (None, None) => return c[0].to_string(),
                    };
                    if inner == MASK || inner.is_empty() {
                        return c[0].to_string();
                    }
                    found.add(kind::JSON, inner);
                    format!("{}{q}{MASK}{q}", &c[1])
                })
                .into_owned(),
            );
        }
    }
    for (lazy, k) in [(&AWS_ID, kind::TOKEN), (&TOKENS, kind::TOKEN)] {
        if let Some(re) = lazy.get(&lower) {
            s = Cow::Owned(
                re.replace_all(&s, |c: &Captures<'_>| {
                    found.add(k, &c[0]);
                    MASK.to_string()
                })
                .into_owned(),
            );
        }
    }
    let mut s = s.into_owned();
    for re in extra {
        s = replace_extra(re, &s, found);
    }
    s
}

fn replace_extra(re: &Regex, text: &str, found: &mut Found) -> String {
    let has_secret = re.capture_names().any(|n| n == Some("secret"));
    re.replace_all(text, |c: &Captures<'_>| {
        let whole = c.get(0).map_or("", |m| m.as_str());
        match (has_secret, c.name("secret"), c.get(0)) {
            (true, Some(g), Some(m)) => {
                let (a, b) = (g.start() - m.start(), g.end() - m.start());
                found.add(kind::POLICY, g.as_str());
                format!("{}{MASK}{}", &whole[..a], &whole[b..])
            }
            (true, None, _) => whole.to_string(),
            _ => {
                found.add(kind::POLICY, whole);
                MASK.to_string()
            }
        }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        redact_text(text, &[]).0
    }

    /// Each pair: input, expected output. The secret in every input contains `S3cr`.
    const CASES: &[(&str, &str)] = &[
        ("mysql -uroot -pS3cret db", "mysql -uroot -p*** db"),
        ("mysqldump -p'S3cr et' db", "mysqldump -p*** db"),
        ("mysql -p db", "mysql -p db"),
        ("ssh -p 22 host", "ssh -p 22 host"),
        ("mysql --password=S3cret db", "mysql --password=*** db"),
        ("mongo --password S3cret", "mongo --password ***"),
        ("PGPASSWORD=S3cret psql -h db", "PGPASSWORD=*** psql -h db"),
        ("PGPASSWORD='S3cr et' psql", "PGPASSWORD=*** psql"),
        ("MYSQL_PWD=S3cret mysql", "MYSQL_PWD=*** mysql"),
        ("export GITHUB_TOKEN=S3cret", "export GITHUB_TOKEN=***"),
        (
            "APP_SECRET=S3cret DB_PASSWORD=S3cret2 API_KEY=S3cr3 run",
            "APP_SECRET=*** DB_PASSWORD=*** API_KEY=*** run",
        ),
        (
            "psql postgres://app:S3cret@db1/app",
            "psql postgres://app:***@db1/app",
        ),
        (
            "redis-cli -u redis://:S3cret@cache:6379",
            "redis-cli -u redis://:***@cache:6379",
        ),
        (
            "curl -H 'Authorization: Bearer S3cret.x' https://api",
            "curl -H 'Authorization: Bearer ***' https://api",
        ),
        (
            "curl -H \"Authorization: Basic S3cretb64=\" x",
            "curl -H \"Authorization: Basic ***\" x",
        ),
        (
            "curl -u admin:S3cret https://x",
            "curl -u admin:*** https://x",
        ),
        (
            "curl -uadmin:S3cret https://x",
            "curl -uadmin:*** https://x",
        ),
        ("curl --user=admin:S3cret x", "curl --user=admin:*** x"),
        (
            "aws s3 ls --profile AKIAS3CRETS3CRETS3CR",
            "aws s3 ls --profile ***",
        ),
        (
            "aws configure set aws_secret_access_key S3cretKey",
            "aws configure set aws_secret_access_key ***",
        ),
        (
            "echo aws_secret_access_key=S3cretKey >> creds",
            "echo aws_secret_access_key=*** >> creds",
        ),
        ("sshpass -p S3cret ssh db1", "sshpass -p *** ssh db1"),
        ("sshpass -pS3cret ssh db1", "sshpass -p*** ssh db1"),
        ("redis-cli -a S3cret flushall", "redis-cli -a *** flushall"),
        ("redis-cli --pass S3cret ping", "redis-cli --pass *** ping"),
        (
            "git clone https://x:ghp_S3crS3crS3crS3crS3crS3crS3crS3crS3cr@github.com/a",
            "git clone https://x:***@github.com/a",
        ),
        ("echo ghp_S3crS3crS3crS3crS3crS3crS3crS3crS3cr", "echo ***"),
        ("echo glpat-S3crS3crS3crS3crS3cr", "echo ***"),
        ("echo xoxb-S3cr-S3crS3crS3cr", "echo ***"),
        ("echo xoxp-S3cr-S3crS3crS3cr", "echo ***"),
        (
            "bash -c 'mysql -pS3cret -e \"drop database x\"'",
            "bash -c 'mysql -p*** -e \"drop database x\"'",
        ),
        (
            "ssh db1 \"sshpass -p S3cret ssh db2\"",
            "ssh db1 \"sshpass -p *** ssh db2\"",
        ),
        ("ls; mysql -pS3cret", "ls; mysql -p***"),
        (
            "curl -d '{\"password\":\"S3cret\"}' x",
            "curl -d '{\"password\":\"***\"}' x",
        ),
    ];

    #[test]
    fn redacts_each_form_in_text() {
        for (input, want) in CASES {
            let (got, changed) = redact_text(input, &[]);
            assert_eq!(&got, want, "input: {input}");
            assert_eq!(changed, input != want, "input: {input}");
            assert!(!got.contains("S3cr"), "secret left in {got}");
        }
    }

    /// tests/data/secret-forms.txt: one command line per line, `⏎` for a newline.
    pub(crate) fn secret_forms() -> Vec<String> {
        include_str!("../../tests/data/secret-forms.txt")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| l.replace('⏎', "\n"))
            .collect()
    }

    #[test]
    fn every_secret_form_is_redacted() {
        let forms = secret_forms();
        assert!(forms.len() >= 100, "{} forms", forms.len());
        let mut leaks = Vec::new();
        for form in &forms {
            let r = redact(form, &[]);
            if r.text.to_ascii_lowercase().contains("wq7") || !r.changed() {
                leaks.push(format!("{form}\n   -> {}", r.text));
            }
            assert!(
                r.secrets.iter().all(|s| form.contains(s.as_str())),
                "{form}: {:?}",
                r.secrets
            );
            // Idempotent, and a second pass finds nothing new.
            let again = redact(&r.text, &[]);
            assert_eq!(again.text, r.text, "{form}");
            assert!(!again.changed(), "{form}: {:?}", again.kinds);
        }
        assert!(
            leaks.is_empty(),
            "{} leaks:\n{}",
            leaks.len(),
            leaks.join("\n")
        );
    }

    #[test]
    fn kinds_name_what_was_removed() {
        let k = |t: &str| redact(t, &[]).kinds.into_iter().collect::<Vec<_>>();
        assert_eq!(k("mysql -pX1 db"), ["option"]);
        assert_eq!(k("htpasswd -b f u pw"), ["argument"]);
        assert_eq!(k("echo pw | sudo -S id"), ["stdin"]);
        assert_eq!(k("psql postgres://a:pw@h/d"), ["url"]);
        assert_eq!(k("export DB_PASS=pw"), ["assignment"]);
        assert_eq!(k("psql -c \"alter user a password 'pw'\""), ["sql"]);
        assert_eq!(k("curl -H 'Authorization: Bearer pw' x"), ["header"]);
        assert_eq!(k("ls -la"), Vec::<&str>::new());
    }

    #[test]
    fn secrets_fed_on_stdin() {
        assert_eq!(r("echo pw1 | sudo -S id"), "echo *** | sudo -S id");
        assert_eq!(r("echo -n pw1 | sudo -S id"), "echo -n *** | sudo -S id");
        assert_eq!(r("sudo -S id <<< pw1"), "sudo -S id <<< ***");
        assert_eq!(
            r("chpasswd <<EOF\nbob:pw1\nEOF\nls"),
            "chpasswd <<EOF\n***\nEOF\nls"
        );
        // Not a password reader: untouched.
        assert_eq!(r("echo hello | sudo tee /x"), "echo hello | sudo tee /x");
        assert_eq!(r("cat users | chpasswd"), "cat users | chpasswd");
        assert_eq!(r("echo hi | grep -S x"), "echo hi | grep -S x");
    }

    #[test]
    fn options_count_only_where_they_mean_a_secret() {
        for c in [
            "docker run -p 8080:80 nginx",
            "podman run -p 5432:5432 -e POSTGRES_DB=app postgres",
            "helm install app ./chart --set image.tag=1.2",
            "openssl req -new -key k.pem -passin env:KEYPASS -out r.csr",
            "openssl rsa -in k.pem -passin file:/run/pw -out k2.pem",
            "ldapsearch -x -b dc=example,dc=com uid=bob",
            "smbclient //fs/share -U bob",
            "curl -u admin https://x",
            "sudo -u postgres psql",
            "passwd bob",
            "htpasswd -c /etc/nginx/htpasswd alice",
            "vault kv get secret/db",
            "az vm list -g rg",
            "ssh -p 2222 db1",
            "mongosh --port 27017",
            "mysql --password shop",
            "svgcleaner --multipass in.svg out.svg",
            "phpcpd --min-tokens 5 src",
            "kubectl label po web label_key=label_value",
            "aws sns tag-resource --resource-arn a --tags Key=env,Value=prod",
            "ssh -o VisualHostKey=yes db1",
            "ffprobe -of default=noprint_wrappers=1:nokey=1 in.mp4",
            "gcloud kms decrypt --key=key_name --keyring=ring",
            "systemd-ask-password \"Password:\"",
            "docker login --password-stdin -u bob registry.example.com",
            "cd $OLDPWD && PWD=/srv ls",
        ] {
            assert_eq!(r(c), c);
        }
    }

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASS",
            "SMTP_PASSWD",
            "ADMIN_PWD",
            "MYSQL_PWD",
            "PGPASSWORD",
            "api_key",
            "STRIPE_KEY",
            "GITHUB_TOKEN",
            "APP_SECRET",
            "client_secret",
            "AWS_SECRET_ACCESS_KEY",
            "GOOGLE_CREDENTIALS",
            "db.password",
            "keyStorePassword",
            "apiKey",
            "SECRET_KEY_BASE",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "PWD",
            "OLDPWD",
            "KEYBOARD",
            "KEYMAP",
            "XKB_KEYMAP",
            "BYPASS_CACHE",
            "TOKENIZERS_PARALLELISM",
            "PGPASSFILE",
            "SSH_KEY_PATH",
            "TOKEN_FILE",
            "AWS_ACCESS_KEY_ID",
            "PATH",
            "HOME",
            "MONKEY",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }

    #[test]
    fn scrub_replaces_known_values() {
        let secrets: BTreeSet<String> = ["Tulip-77".to_string(), "x".to_string()].into();
        let mut t = "run Tulip-77 and x".to_string();
        assert!(scrub(&mut t, &secrets));
        assert_eq!(t, "run *** and x");
    }

    #[test]
    fn redaction_is_idempotent() {
        for (input, _) in CASES {
            let once = r(input);
            assert_eq!(r(&once), once, "input: {input}");
        }
    }

    #[test]
    fn mysql_p_only_when_attached() {
        assert_eq!(r("mysql -p -h db1 shop"), "mysql -p -h db1 shop");
        assert_eq!(r("tar -p -xf a"), "tar -p -xf a");
        assert_eq!(r("mkdir -pv /x"), "mkdir -pv /x");
    }

    #[test]
    fn redacts_argv_words() {
        let argv: Vec<String> = [
            "curl",
            "-H",
            "Authorization: Bearer S3cret",
            "-u",
            "me:S3cret",
            "https://u:S3cret@x/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (out, changed) = redact_argv(&argv, &[]);
        assert!(changed);
        assert_eq!(
            out,
            [
                "curl",
                "-H",
                "Authorization: Bearer ***",
                "-u",
                "me:***",
                "https://u:***@x/"
            ]
        );
        let argv: Vec<String> = ["mysql", "-pS3cret", "-p", "db"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(redact_argv(&argv, &[]).0, ["mysql", "-p***", "-p", "db"]);
        let argv: Vec<String> = ["sh", "-c", "PGPASSWORD=S3cret psql"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            redact_argv(&argv, &[]).0,
            ["sh", "-c", "PGPASSWORD=*** psql"]
        );
        let plain: Vec<String> = ["ls", "-la"].iter().map(|s| s.to_string()).collect();
        assert_eq!(redact_argv(&plain, &[]), (plain.clone(), false));
    }

    #[test]
    fn policy_patterns() {
        let whole = Regex::new(r"vault:[a-z0-9]+").unwrap_or_else(|e| panic!("{e}"));
        let group = Regex::new(r"--license (?P<secret>\S+)").unwrap_or_else(|e| panic!("{e}"));
        let (out, changed) = redact_text("tool --license S3cret vault:abc123", &[whole, group]);
        assert!(changed);
        assert_eq!(out, "tool --license *** ***");
    }

    #[test]
    fn ordinary_commands_are_untouched() {
        for c in [
            "rm -rf /var/lib/postgresql/15/main",
            "kubectl delete ns prod --context=x",
            "git push --force origin main",
            "psql -h db1 -c 'drop table users'",
            "curl https://example.com:8443/path",
            "echo 'unterminated",
            "",
        ] {
            assert_eq!(r(c), c);
        }
    }
}
