//! Redaction of secrets from command text and argv words, before anything is written.
//!
//! Two passes, both pure:
//!
//! 1. **Word rules**, which need to know the program: `mysql -pSECRET` (MySQL attaches the
//!    password; `mysql -p db` prompts and `db` is a database, so it is kept), `sshpass -p x`,
//!    `redis-cli -a x`, `curl -u user:pass`, `aws configure set aws_secret_access_key x`, and
//!    `--password x` / `--token x` style options for every program. Command text is split into
//!    words the way a shell would (quotes, backslashes, `;`, `|`, `&&`, `(`, `)`); quoted words
//!    that contain a whole command (`bash -c '…'`, `ssh host "…"`) are redacted recursively.
//! 2. **Patterns** over the text and every word: `scheme://user:pass@`, `Authorization:` and
//!    other credential headers, `*_TOKEN=` / `*_SECRET=` / `*_PASSWORD=` / `*_KEY=` /
//!    `PGPASSWORD=` / `MYSQL_PWD=` assignments, `"password":"…"` in JSON payloads, AWS access key
//!    ids (`AKIA…`), GitHub (`ghp_…`, `github_pat_…`), GitLab (`glpat-…`) and Slack (`xoxb-…`)
//!    tokens, and the policy's own patterns. A policy pattern with a capture group named
//!    `secret` has only that group replaced; otherwise the whole match is.
//!
//! Every secret becomes `***`. Redaction errs towards removing too much.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::OnceLock;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Nesting depth up to which quoted commands inside commands are redacted recursively.
const MAX_DEPTH: usize = 4;

/// Redact a command line. Returns the text and whether anything was removed.
pub fn redact_text(text: &str, extra: &[Regex]) -> (String, bool) {
    let out = redact_text_at(text, extra, 0);
    let changed = out != text;
    (out, changed)
}

/// Redact each word of an argv (one command). Returns the words and whether anything was
/// removed.
pub fn redact_argv(argv: &[String], extra: &[Regex]) -> (Vec<String>, bool) {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let actions = word_actions(&words);
    let mut changed = false;
    let out = argv
        .iter()
        .zip(actions)
        .map(|(w, a)| {
            let r = match a {
                WordAction::Keep => Cow::Borrowed(w.as_str()),
                WordAction::Whole => Cow::Borrowed(MASK),
                WordAction::After(n) => Cow::Owned(format!("{}{MASK}", &w[..n])),
            };
            let r = if r.contains(char::is_whitespace) {
                Cow::Owned(redact_text_at(&r, extra, 1))
            } else {
                Cow::Owned(apply_patterns(&r, extra))
            };
            if r != w.as_str() {
                changed = true;
            }
            r.into_owned()
        })
        .collect();
    (out, changed)
}

/// Redact a free-text field (a reason, a ticket): patterns only.
pub fn redact_free_text(text: &str, extra: &[Regex]) -> (String, bool) {
    redact_text(text, extra)
}

fn redact_text_at(text: &str, extra: &[Regex], depth: usize) -> String {
    let toks = lex(text);
    // Word rules, per simple command (words between separators).
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < toks.len() {
        let mut j = i;
        while j < toks.len() && !matches!(toks[j].kind, Kind::Sep) {
            j += 1;
        }
        let seg: Vec<&Tok> = toks[i..j]
            .iter()
            .filter(|t| matches!(t.kind, Kind::Word))
            .collect();
        let words: Vec<&str> = seg.iter().map(|t| t.unquoted.as_str()).collect();
        let actions = word_actions(&words);
        let mut k = 0;
        for t in &toks[i..j] {
            match t.kind {
                Kind::Word => {
                    let raw = &text[t.start..t.end];
                    match actions[k] {
                        WordAction::Keep => {
                            if depth < MAX_DEPTH && !t.quoted.is_empty() {
                                out.push_str(&redact_quoted(text, t, extra, depth));
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
                    }
                    k += 1;
                }
                _ => out.push_str(&text[t.start..t.end]),
            }
        }
        if j < toks.len() {
            out.push_str(&text[toks[j].start..toks[j].end]);
        }
        i = j + 1;
    }
    apply_patterns(&out, extra)
}

/// A word with quoted parts: redact the inside of each quoted part as a command of its own.
fn redact_quoted(text: &str, t: &Tok, extra: &[Regex], depth: usize) -> String {
    let mut s = String::new();
    let mut at = t.start;
    for &(a, b) in &t.quoted {
        s.push_str(&text[at..a]);
        s.push_str(&redact_text_at(&text[a..b], extra, depth + 1));
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

/// Long options whose value is a secret (`--password x`, `--password=x`).
const SECRET_LONG: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "secret",
    "api-key",
    "apikey",
    "api-token",
    "access-token",
    "auth-token",
    "client-secret",
    "secret-key",
    "secret-access-key",
    "http-password",
    "proxy-password",
    "ftp-password",
    "auth",
];

fn base(word: &str) -> &str {
    let w = word.trim_start_matches('\\');
    w.rsplit('/').next().unwrap_or(w)
}

fn is_mysql(p: &str) -> bool {
    p.starts_with("mysql") || p.starts_with("mariadb")
}

fn is_redis(p: &str) -> bool {
    matches!(p, "redis-cli" | "valkey-cli" | "keydb-cli")
}

/// Decide, for each word of one simple command, what to hide.
fn word_actions(words: &[&str]) -> Vec<WordAction> {
    let mut actions = vec![WordAction::Keep; words.len()];
    let (mut mysql, mut sshpass, mut redis, mut curl, mut aws) =
        (false, false, false, false, false);
    // What the next word is: a secret, or `user:secret`.
    #[derive(PartialEq)]
    enum Next {
        Plain,
        Secret,
        UserPass,
    }
    let mut next = Next::Plain;
    for (i, w) in words.iter().enumerate() {
        match std::mem::replace(&mut next, Next::Plain) {
            Next::Secret => {
                actions[i] = WordAction::Whole;
                continue;
            }
            Next::UserPass => {
                if let Some(c) = w.find(':') {
                    actions[i] = WordAction::After(c + 1);
                }
                continue;
            }
            Next::Plain => {}
        }
        let b = base(w);
        mysql |= is_mysql(b);
        sshpass |= b == "sshpass";
        redis |= is_redis(b);
        curl |= b == "curl";
        aws |= b == "aws";
        let next_is_value = words.get(i + 1).is_some_and(|n| !n.starts_with('-'));
        if let Some(opt) = w.strip_prefix("--") {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (opt, None),
            };
            let lname = name.to_ascii_lowercase();
            if SECRET_LONG.contains(&lname.as_str()) {
                match value {
                    Some(v) if !v.is_empty() => actions[i] = WordAction::After(name.len() + 3),
                    Some(_) => {}
                    None if next_is_value => next = Next::Secret,
                    None => {}
                }
            } else if curl && matches!(name, "user" | "proxy-user") {
                match value {
                    Some(v) => {
                        if let Some(c) = v.find(':') {
                            actions[i] = WordAction::After(name.len() + 3 + c + 1);
                        }
                    }
                    None => next = Next::UserPass,
                }
            }
            continue;
        }
        if mysql && w.len() > 2 && w.starts_with("-p") {
            actions[i] = WordAction::After(2);
        } else if sshpass && w.starts_with("-p") {
            if w.len() > 2 {
                actions[i] = WordAction::After(2);
            } else {
                next = Next::Secret;
            }
        } else if redis && *w == "-a" {
            next = Next::Secret;
        } else if curl && (w.starts_with("-u") || w.starts_with("-U")) {
            if w.len() == 2 {
                next = Next::UserPass;
            } else if let Some(c) = w.find(':') {
                actions[i] = WordAction::After(c + 1);
            }
        } else if aws
            && matches!(
                w.to_ascii_lowercase().as_str(),
                "aws_secret_access_key" | "aws_session_token"
            )
        {
            next = Next::Secret;
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
static ASSIGNMENT: Lazy = Lazy::new(
    r#"(?i)\b([a-z0-9_]*(?:password|passwd|pwd|secret|token|_key|apikey|credentials?)=)('[^']*'?|"(?:[^"\\]|\\.)*"?|[^\s&'";|]+)"#,
    &[
        "password=",
        "passwd=",
        "pwd=",
        "secret=",
        "token=",
        "key=",
        "credential=",
        "credentials=",
    ],
);
static JSON: Lazy = Lazy::new(
    r#"(?i)("(?:password|passwd|secret|token|api_?key|access_token|refresh_token|client_secret|private_key)"\s*:\s*")((?:[^"\\]|\\.)*)(")"#,
    &["\""],
);
static AWS_ID: Lazy = Lazy::new(
    r"\b(?:AKIA|ASIA|AIDA|AROA|ANPA|AGPA)[A-Z0-9]{16}\b",
    &["akia", "asia", "aida", "aroa", "anpa", "agpa"],
);
static TOKENS: Lazy = Lazy::new(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}|glpat-[A-Za-z0-9_-]{20,}|xox[baprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,})",
    &[
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xox",
        "sk_live_",
    ],
);

/// Apply the pattern pass to one piece of text.
pub fn apply_patterns(text: &str, extra: &[Regex]) -> String {
    use std::borrow::Cow;
    let lower = text.to_ascii_lowercase();
    let mut s: Cow<'_, str> = Cow::Borrowed(text);
    if let Some(re) = URL.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| {
                if &c[2] == MASK {
                    c[0].to_string()
                } else {
                    format!("{}:{MASK}@", &c[1])
                }
            })
            .into_owned(),
        );
    }
    if let Some(re) = AUTHORIZATION.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| match c.get(2) {
                Some(scheme) => format!("{}{} {MASK}", &c[1], scheme.as_str()),
                None => format!("{}{MASK}", &c[1]),
            })
            .into_owned(),
        );
    }
    if let Some(re) = HEADER.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| format!("{}{MASK}", &c[1]))
                .into_owned(),
        );
    }
    if let Some(re) = ASSIGNMENT.get(&lower) {
        s = Cow::Owned(
            re.replace_all(&s, |c: &Captures<'_>| format!("{}{MASK}", &c[1]))
                .into_owned(),
        );
    }
    // The JSON form needs a quoted key: only look when one of the key words is present too.
    if ["pass", "secret", "token", "key"]
        .iter()
        .any(|k| lower.contains(k))
    {
        if let Some(re) = JSON.get(&lower) {
            s = Cow::Owned(
                re.replace_all(&s, |c: &Captures<'_>| format!("{}{MASK}{}", &c[1], &c[3]))
                    .into_owned(),
            );
        }
    }
    if let Some(re) = AWS_ID.get(&lower) {
        s = Cow::Owned(re.replace_all(&s, MASK).into_owned());
    }
    if let Some(re) = TOKENS.get(&lower) {
        s = Cow::Owned(re.replace_all(&s, MASK).into_owned());
    }
    let mut s = s.into_owned();
    for re in extra {
        s = replace_extra(re, &s);
    }
    s
}

fn replace_extra(re: &Regex, text: &str) -> String {
    let has_secret = re.capture_names().any(|n| n == Some("secret"));
    re.replace_all(text, |c: &Captures<'_>| {
        let whole = c.get(0).map_or("", |m| m.as_str());
        match (has_secret, c.name("secret"), c.get(0)) {
            (true, Some(g), Some(m)) => {
                let (a, b) = (g.start() - m.start(), g.end() - m.start());
                format!("{}{MASK}{}", &whole[..a], &whole[b..])
            }
            (true, None, _) => whole.to_string(),
            _ => MASK.to_string(),
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
